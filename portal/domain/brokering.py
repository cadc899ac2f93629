"""Journey steps 1-3 against the database: file a request, match it, propose, confirm, release.

:mod:`portal.domain.matching` ranks plain data; :func:`ranking` builds its ``Need`` and
``Candidate`` objects from the model in a fixed number of queries (profiles with their users and
home schools, specialisms, unavailable ranges, and one aggregate of live deployments), whatever
the size of the directory.

Each command (``create_request``, ``edit_request``, ``submit_request``, ``withdraw_request``,
``triage_request``, ``propose``, ``respond``) starts by requiring its policy decision
(:mod:`portal.domain.policy.requests`, :mod:`portal.domain.policy.deployments`), moves the
status through :func:`portal.domain.workflow.transition` (which audits it), tells whoever is
next, and never commits: the request's unit of work does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from uuid import uuid4

from sqlalchemy import Date, and_, bindparam, func, or_, select, union_all
from sqlalchemy.orm.attributes import flag_modified

from ..extensions import db
from ..models import (
    LIVE_STATUSES,
    PHASES,
    Alliance,
    Board,
    Deployment,
    DeploymentResponse,
    LeaderProfile,
    RequestSchool,
    School,
    Specialism,
    SupportRequest,
    Unavailability,
    User,
    leader_specialism,
    mask_to_standards,
    utcnow,
)
from ..models.people import split_phases
from . import access, audit, errors, notify, workflow
from .matching import Candidate, Exclusion, Match, Need, rank
from .policy import Decision, require
from .policy import commissions as commission_policy
from .policy import deployments as deployment_policy
from .policy import funding as funding_policy
from .policy import requests as request_policy
from .sla import MATCH_TARGET

# The co-ordinator's inbox: requests waiting for triage, more information or a match, oldest
# first. The inbox page, the co-ordinator's home page and its desk panel all count from here:
# a request waits either on the co-ordinator (for triage or a match, against the 48-hour
# target) or on the school (more information was asked for; the clock is the school's).
WAITING_FOR_MATCH = ("submitted", "matching")
WAITING_FOR_SCHOOL = ("more_info",)
INBOX_STATUSES = WAITING_FOR_MATCH + WAITING_FOR_SCHOOL
INBOX_ORDER = (SupportRequest.submitted_at.asc(), SupportRequest.id.asc())


def in_inbox(user: User):
    """The inbox: visible requests waiting for triage, on the school, or for a match (the SQL
    twins of :mod:`portal.domain.policy.requests`; none for a role that does not triage)."""
    return access.requests_visible_to(user) & or_(
        request_policy.waiting_triage(user), request_policy.waiting_on_school(user),
        request_policy.waiting_match(user))


def first_in_inbox(user: User, *where: Any, limit: int) -> Any:
    """A clause on SupportRequest: the first ``limit`` of the user's inbox requests matching
    ``where``, in :data:`INBOX_ORDER` (the caller orders and limits again): one limited walk
    of the (alliance, status, submitted) index for each inbox status, not every waiting
    request read and sorted (issue 20: 8.7 ms at ten times national scale, growing).

    ``where`` narrows by status (the twins of triage and match are): it is applied to what
    the walks found, so a walk is a plain index range the planner estimates well (with the
    twins' ORs inside, PostgreSQL took each for a few rows and sorted them all)."""
    if user.role not in request_policy.OVERSEERS:
        return and_(in_inbox(user), *where)  # no inbox: the twins are false
    branches = [select(SupportRequest.id)
                .where(SupportRequest.alliance_id == user.alliance_id,
                       SupportRequest.status == s)
                .order_by(*INBOX_ORDER).limit(limit).subquery() for s in INBOX_STATUSES]
    # each limited branch is a derived table (SQLite refuses ORDER BY/LIMIT inside a UNION)
    return and_(SupportRequest.id.in_(union_all(*(select(b.c.id) for b in branches))),
                in_inbox(user), *where)


@dataclass(frozen=True)
class InboxCounts:
    """How many of the user's inbox requests wait for a match, how many on the school, and how
    many of those waiting for a match are past the 48-hour target."""

    for_match: int
    for_school: int
    overdue: int

    @property
    def total(self) -> int:
        return self.for_match + self.for_school


def inbox_counts(user: User, now: datetime | None = None) -> InboxCounts:
    """The inbox counted in one query, by the same :func:`in_inbox` the lists use; once per
    request (the co-ordinator's home and its desk panel both show it: issue 20)."""
    from flask import g, has_request_context

    cached = g.get("inbox_counts") if has_request_context() else None
    if cached is not None and cached[0] == user.id:
        return cached[1]
    counts = _inbox_counts(user, now)
    if has_request_context():
        g.inbox_counts = (user.id, counts)
    return counts


def inbox_count_columns(user: User, now: datetime | None = None) -> list[Any]:
    """The three counts of :class:`InboxCounts` as scalar subqueries, for a page that reads
    them in the same statement as its other counts (then :func:`remember_inbox_counts`)."""
    cutoff = (now or utcnow()) - MATCH_TARGET
    for_match = SupportRequest.status.in_(WAITING_FOR_MATCH)
    # each its own count(*) with its condition in WHERE (not a FILTER over the whole inbox):
    # PostgreSQL then counts from the (alliance, status, submitted) index alone, not reading
    # every waiting request's row three times (issue 20: 12 ms at ten times national scale)
    return [select(func.count()).select_from(SupportRequest).where(in_inbox(user), c)
            .scalar_subquery()
            for c in (for_match, SupportRequest.status.in_(WAITING_FOR_SCHOOL),
                      for_match & (SupportRequest.submitted_at < cutoff))]


def remember_inbox_counts(user: User, values: Sequence[int | None]) -> InboxCounts:
    from flask import g, has_request_context

    counts = InboxCounts(*(int(v or 0) for v in values))
    if has_request_context():
        g.inbox_counts = (user.id, counts)
    return counts


def _inbox_counts(user: User, now: datetime | None) -> InboxCounts:
    row = db.session.execute(select(*inbox_count_columns(user, now))).one()
    return InboxCounts(for_match=row[0], for_school=row[1], overdue=row[2])


class NotProposable(errors.Invalid):
    """The leader cannot be proposed for this request (excluded, or not in the alliance)."""

    def __init__(self, message: str):
        super().__init__(message, field="leader_id")


# ----------------------------------------------------------------------------- requests


def new_reference(prefix: str, number: int, today: date | None = None) -> str:
    today = today or utcnow().date()
    return f"{prefix}-{today.year}-{number:05d}"


def deployment_reference(req: SupportRequest, n: int = 1) -> str:
    """The n-th proposal for a request: D-2026-00005-1 for request R-2026-00005."""
    return f"D-{utcnow().year}-{req.id:05d}-{n}"


def provisional_reference() -> str:
    """A unique placeholder until the row has its id (then :func:`new_reference`)."""
    return f"tmp-{uuid4().hex[:16]}"


MAX_CONSULTATION_HOURS = 40


def time_asked(fields: dict) -> dict:
    """A consultation is asked for in hours (1 to 40; matching reads them as half days of about
    three hours); anything else in days, with no hours. Raises Invalid beside the field."""
    if fields.get("kind") == "consultation":
        hours = fields.get("hours_wanted")
        if not isinstance(hours, int) or not 1 <= hours <= MAX_CONSULTATION_HOURS:
            raise errors.Invalid(f"Enter the hours of consultation wanted, 1 to "
                                 f"{MAX_CONSULTATION_HOURS}.", field="hours_wanted")
        return fields | {"half_days_wanted": -(-hours // 3)}
    return fields | {"hours_wanted": None}


def create(actor: User) -> Decision:
    """May ``actor`` file a new request? (A headteacher, or a Board member for the Board.)"""
    return request_policy.create(actor)


def create_request(actor: User, *, submit: bool = False, ip: str = "",
                   alliance_id: int | None = None, **fields) -> SupportRequest:
    """A new draft request by ``actor`` (a headteacher, or a Board member for the Board) to
    the network ``alliance_id`` (by default the actor's own; a headteacher may send it to any
    network their school is a member of); ``submit`` sends it to the co-ordinator at once
    (:func:`submit_request`)."""
    require(request_policy.create(actor))
    fields = time_asked(fields)
    school_ids: list[int] = fields.pop("school_ids")
    network = network_for(actor, alliance_id)
    req = SupportRequest(alliance_id=network, requested_by_id=actor.id,
                         status="draft", reference=provisional_reference(),
                         **fields)
    if actor.role == "board" and actor.board_id:
        req.board_id = actor.board_id
    check_group(actor, school_ids)
    check_members(network, school_ids)
    set_schools(req, school_ids)
    set_route(req, actor)
    db.session.add(req)
    db.session.flush()
    req.reference = new_reference("R", req.id)
    audit.record(actor, "supportrequest.created", req, ip=ip,
                 detail={"reference": req.reference})
    if submit:
        submit_request(req, actor, ip=ip)
    return req


NO_VERSION = ("This form did not say which version of the request it changes, so it was not "
              "saved over anyone else's change. Reload the page and make your change again. "
              "Nothing was saved.")
STALE_REQUEST = ("Someone changed this request since you opened it. Reload the page to see "
                 "their change. Nothing was saved.")


def edit_request(req: SupportRequest, actor: User, *, version: str | int | None,
                 school_ids: list[int], submit: bool = False, ip: str = "",
                 **fields) -> SupportRequest:
    """The writer changes their draft (or adds the information asked for), against the
    ``version`` they saw (:class:`errors.Conflict` if it is missing or moved on);
    ``submit`` sends it at once."""
    require(request_policy.actions(req, actor)["edit"])
    if version in (None, ""):
        raise errors.Conflict(NO_VERSION)
    if str(version) != str(req.version):
        raise errors.Conflict(STALE_REQUEST)
    for name, value in time_asked(fields).items():
        setattr(req, name, value)
    check_group(actor, school_ids)
    check_members(req.alliance_id, school_ids)
    set_schools(req, school_ids)
    set_route(req, actor)
    audit.record(actor, "supportrequest.edited", req, ip=ip)
    if submit:
        submit_request(req, actor, ip=ip)
    return req


# each request action that moves the request, and the status it moves it to
MOVES = {"submit": "submitted", "resubmit": "submitted", "withdraw": "withdrawn",
         "accept": "matching", "ask_more_info": "more_info", "decline": "declined"}


def move_request(req: SupportRequest, action: str, actor: User, *, reason: str = "",
                 ip: str = "") -> None:
    """Take one request action (:data:`MOVES`): the policy decides first (403 or 409 with its
    reason), then the state machine moves and audits it. The caller's unit of work commits.
    Tells no one: :func:`submit_request`, :func:`withdraw_request` and :func:`triage_request`
    are the commands that do."""
    require(request_policy.actions(req, actor)[action])
    workflow.transition(req, MOVES[action], actor, reason=reason, ip=ip)


def submit_request(req: SupportRequest, actor: User, *, ip: str = "") -> None:
    """Submit a draft, or send the extra information asked for: whichever the policy allows.
    The co-ordinators are told."""
    can = request_policy.actions(req, actor)
    move_request(req, "resubmit" if can["resubmit"] else "submit", actor, ip=ip)
    notify.notify(admins_of(req.alliance_id),
                  f"New request {req.reference} {req.title} from {actor.name}",
                  request_url(req), alliance_id=req.alliance_id)


def withdraw_request(req: SupportRequest, actor: User, *, reason: str = "",
                     ip: str = "") -> None:
    """Withdraw a request; the co-ordinators are told if they had seen it."""
    move_request(req, "withdraw", actor, reason=reason, ip=ip)
    if req.submitted_at:
        notify.notify(admins_of(req.alliance_id), f"Request {req.reference} was withdrawn",
                      request_url(req), alliance_id=req.alliance_id, email=False)


TRIAGE_WORDS = {"matching": "was accepted and is being matched",
                "more_info": "needs more information: {reason}",
                "declined": "was declined: {reason}"}


def triage_request(req: SupportRequest, decision: str, actor: User, *, reason: str = "",
                   ip: str = "") -> None:
    """The co-ordinator's triage ``decision`` (a key of
    :data:`~portal.domain.policy.requests.TRIAGE_ACTIONS`): accept for matching, ask for more
    information or decline (these two with a reason, kept as the triage note). The requester
    is told."""
    if decision not in request_policy.TRIAGE_ACTIONS:
        raise errors.Invalid("Choose what to do with the request.", field="action")
    reason = (reason or "").strip()
    move_request(req, request_policy.TRIAGE_ACTIONS[decision], actor, reason=reason, ip=ip)
    if reason:
        req.triage_note = reason
    notify.notify([req.requested_by],
                  f"Your request {req.reference} {TRIAGE_WORDS[decision].format(reason=reason)}",
                  request_url(req), alliance_id=req.alliance_id)


# The school phases each kind of Board looks after (a Primary Board offers primary schools).
BOARD_SCHOOL_PHASES: dict[str, tuple[str, ...]] = {
    "primary": ("early_years", "primary", "all_through"),
    "secondary": ("secondary", "post_16", "all_through"),
    "special": ("special",),
    "all_through": tuple(PHASES),
}


def board_school_phases(board: Board) -> tuple[str, ...]:
    return BOARD_SCHOOL_PHASES.get(board.phase, (board.phase,))


def board_for_phase(alliance_id: int, phase: str) -> Board | None:
    """The alliance's Board that looks after schools of ``phase`` (the first added, if two)."""
    boards = db.session.scalars(select(Board).where(Board.alliance_id == alliance_id)
                                .order_by(Board.id)).all()
    return next((b for b in boards if phase in board_school_phases(b)), None)


def set_route(req: SupportRequest, actor: User) -> None:
    """A "Board-targeted" request names the Board that pays (the writer's own Board, else the
    alliance's Board for the request's phase); any other route names none. The Board then sees
    the request and must approve the funding of its deployment before the agreement."""
    if actor.role == "officer":  # an officer's request is EIP-led or LA-commissioned
        req.route = actor.officer_route or req.route
    if req.route != "board":
        req.board_id = None
        return
    if actor.role == "board" and actor.board_id:
        req.board_id = actor.board_id
        return
    board = board_for_phase(req.alliance_id, req.phase)
    if board is None:
        phase = PHASES.get(req.phase, req.phase).lower()
        raise errors.Invalid(f"No Board of the alliance funds {phase} support: choose another "
                             "route.", field="route")
    req.board_id = board.id


def board_members(board_id: int | None) -> list[User]:
    if board_id is None:
        return []
    return list(db.session.scalars(
        select(User).where(User.role == "board", User.board_id == board_id,
                           User.active.is_(True))))


def check_group(actor: User, school_ids: list[int]) -> None:
    """An officer names only schools of their group (:func:`access.group_schools`), at least
    one; refused beside the schools otherwise."""
    if actor.role != "officer":
        return
    wanted = set(school_ids)
    found = set(db.session.scalars(select(School.id).where(
        School.id.in_(wanted), access.group_schools(actor)))) if wanted else set()
    if not wanted or found != wanted:
        raise errors.Invalid(f"Choose the schools from {actor.group_name or 'your group'}.",
                             field="school_ids")


NOT_YOUR_NETWORK = "Choose one of your school's networks."


def network_for(actor: User, alliance_id: int | None) -> int:
    """The network a new request of ``actor`` goes to: their own, or (a headteacher) another
    network their school is a member of; any other is refused beside the choice."""
    if alliance_id is None or alliance_id == actor.alliance_id:
        return actor.alliance_id
    if actor.role == "headteacher" and actor.school_id \
            and access.is_member(actor.school_id, alliance_id):
        return alliance_id
    raise errors.Invalid(NOT_YOUR_NETWORK, field="alliance_id")


def check_members(alliance_id: int, school_ids: list[int]) -> None:
    """A request names only schools that are members of its network."""
    wanted = set(school_ids)
    if not wanted:
        return
    found = set(db.session.scalars(select(School.id).where(
        School.id.in_(wanted), access.in_network(alliance_id))))
    if found != wanted:
        name = db.session.scalar(select(Alliance.name).where(Alliance.id == alliance_id))
        raise errors.Invalid(f"Choose schools that are members of {name}.",
                             field="school_ids")


def set_schools(req: SupportRequest, school_ids: list[int]) -> None:
    """The request's receiving schools, in this order. Only while the writer may change the
    request (a draft, or more information asked for: ``request_policy.EDITABLE``), which is
    before any deployment (matched goes back only to matching, then declined or withdrawn):
    each deployment keeps a copy of its request's schools (``DeploymentSchool``) that is
    written once, when the deployment is."""
    assert req.status in request_policy.EDITABLE, req.status
    wanted = list(dict.fromkeys(school_ids))
    current = {rs.school_id: rs for rs in req.schools}
    req.schools = [current.get(sid) or RequestSchool(school_id=sid) for sid in wanted]
    for i, rs in enumerate(req.schools):
        rs.position = i


def admins_of(alliance_id: int) -> list[User]:
    return list(db.session.scalars(
        select(User).where(User.alliance_id == alliance_id, User.role == "admin",
                           User.active.is_(True))
    ))


def request_url(req: SupportRequest) -> str:
    return f"/requests/{req.id}"


def deployment_url(d: Deployment) -> str:
    return f"/deployments/{d.id}"


# ----------------------------------------------------------------------------- matching


def need_for(req: SupportRequest) -> Need:
    """The request as :class:`matching.Need` (one query for the receiving schools' LAs)."""
    if req.start_date is None or req.end_date is None:
        raise errors.NotNow(f"Request {req.reference} has no time frame, so no system leader can "
                            "be matched to it. Ask the school (or the Board) to add the dates "
                            "the support should start and end.")
    rows = db.session.execute(
        select(RequestSchool.school_id, School.local_authority_id)
        .join(School, School.id == RequestSchool.school_id)
        .where(RequestSchool.request_id == req.id)
    ).all()
    if req.start_date is None or req.end_date is None:
        raise errors.Invalid("The request needs its time frame before it can be matched.",
                             field="start_date")
    return Need(
        standards=frozenset(req.standards),
        phase=req.phase,
        specialism=req.specialism.code if req.specialism else None,
        start=req.start_date,
        end=req.end_date,
        half_days=max(1, req.half_days_wanted),
        receiving_school_ids=frozenset(r[0] for r in rows),
        local_authority_ids=frozenset(r[1] for r in rows if r[1] is not None),
    )


@lru_cache(maxsize=1)
def _candidate_queries() -> tuple[Any, Any, Any, Any]:
    """The four statements of :func:`candidates_for`, built once (their parameters bound at
    each call): building and hashing them again per request was a tenth of the ranking."""
    alliance: Any = bindparam("alliance_id")
    profiles = (
        select(LeaderProfile.id, LeaderProfile.user_id, User.name, LeaderProfile.designation,
               LeaderProfile.home_school_id, School.local_authority_id, LeaderProfile.phases,
               LeaderProfile.standards_mask, LeaderProfile.capacity_days,
               LeaderProfile.release_approved_days, User.active, LeaderProfile.accepting,
               User.role)
        .join(User, User.id == LeaderProfile.user_id)
        .join(School, School.id == LeaderProfile.home_school_id)
        .where(LeaderProfile.alliance_id == alliance))
    specialisms = (
        select(leader_specialism.c.profile_id, Specialism.code)
        .join(Specialism, Specialism.id == leader_specialism.c.specialism_id)
        .join(LeaderProfile, LeaderProfile.id == leader_specialism.c.profile_id)
        .where(LeaderProfile.alliance_id == alliance))
    away = (
        select(Unavailability.profile_id, Unavailability.start, Unavailability.end)
        .join(LeaderProfile, LeaderProfile.id == Unavailability.profile_id)
        .where(LeaderProfile.alliance_id == alliance,
               Unavailability.start <= bindparam("last", type_=Date),
               Unavailability.end >= bindparam("first", type_=Date))
        .order_by(Unavailability.profile_id, Unavailability.start, Unavailability.id))
    load = (
        select(Deployment.leader_id, func.count(Deployment.id),
               func.sum(Deployment.half_days_agreed - Deployment.half_days_delivered))
        .where(Deployment.alliance_id == alliance, Deployment.status.in_(LIVE_STATUSES))
        .group_by(Deployment.leader_id))
    return profiles, specialisms, away, load


def candidates_for(alliance_id: int, start: date, end: date) -> list[Candidate]:
    """Every system leader in the alliance's directory, with their load and unavailability.

    Four queries whatever the number of leaders, each reading only the columns the ranking
    uses (no ORM objects: at 333 leaders building profiles, users and schools was most of the
    match page's time): the profiles with their user's name and school's local authority; the
    specialisms of every profile; the unavailable ranges that overlap ``start``-``end``; the
    live deployments' count and committed half days per leader (bench/match.py). The rows are
    read as plain tuples (Core, on the session's connection, after any pending changes are
    flushed): the ORM's result machinery was a fifth of the time."""
    db.session.flush()
    conn = db.session.connection()
    q_profiles, q_specialisms, q_away, q_load = _candidate_queries()
    params = {"alliance_id": alliance_id}
    specialisms: dict[Any, set[Any]] = {}
    for profile_id, code in conn.execute(q_specialisms, params).all():
        specialisms.setdefault(profile_id, set()).add(code)
    away: dict[Any, list[tuple[date, date]]] = {}
    spans: Any = conn.execute(q_away, {**params, "first": start, "last": end}).all()
    for profile_id, first, last in spans:
        away.setdefault(profile_id, []).append((first, last))
    loads: Any = conn.execute(q_load, params).all()
    load = {leader_id: (count, half_days or 0) for leader_id, count, half_days in loads}
    out = []
    row: Any
    for row in conn.execute(q_profiles, params).all():
        (profile_id, user_id, name, designation, home_school_id, la_id, phases, mask,
         capacity, approved, active, accepting, role) = row
        count, committed = load.get(user_id, (0, 0))
        days = capacity if approved is None else min(capacity, approved)
        out.append(Candidate(
            leader_id=user_id,
            name=name,
            designation=designation,
            home_school_id=home_school_id,
            local_authority_id=la_id,
            specialisms=frozenset(specialisms.get(profile_id, ())),
            phases=_phases(phases),
            standards=_standards(mask),
            capacity_half_days=2 * days,
            committed_half_days=max(0, int(committed)),
            active_deployments=count,
            unavailable=tuple(away.get(profile_id, ())),
            active=bool(active and accepting),
            role=role,
        ))
    return out


@lru_cache(maxsize=512)
def _standards(mask: int) -> frozenset[str]:
    return frozenset(mask_to_standards(mask))


@lru_cache(maxsize=512)
def _phases(phases: str) -> frozenset[str]:
    return frozenset(split_phases(phases))


@dataclass
class Ranking:
    need: Need
    matches: list[Match]
    exclusions: list[Exclusion]


def ranking(req: SupportRequest) -> Ranking:
    """The ranked list for a request. A commission is led by an NLE, an LLE or the Teaching
    School headteacher (Sefton B-D, ``commission_policy.may_lead``): the others are listed as
    excluded, with why; the Teaching School headteacher leads commissions only."""
    need = need_for(req)
    matches, exclusions = rank(need, candidates_for(req.alliance_id, need.start, need.end))
    if req.kind == "commission":
        def fits(c: Candidate) -> bool:
            return commission_policy.may_lead(c.designation, c.role)
        reason = commission_policy.MAY_LEAD
    else:
        def fits(c: Candidate) -> bool:
            return commission_policy.may_be_deployed(c.role, commission=False)
        reason = "The Teaching School headteacher leads commissions only"
    exclusions = [*exclusions, *(Exclusion(m.candidate, reason)
                                 for m in matches if not fits(m.candidate))]
    matches = [m for m in matches if fits(m.candidate)]
    return Ranking(need, matches, exclusions)


# ----------------------------------------------------------------------------- proposing


def propose(req: SupportRequest, leader_id: int, actor: User, *, ip: str = "") -> Deployment:
    """Propose one of the ranked (not excluded) leaders; the request becomes ``matched``."""
    require(request_policy.actions(req, actor)["propose"])
    chosen = next((m for m in ranking(req).matches if m.candidate.leader_id == leader_id), None)
    if chosen is None:
        raise NotProposable("That system leader cannot be proposed for this request.")
    profile = db.session.scalar(select(LeaderProfile).where(LeaderProfile.user_id == leader_id))
    assert profile is not None  # ranked, so in the directory
    workflow.transition(req, "matched", actor, ip=ip, detail={"leader_id": leader_id})
    n = db.session.scalar(
        select(func.count(Deployment.id)).where(Deployment.request_id == req.id)) or 0
    d = Deployment(
        reference=deployment_reference(req, n + 1),
        request_id=req.id, alliance_id=req.alliance_id, leader_id=leader_id,
        home_school_id=profile.home_school_id, designation=profile.designation,
        half_days_agreed=req.half_days_wanted, targeted=req.route == "board",
        # a Board's case-by-case concession travels with its targeted request into the charges
        concession_day_pence=req.concession_day_pence if req.route == "board" else 0,
        proposed_by_id=actor.id, status="proposed",
    )
    db.session.add(d)
    db.session.flush()
    audit.record(actor, "deployment.proposed", d, ip=ip,
                 detail={"request": req.reference, "leader_id": leader_id,
                         "score": chosen.score})
    # the leader reads "You have been proposed", not "Dear Amara Okafor, Amara Okafor has..."
    leader = profile.user
    notify.notify(
        [u for u in parties(d, req) if u is not None and u.id != leader.id],
        f"{leader.name} has been proposed for {req.reference} {req.title}: "
        "please confirm or decline",
        deployment_url(d), alliance_id=req.alliance_id,
    )
    notify.notify([leader], f"You have been proposed for {req.reference} {req.title}: "
                  "please accept or decline", deployment_url(d), alliance_id=req.alliance_id)
    return d


# ----------------------------------------------------------------------------- responses


@dataclass(frozen=True)
class Party:
    party: str
    school_id: int
    label: str


def expected_parties(d: Deployment) -> list[Party]:
    """Who must answer a proposal: each receiving school, the home school, the leader."""
    out = [Party("receiving", rs.school_id, f"Receiving headteacher, {rs.school.name}")
           for rs in d.request.schools]
    out.append(Party("home_school", d.home_school_id,
                     f"Home-school release, {d.home_school.name}"))
    out.append(Party("leader", d.home_school_id, f"System leader, {d.leader.name}"))
    return out


def party_of(d: Deployment, user: User,
             f: deployment_policy.Facts | None = None) -> Party | None:
    """The party this user answers for on this proposal, if any: the one rule is
    :func:`portal.domain.policy.deployments.party_of`; this adds the party's label."""
    mine = deployment_policy.party_of(d, user, f if f is not None else deployment_policy.facts(d))
    if mine is None:
        return None
    return next((p for p in expected_parties(d) if (p.party, p.school_id) == mine), None)


def parties(d: Deployment, req: SupportRequest | None = None) -> list[User]:
    """The users who answer for a proposal (receiving heads, home-school leaders, the leader)."""
    req = req or d.request
    school_ids = [rs.school_id for rs in req.schools]
    heads = db.session.scalars(
        select(User).where(User.role == "headteacher", User.school_id.in_(school_ids),
                           User.active.is_(True))
    ).all()
    home = db.session.scalars(
        select(User).where(User.role == "home_school", User.school_id == d.home_school_id,
                           User.active.is_(True))
    ).all()
    leader = db.session.get(User, d.leader_id)
    return [*heads, *home, *([leader] if leader is not None else [])]


def respond(d: Deployment, actor: User, decision: str, reason: str = "", *,
            ip: str = "") -> DeploymentResponse:
    """Record ``actor``'s answer. The last acceptance moves the deployment to ``agreement``;
    a decline ends the proposal and sends the request back to matching."""
    if decision not in ("accepted", "declined"):
        raise errors.Invalid("Confirm or decline the proposal.", field="decision")
    f = deployment_policy.facts(d)
    can = deployment_policy.actions(d, actor, f)
    action = "decline" if decision == "declined" else \
        deployment_policy.answer_action(d, actor, f) or "decline"
    require(can[action])
    party = party_of(d, actor)
    assert party is not None  # the policy allowed it, so this user answers for a party
    reason = (reason or "").strip()
    if decision == "declined" and not reason:
        raise workflow.ReasonRequired("Give a reason for declining.")
    return _record_answer(d, actor, party, decision, reason, ip=ip)


AGREED_VIA = {"email": "by email", "phone": "by phone", "letter": "by letter"}
ON_BEHALF_WINDOW = 365  # days back an answer given outside the portal may be dated


def respond_on_behalf(d: Deployment, actor: User, *, party: str, school_id: int,
                      decision: str, agreed_by_name: str, agreed_by_role: str,
                      agreed_via: str, agreed_on: date | None, reason: str = "",
                      today: date | None = None, ip: str = "") -> DeploymentResponse:
    """Record, for a school with no login, the answer it gave outside the portal: who agreed
    (name and role), how (email, phone or letter) and on what day (not in the future). The
    co-ordinator or director who records it is the response's user; the rest of the journey is
    exactly as if the school had answered itself."""
    action = {"receiving": "confirm_on_behalf", "home_school": "release_on_behalf"}.get(party)
    if action is None or decision not in ("accepted", "declined"):
        raise errors.Invalid("Choose whose answer you are recording.", field="school")
    f = deployment_policy.facts(d)
    require(deployment_policy.actions(d, actor, f)[action])
    if school_id not in deployment_policy.on_behalf_schools(d, f, party):
        raise errors.Invalid("Choose a school that has not answered and has no login.",
                             field="school")
    details = on_behalf_details(agreed_by_name, agreed_by_role, agreed_via, agreed_on,
                                today=today)
    reason = (reason or "").strip()
    if decision == "declined" and not reason:
        raise workflow.ReasonRequired("Give the reason they declined.")
    who = next(p for p in expected_parties(d) if (p.party, p.school_id) == (party, school_id))
    return _record_answer(d, actor, who, decision, reason, ip=ip, on_behalf=details)


def on_behalf_details(agreed_by_name: str, agreed_by_role: str, agreed_via: str,
                      agreed_on: date | None, *, today: date | None = None) -> dict:
    """Who at a school gave an answer outside the portal, how and when, checked (each
    :class:`errors.Invalid` beside its field); also used for signatures recorded on behalf."""
    name, role = (agreed_by_name or "").strip(), (agreed_by_role or "").strip()
    if not name:
        raise errors.Invalid("Enter the name of the person who gave the answer.",
                             field="agreed_by_name")
    if not role:
        raise errors.Invalid("Enter their role, for example headteacher.",
                             field="agreed_by_role")
    if len(name) > 120 or len(role) > 120:
        raise errors.Invalid("Keep the name and role to 120 characters each.",
                             field="agreed_by_name" if len(name) > 120 else "agreed_by_role")
    if agreed_via not in AGREED_VIA:
        raise errors.Invalid("Choose how they gave their answer: email, phone or letter.",
                             field="agreed_via")
    today = today or utcnow().date()
    if agreed_on is None:
        raise errors.Invalid("Enter the date they gave their answer.", field="agreed_on")
    if agreed_on > today:
        raise errors.Invalid("The date they answered cannot be in the future.",
                             field="agreed_on")
    if (today - agreed_on).days > ON_BEHALF_WINDOW:
        raise errors.Invalid("Enter the date they answered: it cannot be more than a year ago.",
                             field="agreed_on")
    return {"agreed_by_name": name, "agreed_by_role": role, "agreed_via": agreed_via,
            "agreed_on": agreed_on}


def on_behalf_summary(r: DeploymentResponse) -> str:
    """ "Released by Jo Smith, headteacher, by phone on 1 Dec 2026" for an answer recorded on
    a school's behalf."""
    from ..formatting import uk_date

    verb = "Declined" if r.decision == "declined" else \
        {"home_school": "Released", "receiving": "Confirmed"}.get(r.party, "Agreed")
    return (f"{verb} by {r.agreed_by_name}, {r.agreed_by_role}, "
            f"{AGREED_VIA.get(r.agreed_via or '', '')} on {uk_date(r.agreed_on)}")


def _record_answer(d: Deployment, actor: User, party: Party, decision: str, reason: str, *,
                   ip: str = "", on_behalf: dict | None = None) -> DeploymentResponse:
    """Store one party's answer, audit it and move the proposal on (see :func:`respond`)."""
    response = DeploymentResponse(party=party.party, school_id=party.school_id,
                                  user_id=actor.id, decision=decision, reason=reason,
                                  **(on_behalf or {}))
    d.responses.append(response)
    db.session.flush()
    detail: dict = {"party": party.party, "school_id": party.school_id,
                    **({"reason": reason} if reason else {})}
    if on_behalf:
        detail["on_behalf"] = {**on_behalf, "agreed_on": on_behalf["agreed_on"].isoformat()}
    audit.record(actor, f"deployment.{party.party}_{decision}", d, ip=ip, detail=detail)
    req = d.request
    admins = admins_of(d.alliance_id)
    if decision == "declined" and d.commission_id is not None:
        # someone deployed under a commission: the commission goes on without them
        from . import agreements

        workflow.transition(d, "declined", actor, reason=reason, ip=ip)
        notify.notify([*admins, *parties(d, req), *([d.commissioning_leader]
                                                   if d.commissioning_leader else [])],
                      f"{party.label} declined {d.leader.name} for commission "
                      f"{d.commission.reference if d.commission else ''}: {reason}"[:300],
                      deployment_url(d), alliance_id=d.alliance_id)
        if d.commission is not None:
            agreements.amend_commission(d.commission, actor, ip=ip,
                                        why=f"{d.leader.name} was declined for the commission")
        return response
    if decision == "declined":
        workflow.transition(d, "declined", actor, reason=reason, ip=ip)
        if req.status == "matched":
            workflow.transition(req, "matching", actor, reason=reason, ip=ip,
                                detail={"deployment": d.reference})
        req.triage_note = f"{party.label} declined {d.leader.name}: {reason}"
        notify.notify([*admins, *parties(d, req)],
                      f"{party.label} declined the proposal for {req.reference}: {reason}",
                      request_url(req), alliance_id=d.alliance_id)
        return response
    answered = {(r.party, r.school_id) for r in d.responses if r.decision == "accepted"}
    missing = [p for p in expected_parties(d) if (p.party, p.school_id) not in answered]
    if missing:
        # bump the version so two answers at once cannot both believe they were not last
        flag_modified(d, "status")
        notify.notify(admins, f"{party.label} accepted the proposal for {req.reference}",
                      deployment_url(d), alliance_id=d.alliance_id, email=False)
    elif funding_policy.awaiting_board(d):
        # everyone has confirmed, but the Board has not approved its share: the agreement waits
        flag_modified(d, "status")
        notify.notify([*admins, *board_members(req.board_id)],
                      f"Everyone has confirmed {d.reference} {req.title}: the Board's approval "
                      "of the funding is needed before the agreement",
                      deployment_url(d), alliance_id=d.alliance_id)
    else:
        to_agreement(d, actor, ip=ip)
    return response


def all_confirmed(d: Deployment) -> bool:
    answered = {(r.party, r.school_id) for r in d.responses if r.decision == "accepted"}
    return all((p.party, p.school_id) in answered for p in expected_parties(d))


def to_agreement(d: Deployment, actor: User | None, *, ip: str = "") -> None:
    """Every party has confirmed (and the Board, if it pays, approved): draft the agreement."""
    workflow.transition(d, "agreement", actor, ip=ip)
    req = d.request
    notify.notify([*admins_of(d.alliance_id), *parties(d, req)],
                  f"Everyone has confirmed {d.reference} {req.title}: the agreement is next",
                  deployment_url(d), alliance_id=d.alliance_id)


def agree_if_ready(d: Deployment, actor: User | None, *, ip: str = "") -> bool:
    """Move a proposal on to the agreement once nothing is missing (after the Board's approval
    or a change of who pays); returns whether it moved."""
    if d.status == "proposed" and all_confirmed(d) and not funding_policy.awaiting_board(d):
        to_agreement(d, actor, ip=ip)
        return True
    return False
