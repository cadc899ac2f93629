"""Deployments: a system leader matched to a request, from proposal to close."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    insert,
    inspect,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model, db
from .base import UTCDateTime, utcnow
from .people import User
from .requests import RequestSchool, SupportRequest, _in
from .schools import Alliance, School

if TYPE_CHECKING:
    from .plans import Action

DEPLOYMENT_STATUSES = {
    "proposed": "Proposed, awaiting confirmation",
    "declined": "Declined",
    "agreement": "Agreement being signed",
    "active": "Active",
    "evaluation": "Evaluation",
    "completed": "Completed",
    "ended_early": "Ended early",
    "cancelled": "Cancelled",
}

# Statuses in which a deployment still holds the leader's time
LIVE_STATUSES = ("proposed", "agreement", "active", "evaluation")

RESPONSE_PARTIES = {
    "receiving": "Receiving headteacher",
    "home_school": "Home-school release",
    "leader": "System leader",
}


class Deployment(Model):
    __tablename__ = "deployment"
    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(24), unique=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("support_request.id"), index=True)
    alliance_id: Mapped[int] = mapped_column(ForeignKey("alliance.id"))
    leader_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    home_school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    commissioning_leader_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # A person an NLE/LLE deploys under their commission points at the commissioner's own
    # deployment (the commission); ``commissioning_leader_id`` is then the commissioner.
    commission_id: Mapped[int | None] = mapped_column(ForeignKey("deployment.id"), index=True)
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    rate_card_id: Mapped[int | None] = mapped_column(ForeignKey("rate_card.id"))
    status: Mapped[str] = mapped_column(String(20), default="proposed")
    designation: Mapped[str] = mapped_column(String(10), default="sle")
    half_days_agreed: Mapped[int] = mapped_column(default=0)
    half_days_delivered: Mapped[int] = mapped_column(default=0)
    targeted: Mapped[bool] = mapped_column(default=False)
    concession_day_pence: Mapped[int] = mapped_column(default=0)
    proposed_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    # A copy of the request's ``created_at`` (written on insert, below; it never changes): a
    # leader's and a home school's request lists, newest request first, walk their
    # deployments by it and stop after the page's rows (access.first_visible_requests)
    request_created_at = mapped_column(UTCDateTime, nullable=True)
    # A copy of the request's ``board_id`` (written on insert, and whenever the request's
    # Board changes, below: ``boards.change_funding`` changes it once there are deployments):
    # a Board's deployments listed by date walk one index (access.first_visible_deployments,
    # which checks each row it lists against the request's own Board)
    request_board_id: Mapped[int | None] = mapped_column(nullable=True)
    # ... and of its status (following it likewise): a leader's or home school's requests in
    # one status are walked and counted from their indexes alone
    request_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    confirmed_at = mapped_column(UTCDateTime, nullable=True)
    active_at = mapped_column(UTCDateTime, nullable=True)
    first_contact_at = mapped_column(UTCDateTime, nullable=True)
    closed_at = mapped_column(UTCDateTime, nullable=True)
    end_reason: Mapped[str] = mapped_column(Text, default="")
    last_day_delivered: Mapped[date | None]
    # A Board-funded (targeted) deployment waits for its Board's approval of the funding
    # (portal/domain/boards.py) before the agreement is drafted.
    board_approved_at = mapped_column(UTCDateTime, nullable=True)
    board_approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    version: Mapped[int] = mapped_column(default=1)

    request: Mapped[SupportRequest] = relationship()
    alliance: Mapped[Alliance] = relationship()
    leader: Mapped[User] = relationship(foreign_keys=[leader_id])
    home_school: Mapped[School] = relationship()
    commissioning_leader: Mapped[User | None] = relationship(foreign_keys=[commissioning_leader_id])
    commission: Mapped[Deployment | None] = relationship(remote_side=[id],
                                                         foreign_keys=[commission_id])
    board_approved_by: Mapped[User | None] = relationship(foreign_keys=[board_approved_by_id])
    responses: Mapped[list[DeploymentResponse]] = relationship(
        back_populates="deployment", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint(_in("status", DEPLOYMENT_STATUSES), name="status"),
        CheckConstraint("half_days_agreed >= 0", name="agreed_not_negative"),
        CheckConstraint("half_days_delivered >= 0", name="delivered_not_negative"),
        CheckConstraint("concession_day_pence >= 0", name="concession_not_negative"),
        Index("ix_deployment_alliance_status", "alliance_id", "status", "proposed_at"),
        # the alliance's lists and "live" panels, newest first (ORDER BY proposed_at DESC, id
        # DESC walks it backwards, as SQLite and PostgreSQL both do): LIMIT rows read, no sort
        Index("ix_deployment_alliance_proposed", "alliance_id", "proposed_at", "id"),
        Index("ix_deployment_leader_status", "leader_id", "status"),
        # a leader sees the deployments they lead or commissioned: both sides of the OR indexed
        Index("ix_deployment_commissioning_leader", "commissioning_leader_id"),
        # ... and each side of it newest first, so the leader's lists are a UNION of two
        # branches that each stop after LIMIT rows (access.deployments_visible_to)
        Index("ix_deployment_leader_proposed", "leader_id", "proposed_at", "id"),
        Index("ix_deployment_commissioning_proposed", "commissioning_leader_id",
              "proposed_at", "id"),
        Index("ix_deployment_home_school_status", "home_school_id", "status"),
        # a home school's deployments by date, for its lists and "Needs your action"
        Index("ix_deployment_home_school_proposed", "home_school_id", "proposed_at", "id"),
        # ... and the requests of each, newest first (request_created_at)
        Index("ix_deployment_leader_request_created", "leader_id", "request_created_at",
              "request_id"),
        Index("ix_deployment_commissioning_request_created", "commissioning_leader_id",
              "request_created_at", "request_id"),
        Index("ix_deployment_home_school_request_created", "home_school_id",
              "request_created_at", "request_id"),
        # ... and in one status of the request
        Index("ix_deployment_leader_request_status", "leader_id", "request_status",
              "request_created_at", "request_id"),
        Index("ix_deployment_commissioning_request_status", "commissioning_leader_id",
              "request_status", "request_created_at", "request_id"),
        Index("ix_deployment_home_school_request_status", "home_school_id", "request_status",
              "request_created_at", "request_id"),
        # a Board's deployments by date
        Index("ix_deployment_request_board_proposed", "request_board_id", "proposed_at", "id"),
        # ... and its proposals waiting for its approval (policy.funding)
        Index("ix_deployment_request_board_status", "request_board_id", "status"),
        # confirmed and no first contact yet, by when confirmed: the alliance's "Waiting for
        # first contact" walks the few it holds (without it, every open deployment was read)
        Index("ix_deployment_alliance_waiting_contact", "alliance_id", "confirmed_at", "id",
              sqlite_where=text("first_contact_at IS NULL AND confirmed_at IS NOT NULL"),
              postgresql_where=text("first_contact_at IS NULL AND confirmed_at IS NOT NULL")),
    )

    @property
    def status_label(self) -> str:
        return DEPLOYMENT_STATUSES[self.status]


class DeploymentSchool(Model):
    """A receiving school of a deployment (its request's schools), with the deployment's
    ``proposed_at``: a school's deployments listed newest first walk one index and stop after
    the page's rows (``access.first_visible_deployments``; issue 20, item 4), instead of
    joining every deployment in the country to the school's requests.

    Written when the deployment is inserted (below). A request's schools change only while it
    is a draft or waits for more information (``brokering.set_schools``), before any deployment,
    and a deployment's ``proposed_at`` is never changed, so the copy stays right; its
    ``status`` follows the deployment's in the same flush (below)."""

    __tablename__ = "deployment_school"
    deployment_id: Mapped[int] = mapped_column(
        ForeignKey("deployment.id", ondelete="CASCADE"), primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), primary_key=True)
    proposed_at = mapped_column(UTCDateTime, nullable=False)
    # the deployment's status, following it (below): a school's deployments in one status are
    # walked and counted from the index alone, not joined to every deployment it ever had
    status: Mapped[str | None] = mapped_column(String(20), nullable=True)

    __table_args__ = (
        Index("ix_deployment_school_school_proposed", "school_id", "proposed_at",
              "deployment_id"),
        Index("ix_deployment_school_school_status", "school_id", "status", "proposed_at",
              "deployment_id"),
    )


@event.listens_for(Deployment, "before_insert")
def _copy_from_request(mapper, connection, target: Deployment) -> None:
    """The request's ``created_at``, ``board_id`` and ``status``, from the request in the
    session when it is loaded (it is inserted before the deployment), else read from the
    request's row."""
    req = target.__dict__.get("request")
    if req is not None and req.__dict__.get("created_at") is not None \
            and "board_id" in req.__dict__ and req.__dict__.get("status") is not None:
        created, board_id, status = req.created_at, req.board_id, req.status
    else:
        created, board_id, status = connection.execute(
            select(SupportRequest.created_at, SupportRequest.board_id, SupportRequest.status)
            .where(SupportRequest.id == target.request_id)).one()
    target.request_created_at = created
    target.request_board_id = board_id
    target.request_status = status


@event.listens_for(SupportRequest, "after_update")
def _copy_to_deployments(mapper, connection, target: SupportRequest) -> None:
    """A request's Board, status (or date) changed: its deployments' copies follow, in the
    same flush."""
    attrs = inspect(target).attrs
    values = {copy: getattr(target, name) for name, copy in (
        ("board_id", "request_board_id"), ("created_at", "request_created_at"),
        ("status", "request_status")) if attrs[name].history.has_changes()}
    if values:
        connection.execute(update(Deployment).where(Deployment.request_id == target.id)
                           .values(**values))


@event.listens_for(Deployment, "after_insert")
def _copy_request_schools(mapper, connection, target: Deployment) -> None:
    """The deployment's receiving schools: from the request in the session when its schools
    are loaded (they may be inserted in this same flush, after the deployment), else one
    INSERT ... SELECT from request_school."""
    table = DeploymentSchool  # (the ORM class: insert() takes it as its table)
    req = target.__dict__.get("request")
    if req is not None and "schools" in req.__dict__:
        school_ids = {rs.school_id if rs.school_id is not None else rs.school.id
                      for rs in req.schools}
        if school_ids:
            connection.execute(insert(table), [
                {"deployment_id": target.id, "school_id": sid,
                 "proposed_at": target.proposed_at, "status": target.status}
                for sid in sorted(school_ids)])
        return
    connection.execute(insert(table).from_select(
        ["deployment_id", "school_id", "proposed_at", "status"],
        select(literal(target.id), RequestSchool.school_id,
               literal(target.proposed_at, UTCDateTime), literal(target.status, String(20)))
        .where(RequestSchool.request_id == target.request_id)))


@event.listens_for(Deployment, "after_update")
def _copy_status_to_schools(mapper, connection, target: Deployment) -> None:
    """A deployment's status changed: its receiving schools' copies follow, in the same
    flush."""
    if inspect(target).attrs.status.history.has_changes():
        connection.execute(update(DeploymentSchool)
                           .where(DeploymentSchool.deployment_id == target.id)
                           .values(status=target.status))


class DeploymentResponse(Model):
    """One party's answer to a proposal: a receiving head, the home school, or the leader."""

    __tablename__ = "deployment_response"
    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id", ondelete="CASCADE"))
    party: Mapped[str] = mapped_column(String(20))
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    decision: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    # An answer the co-ordinator or director recorded for a school with no login of its own
    # (``brokering.respond_on_behalf``): ``user_id`` is who recorded it; these say who at the
    # school gave it, how, and on what day. Empty for an answer given in the portal.
    agreed_by_name: Mapped[str] = mapped_column(String(120), default="", server_default="")
    agreed_by_role: Mapped[str] = mapped_column(String(120), default="", server_default="")
    agreed_via: Mapped[str | None] = mapped_column(String(10))
    agreed_on: Mapped[date | None] = mapped_column()

    deployment: Mapped[Deployment] = relationship(back_populates="responses")
    user: Mapped[User] = relationship()

    @property
    def on_behalf(self) -> bool:
        return self.agreed_via is not None

    __table_args__ = (
        UniqueConstraint(
            "deployment_id", "party", "school_id", name="uq_deployment_response_party"
        ),
        # a person's answers across deployments, in order (subject access)
        Index("ix_deployment_response_user_id_id", "user_id", "id"),
        CheckConstraint(_in("party", RESPONSE_PARTIES), name="party"),
        CheckConstraint("decision in ('accepted', 'declined')", name="decision"),
        CheckConstraint("agreed_via is null or agreed_via in ('email', 'phone', 'letter')",
                        name="agreed_via"),
    )


VISIT_STATUSES = {"planned": "Planned", "delivered": "Delivered"}


class Visit(Model):
    """A visit to the receiving school: planned ahead (shown to the school and the leader; no
    days counted), then logged as delivered (its days count). A visit logged straight after
    the day is delivered from the start."""

    __tablename__ = "visit"
    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id", ondelete="CASCADE"))
    visit_date: Mapped[date]
    half_days: Mapped[int] = mapped_column(default=2)
    status: Mapped[str] = mapped_column(String(10), default="delivered",
                                        server_default="delivered")
    delivered_at = mapped_column(UTCDateTime, nullable=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    logged_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    logged_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    logged_by: Mapped[User] = relationship()
    deployment: Mapped[Deployment] = relationship()
    actions: Mapped[list[Action]] = relationship(secondary="visit_action")

    __table_args__ = (
        CheckConstraint("half_days in (1, 2)", name="half_or_full_day"),
        CheckConstraint("status in ('planned', 'delivered')", name="visit_status"),
        # one visit a day: a double-clicked "log visit" cannot count the day twice
        UniqueConstraint("deployment_id", "visit_date", name="uq_visit_deployment_date"),
    )


# The plan actions worked on during a visit.
visit_action = Table(
    "visit_action",
    db.metadata,
    Column("visit_id", ForeignKey("visit.id", ondelete="CASCADE"), primary_key=True),
    Column("action_id", ForeignKey("action.id", ondelete="CASCADE"), primary_key=True,
           index=True),
)

VARIATION_STATUSES = {"pending": "Awaiting approval", "approved": "Approved",
                      "declined": "Declined"}


class Variation(Model):
    """Extra half-days beyond the agreement: the receiving head and the director both approve."""

    __tablename__ = "variation"
    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_id: Mapped[int] = mapped_column(
        ForeignKey("deployment.id", ondelete="CASCADE"), index=True
    )
    half_days: Mapped[int]
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    requested_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    head_approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    head_approved_at = mapped_column(UTCDateTime, nullable=True)
    director_approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    director_approved_at = mapped_column(UTCDateTime, nullable=True)
    declined_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    decided_at = mapped_column(UTCDateTime, nullable=True)
    version: Mapped[int] = mapped_column(default=1)

    deployment: Mapped[Deployment] = relationship()
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    head_approved_by: Mapped[User | None] = relationship(foreign_keys=[head_approved_by_id])
    director_approved_by: Mapped[User | None] = relationship(
        foreign_keys=[director_approved_by_id]
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint("half_days > 0", name="half_days_positive"),
        CheckConstraint(_in("status", VARIATION_STATUSES), name="status"),
        # One request for extra days awaiting approval per deployment, however many arrive at
        # once: the database refuses a second (portal/domain/plans.py turns that into a 409).
        Index("uq_variation_one_pending", "deployment_id", unique=True,
              sqlite_where=text("status = 'pending'"),
              postgresql_where=text("status = 'pending'")),
    )

    @property
    def status_label(self) -> str:
        return VARIATION_STATUSES[self.status]
