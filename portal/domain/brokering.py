"""Journey steps 1-3 against the database: file a request, match it, propose, confirm, release.

:mod:`portal.domain.matching` ranks plain data; :func:`ranking` builds its ``Need`` and
``Candidate`` objects from the model in a fixed number of queries (profiles with their users and
home schools, specialisms, unavailable ranges, and one aggregate of live deployments), whatever
the size of the directory.

Status changes go through :func:`portal.domain.workflow.transition` (which audits them); the
caller commits once with :func:`portal.domain.workflow.commit_or_conflict`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from ..extensions import db
from ..models import (
    LIVE_STATUSES,
    Deployment,
    DeploymentResponse,
    LeaderProfile,
    RequestSchool,
    School,
    SupportRequest,
    User,
    utcnow,
)
from . import access, audit, errors, notify, workflow
from .matching import Candidate, Exclusion, Match, Need, rank
from .policy import Decision
from .policy import deployments as deployment_policy
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
    """The inbox counted in one query, by the same :func:`in_inbox` the lists use."""
    cutoff = (now or utcnow()) - MATCH_TARGET
    for_match = SupportRequest.status.in_(WAITING_FOR_MATCH)
    row = db.session.execute(
        select(func.count(SupportRequest.id).filter(for_match),
               func.count(SupportRequest.id).filter(~for_match),
               func.count(SupportRequest.id).filter(for_match
                                                    & (SupportRequest.submitted_at < cutoff)))
        .where(in_inbox(user))
    ).one()
    return InboxCounts(for_match=row[0], for_school=row[1], overdue=row[2])


# A lost race can surface at an autoflush before the commit: treat it like workflow.Conflict.
CONFLICTS = (workflow.Conflict, StaleDataError, IntegrityError)


class NotProposable(errors.NotNow, ValueError):
    """The leader cannot be proposed for this request (excluded, or not in the alliance)."""


# ----------------------------------------------------------------------------- requests


def new_reference(prefix: str, number: int, today: date | None = None) -> str:
    today = today or utcnow().date()
    return f"{prefix}-{today.year}-{number:05d}"


def create_request(actor: User, **fields) -> SupportRequest:
    """A new draft request by ``actor`` (a headteacher, or a Board member for the Board)."""
    school_ids: list[int] = fields.pop("school_ids")
    req = SupportRequest(alliance_id=actor.alliance_id, requested_by_id=actor.id,
                         status="draft", reference=f"tmp-{actor.id}-{utcnow().timestamp()}"[:20],
                         **fields)
    if actor.role == "board" and actor.board_id:
        req.board_id = actor.board_id
    set_schools(req, school_ids)
    db.session.add(req)
    db.session.flush()
    req.reference = new_reference("R", req.id)
    audit.record(actor, "supportrequest.created", req, detail={"reference": req.reference})
    return req


def _require(decision: Decision) -> None:
    """:func:`portal.domain.policy.require`, raising :class:`workflow.IllegalTransition` (a
    :class:`errors.NotNow`, 403 when forbidden) so older callers that catch it still do."""
    if not decision.allowed:
        raise workflow.IllegalTransition(decision.reason, forbidden=decision.forbidden)


# each request action that moves the request, and the status it moves it to
MOVES = {"submit": "submitted", "resubmit": "submitted", "withdraw": "withdrawn",
         "accept": "matching", "ask_more_info": "more_info", "decline": "declined"}


def move_request(req: SupportRequest, action: str, actor: User, *, reason: str = "",
                 ip: str = "") -> None:
    """Take one request action (:data:`MOVES`): the policy decides first (403 or 409 with its
    reason), then the state machine moves and audits it. The caller's unit of work commits."""
    _require(request_policy.actions(req, actor)[action])
    workflow.transition(req, MOVES[action], actor, reason=reason, ip=ip)


def submit_request(req: SupportRequest, actor: User, *, ip: str = "") -> None:
    """Submit a draft, or send the extra information asked for: whichever the policy allows."""
    can = request_policy.actions(req, actor)
    move_request(req, "resubmit" if can["resubmit"] else "submit", actor, ip=ip)


def set_schools(req: SupportRequest, school_ids: list[int]) -> None:
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
    rows = db.session.execute(
        select(RequestSchool.school_id, School.local_authority_id)
        .join(School, School.id == RequestSchool.school_id)
        .where(RequestSchool.request_id == req.id)
    ).all()
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


def candidates_for(alliance_id: int, start: date, end: date) -> list[Candidate]:
    """Every system leader in the alliance's directory, with their load and unavailability."""
    profiles = db.session.scalars(
        select(LeaderProfile)
        .where(LeaderProfile.alliance_id == alliance_id)
        .options(
            joinedload(LeaderProfile.user),
            joinedload(LeaderProfile.home_school),
            selectinload(LeaderProfile.specialisms),
            selectinload(LeaderProfile.unavailable),
        )
    ).unique().all()
    load = {
        leader_id: (count, half_days or 0)
        for leader_id, count, half_days in db.session.execute(
            select(Deployment.leader_id, func.count(Deployment.id),
                   func.sum(Deployment.half_days_agreed - Deployment.half_days_delivered))
            .where(Deployment.alliance_id == alliance_id,
                   Deployment.status.in_(LIVE_STATUSES))
            .group_by(Deployment.leader_id)
        ).all()
    }
    out = []
    for p in profiles:
        count, committed = load.get(p.user_id, (0, 0))
        days = p.capacity_days
        if p.release_approved_days is not None:
            days = min(days, p.release_approved_days)
        out.append(Candidate(
            leader_id=p.user_id,
            name=p.user.name,
            designation=p.designation,
            home_school_id=p.home_school_id,
            local_authority_id=p.home_school.local_authority_id,
            specialisms=frozenset(s.code for s in p.specialisms),
            phases=frozenset(p.phase_list),
            standards=frozenset(p.standards),
            capacity_half_days=2 * days,
            committed_half_days=max(0, int(committed)),
            active_deployments=count,
            unavailable=tuple((u.start, u.end) for u in p.unavailable
                              if u.start <= end and u.end >= start),
            active=p.user.active and p.accepting,
        ))
    return out


@dataclass
class Ranking:
    need: Need
    matches: list[Match]
    exclusions: list[Exclusion]


def ranking(req: SupportRequest) -> Ranking:
    need = need_for(req)
    matches, exclusions = rank(need, candidates_for(req.alliance_id, need.start, need.end))
    return Ranking(need, matches, exclusions)


# ----------------------------------------------------------------------------- proposing


def propose(req: SupportRequest, leader_id: int, actor: User, *, ip: str = "") -> Deployment:
    """Propose one of the ranked (not excluded) leaders; the request becomes ``matched``."""
    _require(request_policy.actions(req, actor)["propose"])
    chosen = next((m for m in ranking(req).matches if m.candidate.leader_id == leader_id), None)
    if chosen is None:
        raise NotProposable("That system leader cannot be proposed for this request.")
    profile = db.session.scalar(select(LeaderProfile).where(LeaderProfile.user_id == leader_id))
    workflow.transition(req, "matched", actor, ip=ip, detail={"leader_id": leader_id})
    n = db.session.scalar(
        select(func.count(Deployment.id)).where(Deployment.request_id == req.id)) or 0
    d = Deployment(
        reference=f"D-{utcnow().year}-{req.id:05d}-{n + 1}",
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
    notify.notify(
        parties(d, req),
        f"{profile.user.name} has been proposed for {req.reference} {req.title}: "
        "please confirm or decline",
        deployment_url(d), alliance_id=req.alliance_id,
    )
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


def party_of(d: Deployment, user: User) -> Party | None:
    """The party this user answers for on this proposal, if any."""
    for p in expected_parties(d):
        if p.party == "receiving" and user.role == "headteacher" and user.school_id == p.school_id:
            return p
        if p.party == "home_school" and user.role == "home_school" \
                and user.school_id == p.school_id:
            return p
        if p.party == "leader" and user.role == "sle" and user.id == d.leader_id:
            return p
    return None


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
    return [*heads, *home, db.session.get(User, d.leader_id)]


def respond(d: Deployment, actor: User, decision: str, reason: str = "", *,
            ip: str = "") -> DeploymentResponse:
    """Record ``actor``'s answer. The last acceptance moves the deployment to ``agreement``;
    a decline ends the proposal and sends the request back to matching."""
    if decision not in ("accepted", "declined"):
        raise ValueError("decision must be accepted or declined")
    f = deployment_policy.facts(d)
    can = deployment_policy.actions(d, actor, f)
    action = "decline" if decision == "declined" else \
        deployment_policy.answer_action(d, actor, f) or "decline"
    _require(can[action])
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
    _require(deployment_policy.actions(d, actor, f)[action])
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
    else:
        workflow.transition(d, "agreement", actor, ip=ip)
        notify.notify([*admins, *parties(d, req)],
                      f"Everyone has confirmed {d.reference} {req.title}: the agreement is next",
                      deployment_url(d), alliance_id=d.alliance_id)
    return response
