"""Deployment requests: what a school (or EIP, LA officer or Board) asks for."""

from __future__ import annotations

from datetime import date

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    event,
    inspect,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .base import PHASES, ROUTES, SUPPORT_KINDS, UTCDateTime, mask_to_standards, utcnow
from .people import Specialism, User
from .schools import Alliance, Board, School

REQUEST_STATUSES = {
    "draft": "Draft",
    "submitted": "Awaiting triage",
    "more_info": "More information asked for",
    "matching": "Being matched",
    "matched": "Matched",
    "declined": "Declined",
    "withdrawn": "Withdrawn",
}


def _in(column: str, values) -> str:
    return f"{column} in (" + ", ".join(f"'{v}'" for v in values) + ")"


class SupportRequest(Model):
    __tablename__ = "support_request"
    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    alliance_id: Mapped[int] = mapped_column(ForeignKey("alliance.id"))
    # indexed by ix_support_request_requested_by_status (and _created), which lead with it
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    board_id: Mapped[int | None] = mapped_column(ForeignKey("board.id"))
    status: Mapped[str] = mapped_column(String(20), default="draft")
    kind: Mapped[str] = mapped_column(String(30), default="sle_deployment")
    route: Mapped[str] = mapped_column(String(20), default="school")
    title: Mapped[str] = mapped_column(String(200), default="")
    standards_mask: Mapped[int] = mapped_column(default=0)
    phase: Mapped[str] = mapped_column(String(20), default="primary")
    specialism_id: Mapped[int | None] = mapped_column(ForeignKey("specialism.id"))
    staff_involved: Mapped[str] = mapped_column(Text, default="")
    priorities: Mapped[str] = mapped_column(Text, default="")
    desired_outcomes: Mapped[str] = mapped_column(Text, default="")
    measures_of_success: Mapped[str] = mapped_column(Text, default="")
    start_date: Mapped[date | None]
    end_date: Mapped[date | None]
    half_days_wanted: Mapped[int] = mapped_column(default=0)
    # a one-off consultation is asked for (and charged) in hours, not days
    hours_wanted: Mapped[int | None] = mapped_column(nullable=True)
    # A Board's further concession per day on a targeted request, on top of its standard grant.
    concession_day_pence: Mapped[int] = mapped_column(default=0)
    triage_note: Mapped[str] = mapped_column(Text, default="")
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    submitted_at = mapped_column(UTCDateTime, nullable=True)
    matched_at = mapped_column(UTCDateTime, nullable=True)
    version: Mapped[int] = mapped_column(default=1)

    alliance: Mapped[Alliance] = relationship()
    requested_by: Mapped[User] = relationship()
    board: Mapped[Board | None] = relationship()
    specialism: Mapped[Specialism | None] = relationship()
    schools: Mapped[list[RequestSchool]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="RequestSchool.position"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint(_in("status", REQUEST_STATUSES), name="status"),
        CheckConstraint(_in("kind", SUPPORT_KINDS), name="kind"),
        CheckConstraint(_in("route", ROUTES), name="route"),
        CheckConstraint(_in("phase", PHASES), name="phase"),
        CheckConstraint("half_days_wanted >= 0", name="half_days_not_negative"),
        Index(
            "ix_support_request_alliance_status_submitted",
            "alliance_id", "status", "submitted_at",
        ),
        # the alliance's request list, newest first (walked backwards): LIMIT rows read, no sort
        Index("ix_support_request_alliance_created", "alliance_id", "created_at", "id"),
        # the requests someone wrote, newest first (access.first_visible_requests)
        Index("ix_support_request_requested_by_created", "requested_by_id", "created_at", "id"),
        # the writer's requests in one status: "add the information asked for" in the
        # navigation's count found one such request among a school's 11,000 by reading them
        # all; it replaces the index on requested_by_id alone, which it leads with
        Index("ix_support_request_requested_by_status", "requested_by_id", "status",
              "created_at", "id"),
        # a Board's targeted requests, newest first, with the status that leaves drafts out
        # read from the index too (it replaces the index on board_id alone)
        Index("ix_support_request_board_created", "board_id", "created_at", "id", "status"),
    )

    @property
    def standards(self) -> list[str]:
        return mask_to_standards(self.standards_mask)

    @property
    def status_label(self) -> str:
        return REQUEST_STATUSES[self.status]

    @property
    def kind_label(self) -> str:
        return SUPPORT_KINDS[self.kind]

    @property
    def route_label(self) -> str:
        return ROUTES[self.route]

    @property
    def phase_label(self) -> str:
        return PHASES[self.phase]


class RequestSchool(Model):
    """A receiving school named on a request (a request may cover several)."""

    __tablename__ = "request_school"
    request_id: Mapped[int] = mapped_column(
        ForeignKey("support_request.id", ondelete="CASCADE"), primary_key=True
    )
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(default=0)
    # the request's created_at, kept here so that a school's requests can be listed newest
    # first by walking one index (a school with years of requests reads only the page it
    # shows); set when the row is inserted (below) — a request's created_at never changes
    requested_at = mapped_column(UTCDateTime, nullable=False)
    # the request's status, following it (below): the school's requests in one status are
    # walked and counted from the index alone
    status: Mapped[str | None] = mapped_column(String(20), nullable=True)

    request: Mapped[SupportRequest] = relationship(back_populates="schools")
    # a headteacher's visibility (access.requests_visible_to): the school's request ids read
    # from the index alone, without visiting the table; and the school's list, newest first,
    # in any status or in one
    __table_args__ = (
        Index("ix_request_school_school_request", "school_id", "request_id"),
        Index("ix_request_school_school_requested", "school_id", "requested_at", "request_id"),
        Index("ix_request_school_school_status", "school_id", "status", "requested_at",
              "request_id"),
    )
    school: Mapped[School] = relationship()


@event.listens_for(RequestSchool, "before_insert")
def _copy_request_date(mapper, connection, target: RequestSchool) -> None:
    req = target.__dict__.get("request")  # loaded when the school was added through it
    if req is not None and req.created_at is not None and req.status is not None:
        created, status = req.created_at, req.status
    else:
        created, status = connection.execute(
            select(SupportRequest.created_at, SupportRequest.status)
            .where(SupportRequest.id == target.request_id)).one()
    if target.requested_at is None:
        target.requested_at = created
    target.status = status


@event.listens_for(SupportRequest, "after_update")
def _copy_status_to_schools(mapper, connection, target: SupportRequest) -> None:
    """A request's status changed: its schools' copies follow, in the same flush."""
    if inspect(target).attrs.status.history.has_changes():
        connection.execute(update(RequestSchool).where(RequestSchool.request_id == target.id)
                           .values(status=target.status))
