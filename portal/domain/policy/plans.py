"""Who may change the plan, log first contact and visits, and ask for or decide extra days, and
when. (Step 5, delivery.)

Follows the policy convention (see ``portal/domain/policy/__init__.py``; the worked example is
``evaluations.py``):

* :func:`actions` answers every delivery action for a user and a deployment (``edit_plan``,
  ``log_first_contact``, ``log_visit``, ``plan_visit``, ``request_variation``) or a variation
  (``approve``, ``decline``); :func:`visit_actions` those on a planned visit (``deliver``,
  ``cancel``);
* :func:`waiting` (deployments) and :func:`waiting_variation` (variations) are the Python form of
  the "waiting for me" lists; each entry has its SQL twin right below the predicate it mirrors
  (``waiting_first_contact``, ``waiting_approve``). ``tests/unit/test_policy_plans.py`` checks
  that both forms agree for every user and object of a test world.

The facts a decision needs besides the object's own columns (the receiving schools, whether a
request for extra days is pending) are loaded once by :func:`facts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, and_, exists, false, select

from ...extensions import db
from ...formatting import days as days_in_words
from ...formatting import uk_date
from ...models import Agreement, Deployment, RequestSchool, User, Variation, Visit
from .. import access
from . import (
    LEADER_ROLES,
    Decision,
    allow,
    forbid,
    leads_or_commissions,
    not_now,
    receiving_school_ids,
)

OVERSEERS = ("admin", "director")
# Where a deployment is open for delivery work (the plan can change, visits be logged).
DELIVERY_STATUSES = ("active",)
# Where first contact can be logged: confirmed (the agreement being signed) or active.
CONTACT_STATUSES = ("agreement", "active")
# Where the delivery panel shows: from confirmation (the agreement) to the end.
PANEL_STATUSES = ("agreement", "active", "evaluation", "completed", "ended_early")
ACTIONS = ("edit_plan", "log_first_contact", "log_visit", "plan_visit", "request_variation")
VARIATION_ACTIONS = ("approve", "decline")
VISIT_ACTIONS = ("deliver", "cancel")
ONE_PENDING_VARIATION = "A request for extra days is already awaiting approval."


@dataclass(frozen=True)
class Facts:
    """What the delivery rules read about one deployment besides its own columns."""

    receiving: frozenset[int]  # the receiving schools' ids
    pending_variation: bool  # a request for extra days awaits approval
    # (version, half days) of an amendment out for signature that changes the days, if any
    amendment: tuple[int, int] | None = None
    # half days agreed that wait for every party to sign the commission's new agreement
    commission_hold: int = 0


def facts(d: Deployment, newest_variation: Variation | None | bool = False) -> Facts:
    """``newest_variation``: the deployment's newest request for extra days (None: it has
    none), when the caller has read it; a pending one is always the newest, since no other
    can be asked for while one waits (:data:`ONE_PENDING_VARIATION`)."""
    receiving = receiving_school_ids(d)
    if newest_variation is False:
        pending = db.session.scalar(select(Variation.id).where(
            Variation.deployment_id == d.id, Variation.status == "pending").limit(1)) is not None
    else:
        pending = isinstance(newest_variation, Variation) and \
            newest_variation.status == "pending"
    amendment = None
    if d.status in DELIVERY_STATUSES:
        latest = db.session.execute(
            select(Agreement.version, Agreement.status, Agreement.content)
            .where(Agreement.deployment_id == d.id)
            .order_by(Agreement.version.desc()).limit(1)).first()
        if latest is not None and latest.status in ("draft", "signing"):
            days = int((latest.content or {}).get("half_days") or 0)
            if days != d.half_days_agreed:
                amendment = (latest.version, days)
    hold = 0
    if d.commission_id is not None and d.status in DELIVERY_STATUSES:
        from .. import finance

        hold = finance.commission_hold(d)
    return Facts(receiving=frozenset(receiving), pending_variation=pending,
                 amendment=amendment, commission_hold=hold)


def extra_days_held(half_days: int, who: str = "") -> str:
    """ "The 2 extra days can be used once everyone has signed the commission's new
    agreement." (``who``: "for Jo Bloggs" on the commission's page)."""
    from ...formatting import half_days_number

    what = "The extra half day" if half_days == 1 else \
        f"The {half_days_number(half_days)} extra {'day' if half_days == 2 else 'days'}"
    return (f"{what}{' ' + who if who else ''} can be used once everyone has signed the "
            "commission's new agreement.")


def commission_hold_message(d: Deployment, f: Facts | None = None) -> str | None:
    """What the page says while extra days wait for the commission's new agreement, or None."""
    f = f if f is not None else facts(d)
    return extra_days_held(f.commission_hold) if f.commission_hold else None


def days_waiting_for_signatures(d: Deployment, f: Facts | None = None) -> str | None:
    """What the page says while an amendment of the days is out for signature, or None."""
    f = f if f is not None else facts(d)
    if f.amendment is None:
        return None
    version, days = f.amendment
    return (f"The days changed to {days_in_words(days)} in version {version} of the agreement, "
            "which is waiting for every party's signature. Until then visits can use only the "
            f"{days_in_words(d.half_days_agreed)} of the signed agreement, and only those are "
            "invoiced." + (" The extra days also wait for everyone to sign the commission's "
                           "new agreement." if d.commission_id is not None else ""))


def within_signed_days(d: Deployment, half_days: int, free: int,
                       f: Facts | None = None) -> Decision:
    """A visit of ``half_days`` fits the days of the last fully signed agreement (``free`` of
    them are left, counting visits already planned)."""
    if half_days <= free:
        return allow()
    f = f if f is not None else facts(d)
    left = days_in_words(max(free, 0))
    if f.commission_hold:
        return not_now(f"This visit would go beyond the days of the signed agreements ({left} "
                       "left, counting visits already planned). "
                       + (commission_hold_message(d, f) or ""))
    if f.amendment is not None and f.amendment[1] > d.half_days_agreed:
        return not_now(f"This visit would go beyond the days of the signed agreement ({left} "
                       f"left, counting visits already planned). The extra days wait for every "
                       f"party to sign version {f.amendment[0]} of the agreement.")
    return not_now(f"This visit would go beyond the agreed days ({left} left, counting "
                   "visits already planned). Ask for a variation: the receiving headteacher and "
                   "the director must both agree extra days first.")


def shows_delivery(d: Deployment) -> bool:
    """The deployment has a delivery story to show (first contact, visits, the plan)."""
    return d.status in PANEL_STATUSES


def sees_contact_clock(d: Deployment, user: User) -> bool:
    """The 7-day first-contact clock is the leader's and the co-ordinator's to watch."""
    return d.confirmed_at is not None and user.role in ("sle", *OVERSEERS)


# ------------------------------------------------------------------- deployment predicates


def is_editor(d: Deployment, user: User) -> bool:
    """The deployment's own system leader (or the commissioning NLE/LLE) edits its plan."""
    return leads_or_commissions(d, user)


def edit_plan(d: Deployment, user: User, _f: Facts | None = None) -> Decision:
    """Change the action plan (add, save, remove, move rows; next steps and notes; start it)."""
    if not is_editor(d, user):
        return forbid("Only the deployment's system leader can change its plan.")
    if d.status not in DELIVERY_STATUSES:
        return not_now("The plan can be changed only while the deployment is active.")
    return allow()


def log_first_contact(d: Deployment, user: User, _f: Facts | None = None) -> Decision:
    if not is_editor(d, user):
        return forbid("Only the deployment's system leader logs first contact.")
    if d.first_contact_at is not None:
        return not_now("First contact is already logged.")
    if d.status not in CONTACT_STATUSES:
        return not_now("First contact can be logged only from confirmation until the end of "
                       "delivery.")
    return allow()


def log_visit(d: Deployment, user: User, _f: Facts | None = None) -> Decision:
    if not is_editor(d, user):
        return forbid("Only the deployment's system leader logs visits.")
    if d.status not in DELIVERY_STATUSES:
        return not_now("Visits can be logged only while the deployment is active.")
    return allow()


def plan_visit(d: Deployment, user: User, _f: Facts | None = None) -> Decision:
    """Plan a visit ahead: from confirmation (the agreement being signed) until the end of
    delivery. A planned visit counts no days until it is logged as delivered."""
    if not is_editor(d, user):
        return forbid("Only the deployment's system leader plans visits.")
    if d.status not in CONTACT_STATUSES:
        return not_now("Visits can be planned only from confirmation until the end of "
                       "delivery.")
    return allow()


def request_variation(d: Deployment, user: User, f: Facts | None = None) -> Decision:
    """Ask for extra days: the leader, the co-ordinator or the director, one request at a time."""
    if not (is_editor(d, user) or user.role in OVERSEERS):
        return forbid("Only the system leader, the co-ordinator or the director can ask for "
                      "extra days.")
    if d.status not in DELIVERY_STATUSES:
        return not_now("Extra days can be asked for only while the deployment is active.")
    f = f if f is not None else facts(d)
    if f.pending_variation:
        return not_now(ONE_PENDING_VARIATION)
    return allow()


_PREDICATES = {"edit_plan": edit_plan, "log_first_contact": log_first_contact,
               "log_visit": log_visit, "plan_visit": plan_visit,
               "request_variation": request_variation}


# ------------------------------------------------------------------------ visit predicates


def deliver(v: Visit, user: User, today: date) -> Decision:
    """Log a planned visit as delivered: the leader, once the day has come, while active."""
    d = v.deployment
    if not is_editor(d, user):
        return forbid("Only the deployment's system leader logs visits.")
    if v.status != "planned":
        return not_now("This visit is already logged as delivered.")
    if d.status not in DELIVERY_STATUSES:
        return not_now("Visits can be logged only while the deployment is active.")
    if v.visit_date > today:
        return not_now(f"This visit can be logged as delivered from {uk_date(v.visit_date)}.")
    return allow()


def cancel(v: Visit, user: User, today: date) -> Decision:
    """Take a planned visit off the plan (a delivered one stays: its days count)."""
    d = v.deployment
    if not is_editor(d, user):
        return forbid("Only the deployment's system leader plans visits.")
    if v.status != "planned":
        return not_now("A delivered visit cannot be cancelled.")
    if d.status not in CONTACT_STATUSES:
        return not_now("Visits can be changed only until the end of delivery.")
    return allow()


def visit_actions(v: Visit, user: User, today: date | None = None) -> dict[str, Decision]:
    """Every action on one visit for this user (``deliver``, ``cancel``)."""
    today = today or date.today()
    return {"deliver": deliver(v, user, today), "cancel": cancel(v, user, today)}


# -------------------------------------------------------------------- variation predicates


def approver_party(v: Variation, user: User, f: Facts) -> str | None:
    """Which approval is this user's: "head" (a receiving school's headteacher), "director",
    or None (not theirs)."""
    if user.role == "headteacher" and user.school_id in f.receiving:
        return "head"
    if user.role == "director":
        return "director"
    return None


NOT_AN_APPROVER = "Only the receiving headteacher and the director approve extra days."


def approve(v: Variation, user: User, f: Facts) -> Decision:
    """One party's approval; the agreed days rise once both the head and the director have."""
    party = approver_party(v, user, f)
    if party is None:
        return forbid(NOT_AN_APPROVER)
    if v.status != "pending":
        return not_now(f"This request is already {v.status}.")
    if getattr(v, f"{party}_approved_by_id") is not None:
        return not_now("You have already approved this request.")
    return allow()


def decline(v: Variation, user: User, f: Facts) -> Decision:
    """Either party declines a pending request (even after approving it: the other party has
    not yet, so the days have not risen)."""
    if approver_party(v, user, f) is None:
        return forbid(NOT_AN_APPROVER)
    if v.status != "pending":
        return not_now(f"This request is already {v.status}.")
    return allow()


_VARIATION_PREDICATES = {"approve": approve, "decline": decline}


def actions(obj: Deployment | Variation, user: User,
            f: Facts | None = None) -> dict[str, Decision]:
    """Every delivery action for this user on this deployment, or on this variation."""
    if isinstance(obj, Variation):
        f = f if f is not None else facts(obj.deployment)
        return {name: p(obj, user, f) for name, p in _VARIATION_PREDICATES.items()}
    f = f if f is not None else facts(obj)
    return {name: p(obj, user, f) for name, p in _PREDICATES.items()}


# ------------------------------------------------------------------- waiting for me (Python)


def waiting(d: Deployment, user: User, f: Facts | None = None) -> dict[str, bool]:
    """The "waiting for me" entries this deployment makes for this user (Python form).

    ``first_contact``: confirmed, and the leader has not yet logged first contact. It is the
    leader's to do (:func:`log_first_contact` allowed) and the overseers' to watch (the 7-day
    target), so it lists for both. ``log_first_contact``: the leader's part alone (their
    "Needs your action" item).
    """
    confirmed_no_contact = d.confirmed_at is not None and d.first_contact_at is None \
        and d.status in CONTACT_STATUSES
    return {
        "first_contact": confirmed_no_contact and (
            user.role in OVERSEERS or log_first_contact(d, user).allowed),
        "log_first_contact": log_first_contact(d, user).allowed,
    }


def waiting_variation(v: Variation, user: User, f: Facts | None = None) -> dict[str, bool]:
    """The "waiting for me" entries this variation makes for this user (Python form)."""
    return {"approve": actions(v, user, f)["approve"].allowed}


# ---------------------------------------------------------------------- the SQL twins


def waiting_first_contact(user: User) -> ColumnElement[bool]:
    """SQL twin of "first_contact" (the home panel "Waiting for first contact")."""
    clause = and_(Deployment.status.in_(CONTACT_STATUSES), Deployment.first_contact_at.is_(None),
                  Deployment.confirmed_at.is_not(None))
    if user.role in OVERSEERS:
        return clause
    if user.role == "sle":
        return and_(clause, access.led_or_commissioned(user.id))
    return false()


def waiting_log_first_contact(user: User) -> ColumnElement[bool]:
    """SQL twin of :func:`log_first_contact` allowed (the leader's "Log first contact" item)."""
    if user.role not in LEADER_ROLES:
        return false()
    return and_(Deployment.status.in_(CONTACT_STATUSES), Deployment.first_contact_at.is_(None),
                access.led_or_commissioned(user.id))


def waiting_approve(user: User) -> ColumnElement[bool]:
    """SQL twin of :func:`approve` allowed, over :class:`Variation`."""
    pending = Variation.status == "pending"
    if user.role == "director":
        return and_(pending, Variation.director_approved_by_id.is_(None))
    if user.role == "headteacher" and user.school_id:
        receiving = exists().where(
            Deployment.id == Variation.deployment_id,
            RequestSchool.request_id == Deployment.request_id,
            RequestSchool.school_id == user.school_id)
        return and_(pending, Variation.head_approved_by_id.is_(None), receiving)
    return false()


WAITING_SQL = {"first_contact": waiting_first_contact,
               "log_first_contact": waiting_log_first_contact}
WAITING_VARIATION_SQL = {"approve": waiting_approve}
