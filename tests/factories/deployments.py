"""Deployments: a proposal for a request, and :func:`advance`, the one way a test moves it on.

``advance`` never sets ``status``: it does what the people do, through the domain functions the
routes call, so every hook runs (the agreement drafted on confirmation, the plan created on the
last signature, invoices raised on completion) and the audit trail and notifications are real:

* ``proposed -> agreement``: the request is accepted for matching and matched by the
  co-ordinator, then each receiving headteacher, the home school (the release) and the leader
  confirm (``brokering.respond``);
* ``agreement -> active``: every signatory signs the current version (``agreements.sign``);
* while ``active``: the leader logs visits until ``delivered`` half days are delivered
  (``plans.log_visit``);
* ``active -> evaluation``: the leader submits the final evaluation, rating every outcome of the
  plan (``evaluations.submit_leader_evaluation``);
* ``evaluation -> completed``: the co-ordinator forwards it, each receiving headteacher signs
  off (and the officer, for a group's request) and the director gives the final
  quality-assurance sign-off;
* ``active``/``evaluation`` ``-> ended_early``: the co-ordinator ends it early
  (``evaluations.end_early``) with what was delivered.

Nothing is committed; the caller commits (as a request does).
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from portal.domain import agreements as agreement_service
from portal.domain import brokering, evaluations, plans, workflow
from portal.extensions import db
from portal.formatting import LONDON
from portal.models import Deployment, SupportRequest, User, utcnow

from ._seq import next_number
from .people import acting

# The way from "proposed" to each status a test may ask for.
PATHS: dict[str, tuple[str, ...]] = {
    "proposed": (),
    "agreement": ("agreement",),
    "active": ("agreement", "active"),
    "evaluation": ("agreement", "active", "evaluation"),
    "completed": ("agreement", "active", "evaluation", "completed"),
    "ended_early": ("agreement", "active", "ended_early"),
}


def deployment(r: SupportRequest, leader_user: User, *, half_days: int = 8) -> Deployment:
    """A proposal of ``leader_user`` for ``r`` (as ``brokering.propose`` makes it, without
    ranking the leader first). Move it on with :func:`advance`."""
    d = Deployment(reference=f"D-T-{next_number():05d}", request_id=r.id,
                   alliance_id=r.alliance_id, leader_id=leader_user.id,
                   home_school_id=leader_user.profile.home_school_id,
                   designation=leader_user.profile.designation, status="proposed",
                   half_days_agreed=half_days)
    db.session.add(d)
    db.session.flush()
    return d


# ------------------------------------------------------------------------------ the people


def _admin(d: Deployment) -> User:
    return acting("admin", alliance_id=d.alliance_id)


def _director(d: Deployment) -> User:
    return acting("director", alliance_id=d.alliance_id)


def _heads(d: Deployment) -> list[User]:
    return [acting("headteacher", alliance_id=d.alliance_id, school_id=rs.school_id)
            for rs in d.request.schools]


# ------------------------------------------------------------------------------ the steps


def _match_request(d: Deployment) -> None:
    """A deployment exists because its request was matched: accept it for matching and match it,
    as the co-ordinator does before proposing."""
    req = d.request
    if req.status == "submitted":
        workflow.transition(req, "matching", _admin(d))
    if req.status == "matching":
        workflow.transition(req, "matched", _admin(d), detail={"leader_id": d.leader_id})


def _confirm(d: Deployment) -> None:
    _match_request(d)
    answered = {(r.party, r.school_id) for r in d.responses}
    for party in brokering.expected_parties(d):
        if (party.party, party.school_id) in answered:
            continue
        if party.party == "leader":
            who = d.leader
        elif party.party == "home_school":
            who = acting("home_school", alliance_id=d.alliance_id, school_id=party.school_id)
        else:
            who = acting("headteacher", alliance_id=d.alliance_id, school_id=party.school_id)
        brokering.respond(d, who, "accepted")
    _approve_funding(d)
    db.session.flush()


def _approve_funding(d: Deployment) -> None:
    """A Board-funded proposal also waits for its Board: a member approves (with the concession
    the deployment already carries) through the same command the Board's page calls."""
    from portal.domain import boards
    from portal.domain.policy import funding

    if d.status != "proposed" or not funding.awaiting_board(d):
        return
    member = next(iter(brokering.board_members(d.request.board_id)), None)
    if member is None:
        raise LookupError(f"the Board-funded deployment {d.reference} needs a member of its "
                          "Board (request.board_id) to approve the funding")
    boards.approve_funding(d, member, concession_day=d.concession_day_pence or 0)


def _sign_all(d: Deployment) -> None:
    from .agreements import sign  # agreements builds its world with advance(): import here

    candidates = agreement_service.eligible_users(d)
    for slot in agreement_service.slots(d, agreement_service.current(d.id)):
        if slot.signed:
            continue
        who = next((u for u in candidates if agreement_service.holds(slot, d, u)), None)
        if who is None:
            raise LookupError(f"advance() found nobody to sign as {slot.description}")
        sign(agreement_service.current(d.id), who)
    db.session.flush()


def _cover_time_frame(d: Deployment) -> None:
    """Back-date the signing to ``d.active_at``: the signed agreement says so too, since visits
    may not come before it (its time frame was drafted wide enough by :func:`_widen`)."""
    from portal.models import Agreement

    for agreement in db.session.scalars(
            select(Agreement).where(Agreement.deployment_id == d.id,
                                    Agreement.signed_at.is_not(None))):
        agreement.signed_at = d.active_at


def _widen(d: Deployment, days_back: int) -> None:
    """Before the agreement is drafted: a time frame from ``days_back`` days ago to two months
    ahead, so that visits logged on past days (after a back-dated signing) fall inside it."""
    req = d.request
    today = utcnow().astimezone(LONDON).date()
    req.start_date = min(req.start_date or today, today - timedelta(days=days_back))
    req.end_date = max(req.end_date or today, today + timedelta(days=60))


def _deliver(d: Deployment, half_days: int) -> None:
    """Log visits (a day each, the last a half day if odd) on past days until ``half_days``."""
    from portal.models import Visit

    today = date.today()
    taken = set(db.session.scalars(select(Visit.visit_date).where(Visit.deployment_id == d.id)))
    days = (half_days - d.half_days_delivered + 1) // 2 + len(taken)
    if days > len(taken) and d.active_at > utcnow() - timedelta(days=days + 1):
        # visits go on past days, and none may come before the signing: sign that much earlier
        d.active_at = utcnow() - timedelta(days=days + 1)
        d.confirmed_at = min(d.confirmed_at, d.active_at - timedelta(days=1))
        _cover_time_frame(d)
    back = 1
    while d.half_days_delivered < half_days:
        day = today - timedelta(days=back)
        back += 1
        if day in taken:
            continue
        length = min(2, half_days - d.half_days_delivered)
        plans.log_visit(d, d.leader, visit_date=day, half_days=length,
                        notes="Worked alongside the class teachers")


def _ratings(d: Deployment, rating: int, evidence: str) -> dict[int, evaluations.Rating]:
    return {o.id: evaluations.Rating(rating, evidence) for o in evaluations.outcomes_for(d)}


def _evaluate(d: Deployment) -> None:
    evaluations.submit_leader_evaluation(
        d, d.leader, ratings=_ratings(d, 3, "Book looks and lesson visits"),
        summary="The teachers now plan for reasoning.",
        changes_for_teachers="Sequences build reasoning step by step.",
        changes_for_pupils="Pupils explain their methods.",
        recommendations="Keep the sentence stems.", exit_arrangements="The maths lead takes over.")


def people_rated(d: Deployment, rating: int = 4) -> dict[int, evaluations.Rating]:
    """On a commission, the supported school's rating of everyone deployed under it."""
    return {p.id: evaluations.Rating(rating, "Worked well with our staff")
            for p in evaluations.people_to_rate(d)}


def _sign_off(d: Deployment, support_quality: int) -> None:
    evaluations.forward(d, _admin(d))
    for head in _heads(d):
        evaluations.sign_off_school(d, head, ratings=_ratings(d, 3, ""),
                                    support_quality=support_quality, value_for_money=4,
                                    would_use_again=True, summary="Good support.",
                                    people=people_rated(d, support_quality))
    filer = d.request.requested_by
    if filer.role == "officer":  # a group's request: the officer signs for the whole group
        evaluations.sign_off_group(d, filer, ratings=_ratings(d, 3, ""),
                                   support_quality=support_quality, value_for_money=4,
                                   would_use_again=True, summary="Good for the group.")
    evaluations.final_sign_off(d, _director(d), notes="Quality assured.")


def _end_early(d: Deployment, reason: str) -> None:
    today = date.today()
    evaluations.end_early(d, _admin(d), reason=reason,
                          last_day_delivered=d.last_day_delivered or today,
                          half_days_delivered=d.half_days_delivered, today=today)


def advance(d: Deployment, to: str, *, delivered: int = 0, confirmed_days_ago: int | None = None,
            first_contact_days_ago: int | None = None, support_quality: int = 4,
            reason: str = "The system leader is ill") -> Deployment:
    """Drive ``d`` from where it is to ``to`` through the real workflow (see the module).

    ``delivered``: the half days delivered (as visits) before it leaves ``active``.
    ``confirmed_days_ago``: back-date the confirmation (and the signing, a day later) for tests
    of a clock that runs from it; ``first_contact_days_ago``: the leader logs first contact, that
    many days ago, once it is confirmed. ``support_quality`` is what each receiving school rates
    the leader's support at sign-off; ``reason`` why it ended early.
    """
    if to not in PATHS:
        raise ValueError(f"advance() goes to one of {sorted(PATHS)}, not {to!r}")
    path = PATHS[to]
    if d.status in path:
        remaining = path[path.index(d.status) + 1:]
    elif d.status == "proposed":
        remaining = path
    elif d.status == "evaluation" and to == "ended_early":
        remaining = ("ended_early",)
    else:
        raise ValueError(f"advance() cannot take {d.reference} from {d.status!r} to {to!r}")
    for target in remaining:
        if d.status == "active":
            _deliver(d, delivered)
        if target == "agreement":
            _widen(d, (confirmed_days_ago or 0) + (delivered + 1) // 2 + 40)
            _confirm(d)
            if confirmed_days_ago is not None:
                d.confirmed_at = utcnow() - timedelta(days=confirmed_days_ago)
            if first_contact_days_ago is not None:
                plans.log_first_contact(
                    d, d.leader, now=utcnow() - timedelta(days=first_contact_days_ago))
        elif target == "active":
            _sign_all(d)
            if confirmed_days_ago is not None:
                d.active_at = d.confirmed_at + timedelta(days=1)
                _cover_time_frame(d)
        elif target == "evaluation":
            _evaluate(d)
        elif target == "completed":
            _sign_off(d, support_quality)
        elif target == "ended_early":
            _end_early(d, reason)
        if d.status != target:  # a domain rule refused the step
            raise AssertionError(f"advance() left {d.reference} at {d.status!r}, not {target!r}")
    if d.status == "active":
        _deliver(d, delivered)
    db.session.flush()
    return d
