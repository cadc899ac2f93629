"""The one SQLAlchemy model, a module per aggregate."""

from .accounts import (
    LINK_PURPOSES,
    SIGN_IN_PROVIDERS,
    AllianceSignIn,
    CalendarFeed,
    InviteToken,
    LoginSession,
    RecoveryCode,
    TwoFactor,
    UserIdentity,
)
from .agreements import AGREEMENT_STATUSES, Agreement, Signature
from .audit import AuditCheckpoint, AuditEvent, AuditLogHead
from .base import (
    CHARGING_MODELS,
    DESIGNATIONS,
    PHASES,
    ROLES,
    ROUTES,
    STANDARDS,
    SUPPORT_KINDS,
    UTCDateTime,
    mask_to_standards,
    standards_to_mask,
    utcnow,
)
from .deployments import (
    DEPLOYMENT_STATUSES,
    LIVE_STATUSES,
    RESPONSE_PARTIES,
    VARIATION_STATUSES,
    VISIT_STATUSES,
    Deployment,
    DeploymentResponse,
    DeploymentSchool,
    Variation,
    Visit,
    visit_action,
)
from .evaluations import (
    EVALUATION_KINDS,
    RATINGS,
    Evaluation,
    EvaluationDraft,
    OutcomeRating,
    PersonRating,
)
from .finance import (
    INVOICE_STATUSES,
    PAYERS,
    PO_NUMBER_MAX,
    AllianceFinance,
    AllowanceUse,
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    Payment,
    RateCard,
)
from .notifications import Notification, OutboxEmail, WorkerHeartbeat
from .people import LeaderProfile, Specialism, Unavailability, User, leader_specialism
from .plans import ACTION_STATUSES, Action, ActionPlan, Outcome, PlanRevision
from .requests import REQUEST_STATUSES, RequestSchool, SupportRequest
from .schools import EIP, Alliance, Board, LocalAuthority, School, SchoolNetwork, Trust
from .submissions import FormDraft, IdempotencyKey

__all__ = [
    "ACTION_STATUSES", "AGREEMENT_STATUSES", "CHARGING_MODELS", "DEPLOYMENT_STATUSES",
    "DESIGNATIONS", "EIP", "EVALUATION_KINDS", "INVOICE_STATUSES", "LIVE_STATUSES", "PHASES",
    "RATINGS", "REQUEST_STATUSES", "RESPONSE_PARTIES", "ROLES", "ROUTES", "STANDARDS",
    "SUPPORT_KINDS", "Action", "ActionPlan", "Agreement", "Alliance", "AllowanceUse",
    "AuditCheckpoint", "AuditEvent", "AuditLogHead", "Board", "Deployment",
    "CalendarFeed", "DeploymentResponse", "DeploymentSchool", "Evaluation", "EvaluationDraft",
    "Invoice",
    "InviteToken", "InvoiceLine", "LeaderProfile", "LocalAuthority", "Notification", "Outcome",
    "OutcomeRating", "OutboxEmail", "Payment", "PersonRating", "PlanRevision", "RateCard",
    "RequestSchool", "School", "SchoolNetwork", "Signature", "Specialism", "SupportRequest",
    "Trust", "UTCDateTime", "Unavailability",
    "User", "VARIATION_STATUSES", "VISIT_STATUSES", "Variation", "Visit", "leader_specialism",
    "visit_action",
    "mask_to_standards", "standards_to_mask", "utcnow",
]
__all__ += ["PAYERS", "InvoiceCounter"]  # finance (issue 7)
__all__ += ["PO_NUMBER_MAX", "AllianceFinance"]  # finance exports and VAT (issue 21)
__all__ += ["WorkerHeartbeat"]  # the job worker (issue 17)
__all__ += ["LINK_PURPOSES", "LoginSession"]  # trust at the edges (issue 13)
__all__ += ["FormDraft", "IdempotencyKey"]  # one-time keys and kept answers (issue 13)
from .reminders import AllianceSettings, ReminderSent  # noqa: E402 - reminders (issue 17)

__all__ += ["AllianceSettings", "ReminderSent"]
__all__ += ["SIGN_IN_PROVIDERS", "AllianceSignIn", "RecoveryCode", "TwoFactor",
            "UserIdentity"]  # sign-in with school accounts, two-factor (issue 21)
