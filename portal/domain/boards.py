"""The Boards (East Sussex: "the Primary and Secondary Boards may identify a school ... that would
benefit from SLE support"; of the £350 a day the Board grants £200 and may grant a further
concession case by case).

Commands (each checks its policy, changes state, audits, notifies and never commits):

* :func:`target`: a Board member targets one school of the Board's phase for support; the
  request is filed at once (route "Board-targeted", the Board named on it);
* :func:`approve_funding`: a member of that Board approves the Board's share of a proposed
  deployment (with any further concession), within the budget left; if every party has already
  confirmed, the agreement is drafted there and then;
* :func:`change_funding`: the co-ordinator or director changes who pays (route and Board) while
  the proposal is being confirmed; any earlier approval lapses.

:func:`budget` is the Board's budget, what its approved deployments commit and what is left.
The Board's members are told when its targeted request is filed, withdrawn or declined and when
one of its deployments ends early (workflow hooks at the bottom).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, select

from ..extensions import db
from ..models import (
    ROUTES,
    STANDARDS,
    Board,
    Deployment,
    RateCard,
    School,
    SupportRequest,
    User,
    utcnow,
)
from ..validators import time_frame_problem
from . import access, audit, brokering, charging, errors, finance, notify, workflow
from .policy import funding as funding_policy
from .policy import requests as request_policy
from .policy import require

MAX_DAYS = 100


# ---------------------------------------------------------------------------- targeting


def eligible_schools(user: User, board: Board) -> ColumnElement[bool]:
    """The schools a Board member may target: the alliance's, of the Board's phase."""
    return access.schools_visible_to(user) & School.phase.in_(brokering.board_school_phases(board))


def target(actor: User, *, school_id: int | None, title: str, standards: Iterable[str],
           phase: str, specialism_id: int | None, priorities: str, desired_outcomes: str,
           start_date: date | None, end_date: date | None, days: int | None,
           concession_day: int = 0, staff_involved: str = "", measures_of_success: str = "",
           ip: str = "") -> SupportRequest:
    """File the Board's targeted request for one school. Everything matching needs is required
    (standards, phase, subject, a time frame, whole days); each problem is an ``Invalid`` with
    its field."""
    require(request_policy.target(actor))
    board = actor.board
    assert board is not None  # the policy allows only a member of a Board
    school = db.session.scalar(select(School).where(School.id == school_id,
                                                    eligible_schools(actor, board))) \
        if school_id else None
    if school is None:
        raise errors.Invalid(f"Choose a school for {board.name} to support from the list.",
                             field="school_id")
    codes = list(dict.fromkeys(standards))
    if not codes or any(c not in STANDARDS for c in codes):
        raise errors.Invalid("Choose at least one of the Teachers' Standards.", field="standards")
    if not title.strip():
        raise errors.Invalid("Give the focus of the support.", field="title")
    if start_date is None or end_date is None:
        raise errors.Invalid("Enter the dates the support should start and end.",
                             field="end_date" if start_date else "start_date")
    if (problem := time_frame_problem(start_date, end_date)) is not None:
        raise errors.Invalid(problem, field="end_date")
    if days is None or not 1 <= days <= MAX_DAYS:
        raise errors.Invalid(f"Enter between 1 and {MAX_DAYS} whole days.", field="days")
    if concession_day < 0:
        raise errors.Invalid("A concession cannot be less than nothing.", field="concession")
    req = brokering.create_request(
        actor, school_ids=[school.id], title=title.strip(),
        standards_mask=_mask(codes), phase=phase, specialism_id=specialism_id,
        staff_involved=staff_involved.strip(), priorities=priorities.strip(),
        desired_outcomes=desired_outcomes.strip(),
        measures_of_success=measures_of_success.strip(), start_date=start_date,
        end_date=end_date, half_days_wanted=2 * days, kind="sle_deployment", route="board",
        concession_day_pence=concession_day)
    audit.record(actor, "request.targeted", req, ip=ip, detail={
        "board": board.name, "school": school.name,
        "concession_day_pence": req.concession_day_pence})
    brokering.submit_request(req, actor, ip=ip)  # the Board's members are told by the hook
    notify.notify(brokering.admins_of(req.alliance_id),
                  f"{board.name} targeted {school.name} for support: {req.reference} "
                  f"{req.title}", brokering.request_url(req), alliance_id=req.alliance_id)
    return req


def _mask(codes: list[str]) -> int:
    from ..models import standards_to_mask

    return standards_to_mask(codes)


# ------------------------------------------------------------------------------ budget


@dataclass(frozen=True)
class Budget:
    """A Board's budget and what its approved deployments take from it (pence)."""

    board: Board
    budget: int
    committed: int  # agreed shares of live deployments and delivered shares of closed ones
    spent: int  # the shares of the days delivered so far

    @property
    def left(self) -> int:
        return self.budget - self.committed


_CLOSED = ("completed", "ended_early")
_GONE = ("declined", "cancelled")


def budget(board: Board, *, leaving_out: int | None = None) -> Budget:
    """What the Board's approved (or already agreed) deployments commit: the Board's day
    (grant plus concession) for the days agreed while live, for the days delivered once closed.
    One query, whatever the number of deployments."""
    rows = db.session.execute(
        select(Deployment.id, Deployment.status, Deployment.half_days_agreed,
               Deployment.half_days_delivered, Deployment.concession_day_pence,
               RateCard.board_grant_day_pence)
        .join(SupportRequest, SupportRequest.id == Deployment.request_id)
        .outerjoin(RateCard, RateCard.id == Deployment.rate_card_id)
        .where(SupportRequest.board_id == board.id, Deployment.targeted.is_(True),
               Deployment.status.not_in(_GONE),
               (Deployment.board_approved_at.is_not(None)) | (Deployment.status != "proposed"))
    ).all()
    fallback: int | None = None
    committed = spent = 0
    for d_id, status, agreed, delivered, concession, grant in rows:
        if d_id == leaving_out:
            continue
        if grant is None:
            if fallback is None:
                card = finance.current_rate_card(board.alliance_id)
                fallback = card.board_grant_day_pence if card else 0
            grant = fallback
        day = grant + (concession or 0)
        spent += charging.cost_for_half_days(day, delivered)
        committed += charging.cost_for_half_days(day, delivered if status in _CLOSED else agreed)
    return Budget(board=board, budget=board.budget_pence, committed=committed, spent=spent)


def quote(d: Deployment, *, concession_day: int | None = None,
          targeted: bool = True) -> charging.Quote:
    """The deployment's charges if the Board funds it with ``concession_day`` (pence a day on
    top of its grant). ``ValueError`` if the concession is more than the card allows."""
    row = db.session.get(RateCard, d.rate_card_id) if d.rate_card_id else \
        finance.current_rate_card(d.alliance_id)
    if row is not None:
        card = finance.to_card(row)
    elif d.alliance.charging_model == "east_sussex":
        card = charging.east_sussex_card()
    else:
        card = charging.sefton_card()
    concession = d.concession_day_pence if concession_day is None else concession_day
    return charging.quote(card, d.designation, max(d.half_days_agreed, 1), targeted=targeted,
                          concession_day=concession if targeted else 0,
                          schools=max(1, len(d.request.schools)))


def approve_funding(d: Deployment, actor: User, *, concession_day: int = 0,
                    ip: str = "") -> charging.Quote:
    """The Board approves its share (its grant plus ``concession_day`` a day) of the deployment.
    Refused beside the concession when the card does not allow it or the budget left does not
    cover the Board's share."""
    require(funding_policy.actions(d, actor)["approve_funding"])
    board = d.request.board
    assert board is not None  # the policy allows only a member of the request's Board
    try:
        q = quote(d, concession_day=concession_day)
    except ValueError as exc:
        raise errors.Invalid(f"That concession cannot be granted: {exc}.",
                             field="concession") from exc
    left = budget(board, leaving_out=d.id).left
    if q.board_pays > left:
        raise errors.Invalid(
            f"The Board's share, {charging.format_pence(q.board_pays)}, is more than its budget "
            f"left, {charging.format_pence(max(left, 0))}.", field="concession")
    d.concession_day_pence = concession_day
    d.request.concession_day_pence = concession_day
    d.board_approved_at = utcnow()
    d.board_approved_by_id = actor.id
    audit.record(actor, "deployment.funding_approved", d, ip=ip, detail={
        "board": board.name, "concession_day_pence": concession_day,
        "board_pays_pence": q.board_pays, "school_pays_pence": q.school_pays})
    notify.notify([*brokering.admins_of(d.alliance_id), *brokering.board_members(board.id)],
                  f"{board.name} approved the funding of {d.reference} "
                  f"({charging.format_pence(q.board_pays)})",
                  brokering.deployment_url(d), alliance_id=d.alliance_id, email=False)
    # the Board's approval may be the last answer: the system then drafts the agreement (a
    # Board member does not move a proposal on; the audit above says who approved)
    brokering.agree_if_ready(d, None, ip=ip)
    return q


def change_funding(d: Deployment, actor: User, *, route: str, board_id: int | None,
                   ip: str = "") -> None:
    """The co-ordinator changes who pays: the route, and for "Board-targeted" which Board. A
    Board named afresh must approve again; leaving the Board lets a fully confirmed proposal go
    on to the agreement."""
    require(funding_policy.actions(d, actor)["change_funding"])
    if route not in ROUTES:
        raise errors.Invalid("Choose who pays from the list.", field="route")
    req = d.request
    board = None
    if route == "board":
        board = db.session.scalar(select(Board).where(Board.id == board_id,
                                                      access.boards_visible_to(actor))) \
            if board_id else None
        if board is None:
            raise errors.Invalid("Choose the Board that pays from the list.", field="board_id")
    before = {"route": ROUTES[req.route], "board": req.board.name if req.board else None}
    old_board_id = req.board_id
    if req.route == route and old_board_id == (board.id if board else None):
        return  # nothing changes
    req.route = route
    req.board_id = board.id if board else None
    d.targeted = board is not None
    d.concession_day_pence = 0
    req.concession_day_pence = 0
    d.board_approved_at = None
    d.board_approved_by_id = None
    after = {"route": ROUTES[route], "board": board.name if board else None}
    audit.record(actor, "deployment.funding_changed", d, ip=ip,
                 detail={"before": before, "after": after})
    if board is not None:
        notify.notify(brokering.board_members(board.id),
                      f"{board.name} is asked to fund {d.reference} {req.title}: please approve "
                      "or ask the co-ordinator to change who pays", brokering.deployment_url(d),
                      alliance_id=d.alliance_id)
    if old_board_id and old_board_id != req.board_id:
        notify.notify(brokering.board_members(old_board_id),
                      f"Your Board no longer funds {d.reference} {req.title}: "
                      f"the co-ordinator changed who pays to {ROUTES[route].lower()}",
                      brokering.request_url(req), alliance_id=d.alliance_id, email=False)
    brokering.agree_if_ready(d, actor, ip=ip)


def funding_choices(user: User) -> list[tuple[int, str]]:
    return [(b.id, b.name) for b in db.session.scalars(
        select(Board).where(access.boards_visible_to(user)).order_by(Board.name))]


# ------------------------------------------------------------------- telling the Board


def _tell_board(req: SupportRequest, actor: User | None, message: str, url: str) -> None:
    if req.board_id is None:
        return
    members = [u for u in brokering.board_members(req.board_id)
               if actor is None or u.id != actor.id]
    notify.notify(members, message, url, alliance_id=req.alliance_id)


def _schools(req: SupportRequest) -> str:
    return ", ".join(rs.school.name for rs in req.schools) or "no school named"


@workflow.on_enter(SupportRequest, "submitted")
def _filed(req: SupportRequest, actor: User | None, _reason: str) -> None:
    if req.board_id is not None and req.board is not None:
        _tell_board(req, actor, f"Board-targeted request {req.reference} {req.title} for "
                    f"{_schools(req)} was filed: {req.board.name} is asked to fund it",
                    brokering.request_url(req))


@workflow.on_enter(SupportRequest, "withdrawn")
def _withdrawn(req: SupportRequest, actor: User | None, reason: str) -> None:
    if req.submitted_at is not None:  # a draft never filed was never the Board's business
        _tell_board(req, actor, f"Board-targeted request {req.reference} {req.title} was "
                    f"withdrawn{': ' + reason if reason else ''}", brokering.request_url(req))


@workflow.on_enter(SupportRequest, "declined")
def _declined(req: SupportRequest, actor: User | None, reason: str) -> None:
    _tell_board(req, actor, f"Board-targeted request {req.reference} {req.title} was declined"
                f"{': ' + reason if reason else ''}", brokering.request_url(req))


@workflow.on_enter(Deployment, "ended_early")
def _ended_early(d: Deployment, actor: User | None, reason: str) -> None:
    if d.targeted:
        _tell_board(d.request, actor, f"Board-funded deployment {d.reference} "
                    f"{d.request.title} ended early{': ' + reason if reason else ''}. The "
                    "Board is charged only for the days delivered.",
                    brokering.deployment_url(d))
