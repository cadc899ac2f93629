"""Step 6 of the journey: evaluate, sign off, quality-assure and close a deployment.

The flow (East Sussex step 6, Sefton D and E):

1. the system leader submits the final evaluation: impact against each intended outcome of the
   action plan (rating and evidence), what changed for the teacher(s) and the pupils,
   recommendations and exit arrangements. The deployment moves ``active -> evaluation``;
2. the co-ordinator (admin) reviews it and forwards it to each receiving school: one school
   evaluation per receiving school is opened;
3. each receiving headteacher adds the school's evaluation (impact per outcome, quality of the
   leader's support, value for money, would use again) and signs off, or returns the leader's
   evaluation with a reason; the leader revises it and the admin forwards it again;
4. the director records quality-assurance notes during the commission (mid-point reviews) and
   gives the final QA sign-off, which closes the deployment (``evaluation -> completed``) once
   every receiving school has signed off.

Early end: the admin or director records that the leader cannot complete (reason, last day
delivered, half days delivered); the deployment moves to ``ended_early`` and the charging hooks
settle the money.

Concurrency: every action here changes the deployment row (its status, or a forced version
bump), and forms carry the deployment ``version`` the user saw. Two people acting at once, or a
double click, therefore make one change; the other gets :class:`workflow.Conflict`.
Who may do what, and when, is decided in ``portal/domain/policy/evaluations.py``: every
command here starts by requiring its decision. Every function adds to the current
transaction; the request's unit of work commits once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm.attributes import flag_modified

from ..extensions import db
from ..models import (
    ActionPlan,
    Deployment,
    Evaluation,
    EvaluationDraft,
    Outcome,
    OutcomeRating,
    PersonRating,
    User,
    utcnow,
)
from . import audit, errors, workflow
from .notify import notify
from .policy import evaluations as policy
from .policy import receiving_schools, require
from .policy.commissions import is_commission

OVERSEERS = ("admin", "director")
SCORES = {1: "Poor", 2: "Requires improvement", 3: "Good", 4: "Excellent"}


class EvaluationError(errors.NotNow):
    """The action is not possible in the deployment's current state (answered 409)."""


class NotAllowed(errors.Forbidden):
    """This user may see the deployment but not take this part in it (answered 403)."""


@dataclass(frozen=True)
class Rating:
    rating: int
    evidence: str = ""


# ------------------------------------------------------------------------------------ reading


def outcomes_for(d: Deployment) -> list[Outcome]:
    """The intended outcomes of the deployment's action plan, in plan order."""
    return list(db.session.scalars(
        select(Outcome).join(ActionPlan, Outcome.plan_id == ActionPlan.id)
        .where(ActionPlan.deployment_id == d.id).order_by(Outcome.position, Outcome.id)
    ))


def people_to_rate(d: Deployment) -> list[Deployment]:
    """On a commission, the people deployed under it (not those declined or taken off), whom
    the supported school rates in its evaluation of the commission as a whole; else none."""
    from . import finance

    if not is_commission(d):
        return []

    return finance.commission_members(d)[1:]


def evaluations(d: Deployment, kind: str | None = None) -> list[Evaluation]:
    stmt = select(Evaluation).where(Evaluation.deployment_id == d.id)
    if kind:
        stmt = stmt.where(Evaluation.kind == kind)
    return list(db.session.scalars(stmt.order_by(Evaluation.created_at, Evaluation.id)))


def leader_evaluation(d: Deployment) -> Evaluation | None:
    found = evaluations(d, "leader")
    return found[0] if found else None


def school_evaluation(d: Deployment, school_id: int | None) -> Evaluation | None:
    if school_id is None:
        return None
    return db.session.scalar(select(Evaluation).where(
        Evaluation.deployment_id == d.id, Evaluation.kind == "school",
        Evaluation.school_id == school_id))


def all_schools_signed_off(d: Deployment) -> bool:
    return policy.facts(d).all_signed_off


def is_receiving_head(d: Deployment, user: User) -> bool:
    return policy.is_receiving_head(user, policy.facts(d))


def _require(decision: policy.Decision) -> None:
    require(decision, forbidden=NotAllowed, not_now=EvaluationError)


# ---------------------------------------------------------------------------------- helpers


# a command called without the version seen (the CLI, the demo, tests) does not check it
ANY_VERSION: object = object()


def check_version(d: Deployment, seen: object) -> None:
    """The user acted on the deployment as it was at ``seen``; refuse if it has moved since,
    or if the form did not say (it is never saved over a newer version)."""
    if seen is ANY_VERSION:
        return
    if seen is None:
        raise errors.Conflict(
            "This form did not say which version of the deployment it was filled in on, so "
            "nothing was saved over anyone else's change. Reload the page and try again.")
    if seen != d.version:
        raise errors.Conflict(
            "Someone else changed this deployment while you were working. Reload the page to "
            "see the latest version; nothing of yours was saved.")


def _touch(d: Deployment) -> None:
    """Bump the deployment's version so a concurrent action on it fails instead of doubling."""
    flag_modified(d, "status")


def _people(d: Deployment, *roles: str) -> list[User]:
    return list(db.session.scalars(select(User).where(
        User.alliance_id == d.alliance_id, User.role.in_(roles), User.active.is_(True))))


def _heads(d: Deployment) -> list[User]:
    ids = [s.id for s in receiving_schools(d)]
    return list(db.session.scalars(select(User).where(
        User.role == "headteacher", User.school_id.in_(ids), User.active.is_(True))))


def _board_members(d: Deployment) -> list[User]:
    board_id = d.request.board_id
    if not board_id:
        return []
    return list(db.session.scalars(select(User).where(
        User.role == "board", User.board_id == board_id, User.active.is_(True))))


def _url(d: Deployment) -> str:
    return f"/deployments/{d.id}#panel-evaluations"


def _set_ratings(ev: Evaluation, outcomes: list[Outcome], ratings: dict[int, Rating],
                 *, evidence_required: bool) -> None:
    wanted = {o.id for o in outcomes}
    missing = wanted - set(ratings)
    if missing:
        raise errors.Invalid("Rate the impact against every intended outcome.")
    for outcome_id, r in ratings.items():
        if outcome_id not in wanted:
            raise errors.Invalid("A rating names an outcome that is not in this action plan.")
        if r.rating not in SCORES:
            raise errors.Invalid("Each rating must be from 1 to 4.")
        if evidence_required and not r.evidence.strip():
            raise errors.Invalid("Give the evidence for each rating.")
    by_outcome = {r.outcome_id: r for r in ev.ratings}
    for outcome_id, r in ratings.items():
        row = by_outcome.get(outcome_id)
        if row is None:
            ev.ratings.append(OutcomeRating(outcome_id=outcome_id, rating=r.rating,
                                            evidence=r.evidence.strip()))
        else:
            row.rating, row.evidence = r.rating, r.evidence.strip()


# ----------------------------------------------------------------------------------- drafts

# each kind of draft, and the action whose decision saving it needs (the same as sending it)
DRAFT_ACTIONS = {"leader": "evaluate", "school": "sign_school", "group": "sign_group",
                 "qa_mid": "qa_note"}
MAX_DRAFT_FIELDS = 200
MAX_DRAFT_VALUE = 20_000


def draft_for(d: Deployment, user: User, kind: str) -> EvaluationDraft | None:
    """The user's own draft of ``kind`` for this deployment (nobody else's is ever loaded)."""
    return db.session.scalar(select(EvaluationDraft).where(
        EvaluationDraft.deployment_id == d.id, EvaluationDraft.kind == kind,
        EvaluationDraft.author_id == user.id))


def save_draft(d: Deployment, actor: User, kind: str, fields: dict[str, str], *,
               ip: str = "") -> EvaluationDraft:
    """Keep what ``actor`` has typed so far, to finish later: allowed exactly when sending it
    is (the same decision), checked for size only (sending it validates it in full), private
    to them, never counted as submitted, and audited (that a draft was saved, not its text)."""
    if kind not in DRAFT_ACTIONS:
        raise errors.Invalid("That evaluation cannot be saved as a draft.")
    _require(policy.actions(d, actor)[DRAFT_ACTIONS[kind]])
    kept = {str(k): str(v) for k, v in list(fields.items())[:MAX_DRAFT_FIELDS]}
    if any(len(v) > MAX_DRAFT_VALUE for v in kept.values()):
        raise errors.Invalid(f"An answer is longer than {MAX_DRAFT_VALUE:,} characters: "
                             "shorten it and save again.")
    draft = draft_for(d, actor, kind)
    if draft is None:
        draft = EvaluationDraft(deployment_id=d.id, kind=kind, author_id=actor.id)
        db.session.add(draft)
    draft.fields = kept
    draft.updated_at = utcnow()
    db.session.flush()
    audit.record(actor, "evaluation.draft_saved", d, alliance_id=d.alliance_id, ip=ip,
                 detail={"deployment": d.reference, "kind": kind})
    return draft


def _drop_draft(d: Deployment, actor: User, kind: str) -> None:
    """Sent in full: the draft has done its work."""
    draft = draft_for(d, actor, kind)
    if draft is not None:
        db.session.delete(draft)


# ---------------------------------------------------------------------------------- actions


def submit_leader_evaluation(
    d: Deployment, actor: User, *, ratings: dict[int, Rating], summary: str,
    changes_for_teachers: str, changes_for_pupils: str, recommendations: str,
    exit_arrangements: str, seen_version: object = ANY_VERSION, ip: str = "",
) -> Evaluation:
    """The leader's final evaluation: first submission moves the deployment to evaluation;
    a returned (or not yet forwarded) evaluation may be revised and submitted again."""
    f = policy.facts(d)
    _require(policy.evaluate(d, actor, f))
    check_version(d, seen_version)
    ev = f.leader
    first = ev is None
    if ev is None:
        ev = Evaluation(deployment_id=d.id, kind="leader", author_id=actor.id)
        db.session.add(ev)
    _set_ratings(ev, outcomes_for(d), ratings, evidence_required=True)
    ev.summary = summary.strip()
    ev.changes_for_teachers = changes_for_teachers.strip()
    ev.changes_for_pupils = changes_for_pupils.strip()
    ev.recommendations = recommendations.strip()
    ev.exit_arrangements = exit_arrangements.strip()
    ev.status = "submitted"
    ev.return_reason = ""
    ev.submitted_at = utcnow()
    if first:
        workflow.transition(d, "evaluation", actor, ip=ip)
    else:
        _touch(d)
    db.session.flush()
    audit.record(actor, "evaluation.submitted", ev, alliance_id=d.alliance_id,
                 detail={"deployment": d.reference, "revised": not first}, ip=ip)
    _drop_draft(d, actor, "leader")
    notify(_people(d, "admin"),
           f"{actor.name} submitted the final evaluation for {d.reference}: review and forward it",
           _url(d))
    return ev


def forward(d: Deployment, actor: User, *, seen_version: object = ANY_VERSION,
            ip: str = "") -> list[Evaluation]:
    """The co-ordinator forwards the leader's evaluation to every receiving school."""
    f = policy.facts(d)
    _require(policy.forward(d, actor, f))
    check_version(d, seen_version)
    ev = f.leader
    assert ev is not None
    ev.status = "forwarded"
    opened = []
    for school in receiving_schools(d):
        own = school_evaluation(d, school.id)
        if own is None:
            own = Evaluation(deployment_id=d.id, kind="school", school_id=school.id,
                             author_id=actor.id, status="forwarded")
            db.session.add(own)
        else:
            # the leader's text changed since any earlier sign-off: every school looks again
            own.status, own.return_reason = "forwarded", ""
        opened.append(own)
    if f.filed_by is not None and d.request.requested_by.role == "officer":
        # an officer asked for the group: they evaluate the support to the group as a whole
        group = f.group
        if group is None:
            group = Evaluation(deployment_id=d.id, kind="group", author_id=actor.id,
                               status="forwarded")
            db.session.add(group)
        else:
            group.status, group.return_reason = "forwarded", ""
        opened.append(group)
    _touch(d)
    db.session.flush()
    audit.record(actor, "evaluation.forwarded", ev, alliance_id=d.alliance_id,
                 detail={"deployment": d.reference,
                         "schools": [e.school_id for e in opened]}, ip=ip)
    notify(_heads(d), f"The system leader's evaluation of {d.reference} is ready: add your "
                      "school's evaluation and sign off", _url(d))
    if f.group is not None or any(e.kind == "group" for e in opened):
        notify([d.request.requested_by], f"The system leader's evaluation of {d.reference} is "
               "ready: evaluate the support to your group of schools and sign off", _url(d))
    return opened


def sign_off_school(
    d: Deployment, actor: User, *, ratings: dict[int, Rating], support_quality: int,
    value_for_money: int, would_use_again: bool, summary: str,
    people: dict[int, Rating] | None = None,
    seen_version: object = ANY_VERSION, ip: str = "",
) -> Evaluation:
    """A receiving school's evaluation, signed off. On a commission it is the supported
    school's evaluation of the commission as a whole: besides the overall answers, a rating
    (and comment) of each person deployed under it (``people``, by deployment id)."""
    f = policy.facts(d)
    _require(policy.sign_school(d, actor, f))
    check_version(d, seen_version)
    assert actor.school_id is not None  # a receiving head, required above
    ev = f.schools[actor.school_id]
    _set_people(ev, people_to_rate(d), people or {})
    _sign(d, ev, actor, ratings=ratings, support_quality=support_quality,
          value_for_money=value_for_money, would_use_again=would_use_again, summary=summary)
    audit.record(actor, "evaluation.signed_off", ev, alliance_id=d.alliance_id,
                 detail={"deployment": d.reference, "school_id": actor.school_id}, ip=ip)
    _drop_draft(d, actor, "school")
    _tell_signed(d, _school_name(actor))
    return ev


def sign_off_group(
    d: Deployment, actor: User, *, ratings: dict[int, Rating], support_quality: int,
    value_for_money: int, would_use_again: bool, summary: str,
    seen_version: object = ANY_VERSION, ip: str = "",
) -> Evaluation:
    """The officer who filed the request evaluates the support to the group as a whole (the
    same questions as a school's evaluation) and signs it off."""
    f = policy.facts(d)
    _require(policy.sign_group(d, actor, f))
    check_version(d, seen_version)
    ev = f.group
    assert ev is not None  # required above
    _sign(d, ev, actor, ratings=ratings, support_quality=support_quality,
          value_for_money=value_for_money, would_use_again=would_use_again, summary=summary)
    audit.record(actor, "evaluation.group_signed_off", ev, alliance_id=d.alliance_id,
                 detail={"deployment": d.reference, "group": actor.group_name}, ip=ip)
    _drop_draft(d, actor, "group")
    _tell_signed(d, actor.group_name or actor.name)
    return ev


def _set_people(ev: Evaluation, people: list[Deployment], given: dict[int, Rating]) -> None:
    """Rate each person on the commission (1 to 4, with an optional comment)."""
    wanted = {p.id: p for p in people}
    for person_id in given:
        if person_id not in wanted:
            raise errors.Invalid("A rating names someone who is not on this commission.")
    for p in people:
        r = given.get(p.id)
        if r is None:
            raise errors.Invalid(f"Rate the support of {p.leader.name}.",
                                 field=f"person_{p.id}_rating")
        if r.rating not in SCORES:
            raise errors.Invalid(f"Rate the support of {p.leader.name} from 1 to 4.",
                                 field=f"person_{p.id}_rating")
    rows = {row.deployment_id: row for row in ev.people}
    for p in people:
        r = given[p.id]
        row = rows.get(p.id)
        if row is None:
            ev.people.append(PersonRating(deployment_id=p.id, rating=r.rating,
                                          comment=r.evidence.strip()))
        else:
            row.rating, row.comment = r.rating, r.evidence.strip()


def _sign(d: Deployment, ev: Evaluation, actor: User, *, ratings: dict[int, Rating],
          support_quality: int, value_for_money: int, would_use_again: bool,
          summary: str) -> None:
    for name, field, score in (("support quality", "support_quality", support_quality),
                               ("value for money", "value_for_money", value_for_money)):
        if score not in SCORES:
            raise errors.Invalid(f"Rate {name} from 1 to 4.", field=field)
    _set_ratings(ev, outcomes_for(d), ratings, evidence_required=False)
    ev.support_quality, ev.value_for_money = support_quality, value_for_money
    ev.would_use_again = bool(would_use_again)
    ev.summary = summary.strip()
    ev.author_id = actor.id
    ev.status = "signed_off"
    ev.submitted_at = utcnow()
    _touch(d)
    db.session.flush()


def _tell_signed(d: Deployment, who: str) -> None:
    done = all_schools_signed_off(d)
    notify(_people(d, *OVERSEERS),
           f"{who} signed off the evaluation of {d.reference}"
           + (": ready for the final quality-assurance sign-off" if done else ""), _url(d))


def return_to_leader(d: Deployment, actor: User, *, reason: str,
                     seen_version: object = ANY_VERSION, ip: str = "") -> Evaluation:
    f = policy.facts(d)
    _require(policy.sign_school(d, actor, f))
    check_version(d, seen_version)
    reason = (reason or "").strip()
    if not reason:
        raise errors.Invalid("Say why you are returning the evaluation.", field="reason")
    assert actor.school_id is not None  # a receiving head, required above
    ev = f.schools[actor.school_id]
    leader_ev = f.leader
    if leader_ev is None:
        raise EvaluationError("There is no evaluation of the system leader's to return.")
    ev.status, ev.return_reason = "returned", reason
    leader_ev.status, leader_ev.return_reason = "returned", reason
    _touch(d)
    db.session.flush()
    audit.record(actor, "evaluation.returned", leader_ev, alliance_id=d.alliance_id,
                 detail={"deployment": d.reference, "school_id": actor.school_id,
                         "reason": reason}, ip=ip)
    notify([d.leader, *_people(d, "admin")],
           f"{_school_name(actor)} returned the evaluation of {d.reference}: {reason}"[:300],
           _url(d))
    return leader_ev


def add_qa_note(d: Deployment, actor: User, *, is_working: str, changes: str, next_steps: str,
                exit_strategy: str, seen_version: object = ANY_VERSION,
                ip: str = "") -> Evaluation:
    """A mid-point quality-assurance review during the commission."""
    _require(policy.qa_note(d, actor, policy.NO_FACTS))
    check_version(d, seen_version)
    note = Evaluation(deployment_id=d.id, kind="qa_mid", author_id=actor.id, status="submitted",
                      summary=is_working.strip(), changes_for_teachers=changes.strip(),
                      recommendations=next_steps.strip(),
                      exit_arrangements=exit_strategy.strip(), submitted_at=utcnow())
    db.session.add(note)
    _touch(d)
    db.session.flush()
    audit.record(actor, "evaluation.qa_note", note, alliance_id=d.alliance_id,
                 detail={"deployment": d.reference}, ip=ip)
    _drop_draft(d, actor, "qa_mid")
    notify([d.leader], f"The director added a quality-assurance review to {d.reference}",
           _url(d))
    return note


def final_sign_off(d: Deployment, actor: User, *, notes: str,
                   seen_version: object = ANY_VERSION, ip: str = "") -> Evaluation:
    """The director's final QA sign-off: closes the deployment as completed."""
    _require(policy.sign_off(d, actor, policy.facts(d)))
    check_version(d, seen_version)
    final = Evaluation(deployment_id=d.id, kind="qa_final", author_id=actor.id,
                       status="signed_off", summary=notes.strip(), submitted_at=utcnow())
    db.session.add(final)
    workflow.transition(d, "completed", actor, ip=ip)
    db.session.flush()
    notify([d.leader, *_heads(d), *_people(d, "admin"), *_board_members(d),
            *_home_school_leads(d)],
           f"{d.reference} is complete: the director signed off quality assurance", _url(d))
    return final


def _school_name(user: User) -> str:
    return user.school.name if user.school is not None else "A receiving school"


def _home_school_leads(d: Deployment) -> list[User]:
    return list(db.session.scalars(select(User).where(
        User.role == "home_school", User.school_id == d.home_school_id, User.active.is_(True))))


def end_early(d: Deployment, actor: User, *, reason: str, last_day_delivered: date,
              half_days_delivered: int, today: date, seen_version: object = ANY_VERSION,
              ip: str = "") -> None:
    """The leader cannot complete: record why and how far they got, and close early."""
    _require(policy.end_early(d, actor, policy.NO_FACTS))
    check_version(d, seen_version)
    reason = (reason or "").strip()
    if not reason:
        raise errors.Invalid("Say why the deployment is ending early.", field="reason")
    if last_day_delivered > today:
        raise errors.Invalid("The last day delivered cannot be in the future.",
                             field="last_day_delivered")
    if not 0 <= half_days_delivered <= d.half_days_agreed:
        raise errors.Invalid(
            f"Half days delivered cannot be more than the {d.half_days_agreed} agreed.",
            field="half_days_delivered")
    if d.commission_id is None and d.request.kind == "commission":
        _end_people_early(d, actor, reason=reason, last_day=last_day_delivered, ip=ip)
    d.end_reason = reason
    d.last_day_delivered = last_day_delivered
    d.half_days_delivered = half_days_delivered
    workflow.transition(d, "ended_early", actor, reason=reason, ip=ip, detail={
        "last_day_delivered": last_day_delivered.isoformat(),
        "half_days_delivered": half_days_delivered,
    })
    notify([d.leader, *_heads(d), *_people(d, *OVERSEERS), *_home_school_leads(d),
            *_board_members(d)],
           f"{d.reference} has ended early: {reason}"[:300], _url(d))


def _end_people_early(commission: Deployment, actor: User, *, reason: str, last_day: date,
                      ip: str = "") -> None:
    """A commission ending early ends the work of everyone on it: those working end early
    with the days they delivered, those not yet started come off it. (The commission's invoices
    are raised once, when the commission itself closes: ``finance.settle_commission``.)"""
    from .finance import commission_members

    why = f"The commission ended early: {reason}"[:500]
    for person in commission_members(commission)[1:]:
        if person.status in policy.IN_PROGRESS:
            person.end_reason = why
            person.last_day_delivered = min(last_day, person.last_day_delivered or last_day)
            workflow.transition(person, "ended_early", actor, reason=why, ip=ip, detail={
                "half_days_delivered": person.half_days_delivered,
                "commission": commission.reference})
        elif person.status in ("proposed", "agreement"):
            workflow.transition(person, "cancelled", actor, reason=why, ip=ip,
                                detail={"commission": commission.reference})
