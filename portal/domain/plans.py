"""Delivery: the live action plan, first contact, visits and variations (no Flask requests here).

The plan is edited row by row. Every row (outcome or action) carries a ``version``; a save names
the version it was based on, and if the row moved on meanwhile (or was removed) :class:`StaleEdit`
says so and nothing is saved, so the editor can merge by hand: no edit is ever lost.

Every change bumps ``ActionPlan.revision`` with one atomic ``UPDATE ... RETURNING`` (which on
PostgreSQL also serialises writers of the same plan) and keeps a :class:`PlanRevision` with the
row before and after, so the history shows who changed what, when. Viewers poll with the revision
they have; an unchanged plan costs one primary-key read.

Reordering only swaps ``position`` values and does not touch the rows' versions: moving a row
must not turn somebody's text edit of that row into a conflict.

Days: visits may use at most the agreed half-days. More needs a :class:`Variation`, approved by
the receiving headteacher *and* the director; when both have, the agreement gets a new version
with the new days and charges (``agreements.amend_days``), and only when every party has signed
it does the agreed total rise.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..formatting import LONDON, uk_date
from ..formatting import days as days_in_words
from ..models import (
    ACTION_STATUSES,
    Action,
    ActionPlan,
    Deployment,
    Outcome,
    PlanRevision,
    User,
    Variation,
    Visit,
    utcnow,
)
from ..validators import date_problem
from . import agreements, audit, errors, finance, workflow
from .notify import notify
from .policy import plans as policy
from .policy import require

KINDS: dict[str, type[Action] | type[Outcome]] = {"action": Action, "outcome": Outcome}
FIELDS: dict[str, tuple[str, ...]] = {
    "action": ("description", "owner", "due_date", "status", "success_criteria", "outcome_id",
               "between_visits"),
    "outcome": ("text", "standard"),
}
# Who may do what, and when: portal/domain/policy/plans.py (each command require()s it).
DELIVERY_STATUSES = policy.DELIVERY_STATUSES
CONTACT_STATUSES = policy.CONTACT_STATUSES
MAX_VARIATION_HALF_DAYS = 40
ONE_PENDING_VARIATION = policy.ONE_PENDING_VARIATION
NO_VERSION = ("This form did not say which version it changes, so it was not saved over anyone "
              "else's change. Reload the page and make your change again.")


class StaleEdit(errors.Conflict):
    """The row changed (or was removed) since the editor loaded it; nothing was saved."""

    def __init__(self, current: Outcome | Action | None, message: str = ""):
        super().__init__(message or ("Someone else removed this row while you were editing it."
                                     if current is None else
                                     "Someone else changed this row while you were editing it."))
        self.current = current


class NotAllowed(errors.NotNow):
    """Not now (409: wrong status, already done) or, ``forbidden``, not this user (403)."""

    def __init__(self, message: str, *, forbidden: bool = False):
        super().__init__(message, forbidden=forbidden)


class Refused(NotAllowed, errors.Forbidden):
    """A :class:`NotAllowed` that is always 403: what :func:`_require` raises for a
    :func:`~portal.domain.policy.forbid` (``except NotAllowed`` and ``except Forbidden`` both
    catch it)."""

    status = 403
    title = errors.Forbidden.title

    def __init__(self, message: str):
        super().__init__(message, forbidden=True)


def _require(decision: policy.Decision) -> None:
    require(decision, forbidden=Refused, not_now=NotAllowed)


class DaysExceeded(errors.Invalid):
    """The visit would go beyond the agreed days: a variation is needed first."""

    def __init__(self, message: str):
        super().__init__(message, field="half_days")


def lock(obj: Deployment | Variation) -> None:
    """Wait for and hold the object's row lock (``SELECT ... FOR UPDATE``) and read its current
    state, so concurrent commands on it queue instead of overwriting or failing each other.
    (SQLite's write requests already queue behind ``BEGIN IMMEDIATE``.)"""
    if not db.session.is_modified(obj):
        db.session.refresh(obj, with_for_update=True)


# ------------------------------------------------------------------------------ the plan


@workflow.on_enter(Deployment, "active")
def _create_plan(deployment: Deployment, _actor: User | None, _reason: str) -> None:
    """Once the agreement is signed by all, the deployment gets its (empty) live plan."""
    ensure_plan(deployment)



def kind_of(row: Outcome | Action) -> str:
    return "action" if isinstance(row, Action) else "outcome"


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def snapshot(row: Outcome | Action) -> dict:
    """A row's content as plain JSON values (dates as ISO strings), for the revision history."""
    return {name: _json(getattr(row, name)) for name in FIELDS[kind_of(row)]}


is_editor = policy.is_editor


def can_edit(deployment: Deployment, user: User) -> bool:
    return policy.edit_plan(deployment, user).allowed


def require_edit(deployment: Deployment, user: User) -> None:
    """Raise :class:`NotAllowed` (403 or 409) unless the user may change the plan now."""
    _require(policy.edit_plan(deployment, user))


_require_editor = require_edit


def start_plan(deployment: Deployment, actor: User, *, ip: str = "") -> ActionPlan:
    """The leader starts the plan of a deployment that has none yet (audited)."""
    require_edit(deployment, actor)
    plan = ensure_plan(deployment)
    audit.record(actor, "plan.started", plan, alliance_id=deployment.alliance_id,
                 detail={"deployment": deployment.reference}, ip=ip)
    return plan


def seen_version(value: object) -> int:
    """The version a form was drawn from; without one nothing is saved (over a newer one)."""
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise NotAllowed(NO_VERSION) from None


def ensure_plan(deployment: Deployment) -> ActionPlan:
    """The deployment's plan, created (empty) if it has none yet."""
    plan = db.session.scalar(select(ActionPlan).where(ActionPlan.deployment_id == deployment.id))
    if plan is None:
        plan = ActionPlan(deployment_id=deployment.id, next_steps="", notes="")
        db.session.add(plan)
        db.session.flush()
    return plan


def current_revision(plan_id: int) -> int | None:
    return db.session.scalar(select(ActionPlan.revision).where(ActionPlan.id == plan_id))


def _bump(plan: ActionPlan) -> int:
    """Atomically add one to the plan's revision (without touching its optimistic version)."""
    db.session.flush()
    revision = db.session.execute(
        update(ActionPlan).where(ActionPlan.id == plan.id)
        .values(revision=ActionPlan.revision + 1, updated_at=utcnow())
        .returning(ActionPlan.revision),
        execution_options={"synchronize_session": False},
    ).scalar_one()
    db.session.expire(plan, ["revision", "updated_at"])
    return revision


def _record(plan: ActionPlan, actor: User, entity: str, entity_id: int | None,
            before: dict | None, after: dict | None, action: str, ip: str) -> PlanRevision:
    revision = _bump(plan)
    rev = PlanRevision(plan_id=plan.id, revision=revision, entity=entity, entity_id=entity_id,
                       user_id=actor.id, before=before, after=after)
    db.session.add(rev)
    deployment = plan.deployment
    audit.record(actor, f"plan.{action}", plan, alliance_id=deployment.alliance_id,
                 detail={"deployment": deployment.reference, "entity": entity,
                         "entity_id": entity_id, "revision": revision}, ip=ip)
    return rev


def _clean(kind: str, values: dict, plan: ActionPlan) -> dict:
    out = {k: v for k, v in values.items() if k in FIELDS[kind]}
    unknown = set(values) - set(FIELDS[kind])
    if unknown:
        raise errors.Invalid(f"Those fields are unknown for an {kind}: "
                             f"{', '.join(sorted(unknown))}.")
    if kind == "action":
        if "description" in out and not (out["description"] or "").strip():
            raise errors.Invalid("An action needs a description.", field="description")
        if "status" in out and out["status"] not in ACTION_STATUSES:
            raise errors.Invalid("Choose a status from the list.", field="status")
        if out.get("outcome_id") is not None and out["outcome_id"] not in {
            o.id for o in plan.outcomes
        }:
            raise errors.Invalid("That outcome is not in this plan.", field="outcome_id")
    elif "text" in out and not (out["text"] or "").strip():
        raise errors.Invalid("An outcome needs some text.", field="text")
    for k, v in out.items():
        if isinstance(v, str):
            out[k] = v.strip()
    return out


def add_row(plan: ActionPlan, kind: str, values: dict, actor: User, *, ip: str = ""):
    """Append a new outcome or action at the end of its list."""
    _require_editor(plan.deployment, actor)
    model = KINDS[kind]
    clean = _clean(kind, values, plan)
    last = db.session.scalar(select(func.max(model.position)).where(model.plan_id == plan.id))
    row = model(plan_id=plan.id, position=(last or 0) + 1, **clean)
    db.session.add(row)
    db.session.flush()
    _record(plan, actor, kind, row.id, None, snapshot(row), f"{kind}.add", ip)
    return row


def save_row(plan: ActionPlan, row, expected_version: int | str | None, values: dict,
             actor: User, *, ip: str = "") -> PlanRevision | None:
    """Save an edit made on ``expected_version`` of the row; None when nothing changed."""
    _require_editor(plan.deployment, actor)
    expected_version = seen_version(expected_version)
    if row is None:
        raise StaleEdit(None)
    if row.version != expected_version:
        raise StaleEdit(row)
    kind = kind_of(row)
    clean = _clean(kind, values, plan)
    before = snapshot(row)
    for name, value in clean.items():
        setattr(row, name, value)
    after = snapshot(row)
    if after == before:
        return None
    db.session.flush()  # the version check (UPDATE ... WHERE version = ?) happens here
    return _record(plan, actor, kind, row.id, before, after, f"{kind}.update", ip)


def remove_row(plan: ActionPlan, row, expected_version: int | str | None, actor: User, *,
               ip: str = "") -> PlanRevision:
    _require_editor(plan.deployment, actor)
    expected_version = seen_version(expected_version)
    if row is None:
        raise StaleEdit(None)
    if row.version != expected_version:
        raise StaleEdit(row)
    kind, row_id, before = kind_of(row), row.id, snapshot(row)
    if kind == "outcome":
        for a in plan.actions:
            if a.outcome_id == row_id:
                a.outcome_id = None
    db.session.delete(row)
    db.session.flush()
    return _record(plan, actor, kind, row_id, before, None, f"{kind}.remove", ip)


def move_row(plan: ActionPlan, row, direction: int, actor: User, *,
             ip: str = "") -> PlanRevision | None:
    """Swap the row with its neighbour above (-1) or below (+1); None at either end."""
    _require_editor(plan.deployment, actor)
    if direction not in (-1, 1):
        raise errors.Invalid("Move a row up or down.", field="direction")
    kind = kind_of(row)
    model = KINDS[kind]
    rows = cast(Sequence[Action | Outcome], db.session.scalars(
        select(model).where(model.plan_id == plan.id).order_by(model.position, model.id)
    ).all())
    index = next(i for i, r in enumerate(rows) if r.id == row.id)
    other = index + direction
    if not 0 <= other < len(rows):
        return None
    order = [r.id for r in rows]
    order[index], order[other] = order[other], order[index]
    for position, row_id in enumerate(order, start=1):
        db.session.execute(update(model).where(model.id == row_id).values(position=position),
                           execution_options={"synchronize_session": False})
    for r in rows:
        db.session.expire(r, ["position"])
    db.session.expire(plan, ["outcomes", "actions"])
    return _record(plan, actor, kind, row.id, {"position": index + 1}, {"position": other + 1},
                   f"{kind}.move", ip)


def save_text(plan: ActionPlan, expected_version: int | str | None, next_steps: str,
              notes: str, actor: User, *, ip: str = "") -> PlanRevision | None:
    """Next steps and notes, locked by ``text_version`` (row edits elsewhere do not clash)."""
    _require_editor(plan.deployment, actor)
    expected_version = seen_version(expected_version)
    if plan.text_version != expected_version:
        raise StaleEdit(None, "Someone else changed the next steps or notes while you were "
                              "editing them.")
    before = {"next_steps": plan.next_steps, "notes": plan.notes}
    after = {"next_steps": (next_steps or "").strip(), "notes": (notes or "").strip()}
    if before == after:
        return None
    result: CursorResult = db.session.execute(  # type: ignore[assignment]  # an UPDATE's result
        update(ActionPlan)
        .where(ActionPlan.id == plan.id, ActionPlan.text_version == expected_version)
        .values(text_version=ActionPlan.text_version + 1, **after),
        execution_options={"synchronize_session": False},
    )
    if result.rowcount != 1:  # lost a race with another save of the same text
        raise StaleEdit(None, "Someone else changed the next steps or notes at the same time.")
    db.session.expire(plan, ["text_version", "next_steps", "notes"])
    return _record(plan, actor, "text", None, before, after, "text.update", ip)


# ------------------------------------------------------------------ contact, visits, days


def log_first_contact(deployment: Deployment, actor: User, *, note: str = "",
                      now: datetime | None = None, ip: str = "", url: str = "") -> None:
    _require(policy.log_first_contact(deployment, actor))
    deployment.first_contact_at = now or utcnow()
    audit.record(actor, "deployment.first_contact", deployment,
                 detail={"note": note.strip()} if note.strip() else {}, ip=ip)
    notify(receiving_heads(deployment) + overseers(deployment),
           f"{deployment.reference}: the system leader has made first contact", url)


def receiving_heads(deployment: Deployment) -> list[User]:
    school_ids = [rs.school_id for rs in deployment.request.schools]
    if not school_ids:
        return []
    return list(db.session.scalars(
        select(User).where(User.role == "headteacher", User.school_id.in_(school_ids),
                           User.active.is_(True))
    ))


def overseers(deployment: Deployment, roles: Iterable[str] = ("director", "admin")) -> list[User]:
    return list(db.session.scalars(
        select(User).where(User.role.in_(list(roles)), User.alliance_id == deployment.alliance_id,
                           User.active.is_(True))
    ))


def half_days_left(deployment: Deployment) -> int:
    """Half days still to use: those agreed and signed for (on a commission, by the
    commission's agreement too: ``finance.usable_half_days``), less those delivered."""
    return finance.usable_half_days(deployment) - deployment.half_days_delivered


def _iso_day(value) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def visit_window(deployment: Deployment) -> tuple[date | None, date | None, date | None]:
    """(first day, last day, signed on) for the deployment's visits: the time frame of its signed
    agreement (the request's where the agreement gives none) and the London day the agreement
    was signed (the day the deployment became active, where no signed agreement is kept)."""
    agreement = agreements.last_signed(deployment.id)  # not an amendment still being signed
    content = agreement.content if agreement is not None else {}
    req = deployment.request
    first = _iso_day(content.get("start_date")) or req.start_date
    last = _iso_day(content.get("end_date")) or req.end_date
    signed = (agreement.signed_at if agreement is not None and agreement.signed_at
              else deployment.active_at)
    return first, last, signed.astimezone(LONDON).date() if signed else None


def visit_date_problem(deployment: Deployment, visit_date: date,
                       today: date | None = None) -> str | None:
    """Why a visit cannot be on that day (delivered, so not in the future, not before the
    agreement was signed, within the agreed time frame), or None."""
    first, last, signed_on = visit_window(deployment)
    return (date_problem(visit_date, None, today or date.today(),
                         too_late="A visit cannot be logged before it happens.")
            or date_problem(visit_date, signed_on, None,
                            too_early="The visit must be on or after {earliest}, when the "
                                      "agreement was signed.")
            or date_problem(visit_date, first, last,
                            too_early=f"The visit must be within the agreed time frame, "
                                      f"{{earliest}} to {uk_date(last) or 'its end'}.",
                            too_late=f"The visit must be within the agreed time frame, "
                                     f"{uk_date(first) or 'its start'} to {{latest}}."))


def planned_half_days(deployment: Deployment, *, besides: Visit | None = None) -> int:
    """Half days of the deployment's visits planned but not yet delivered."""
    stmt = select(func.coalesce(func.sum(Visit.half_days), 0)).where(
        Visit.deployment_id == deployment.id, Visit.status == "planned")
    if besides is not None:
        stmt = stmt.where(Visit.id != besides.id)
    return int(db.session.scalar(stmt) or 0)


def _within_the_days(deployment: Deployment, half_days: int, free: int) -> None:
    """Raise :class:`DaysExceeded` unless the visit fits the days of the signed agreement."""
    decision = policy.within_signed_days(deployment, half_days, free)
    if not decision.allowed:
        raise DaysExceeded(decision.reason)


def _check_half_days(half_days: int) -> None:
    if half_days not in (1, 2):
        raise errors.Invalid("A visit is a half day or a full day.", field="half_days")


def _same_day(deployment: Deployment, visit_date: date) -> None:
    taken = db.session.scalar(select(Visit.status).where(
        Visit.deployment_id == deployment.id, Visit.visit_date == visit_date))
    if taken is not None:
        raise errors.Invalid("A visit on that date is already planned." if taken == "planned"
                             else "A visit on that date is already logged.", field="visit_date")


def plan_visit_date_problem(deployment: Deployment, visit_date: date,
                            today: date | None = None) -> str | None:
    """Why a visit cannot be planned on that day (planned, so today or later, within the
    agreed time frame), or None."""
    first, last, _signed_on = visit_window(deployment)
    return (date_problem(visit_date, today or date.today(), None,
                         too_early="A visit is planned for today or later; log a visit "
                                   "already made instead.")
            or date_problem(visit_date, first, last,
                            too_early=f"The visit must be within the agreed time frame, "
                                      f"{{earliest}} to {uk_date(last) or 'its end'}.",
                            too_late=f"The visit must be within the agreed time frame, "
                                     f"{uk_date(first) or 'its start'} to {{latest}}."))


def plan_visit(deployment: Deployment, actor: User, *, visit_date: date, half_days: int,
               notes: str = "", today: date | None = None, ip: str = "",
               url: str = "") -> Visit:
    """Plan a visit ahead (shown to the school and the leader). No days count until it is
    logged as delivered (:func:`deliver_visit`), but planned days may not exceed those left."""
    lock(deployment)
    _require(policy.plan_visit(deployment, actor))
    _check_half_days(half_days)
    problem = plan_visit_date_problem(deployment, visit_date, today)
    if problem:
        raise errors.Invalid(problem, field="visit_date")
    _within_the_days(deployment, half_days,
                     half_days_left(deployment) - planned_half_days(deployment))
    _same_day(deployment, visit_date)
    visit = Visit(deployment_id=deployment.id, visit_date=visit_date, half_days=half_days,
                  notes=notes.strip(), logged_by_id=actor.id, status="planned")
    db.session.add(visit)
    db.session.flush()
    audit.record(actor, "visit.planned", visit, alliance_id=deployment.alliance_id,
                 detail={"deployment": deployment.reference, "date": visit_date.isoformat(),
                         "half_days": half_days}, ip=ip)
    said = (f"{deployment.reference}: a visit is planned for {uk_date(visit_date)} "
            f"({days_in_words(half_days)})")
    # by email too, with a calendar invitation (made when the email is sent: domain/calendar)
    notify(receiving_heads(deployment), said, url, attachment=f"visit:{visit.id}")
    return visit


def cancel_visit(visit: Visit, actor: User, *, today: date | None = None, ip: str = "",
                 url: str = "") -> None:
    """Take a planned visit off (the date is free again)."""
    deployment = visit.deployment
    lock(deployment)
    _require(policy.visit_actions(visit, actor, today)["cancel"])
    audit.record(actor, "visit.cancelled", visit, alliance_id=deployment.alliance_id,
                 detail={"deployment": deployment.reference,
                         "date": visit.visit_date.isoformat()}, ip=ip)
    notify(receiving_heads(deployment),
           f"{deployment.reference}: the visit planned for {uk_date(visit.visit_date)} is "
           "cancelled", url, email=False)
    db.session.delete(visit)
    db.session.flush()


def _worked_on(deployment: Deployment, actions: Iterable[Action],
               statuses: dict[int, str] | None) -> tuple[list[Action], dict[int, str]]:
    plan_action_ids = set(db.session.scalars(
        select(Action.id).join(ActionPlan).where(ActionPlan.deployment_id == deployment.id)))
    actions = list(actions)
    if any(a.id not in plan_action_ids for a in actions):
        raise errors.Invalid("Those actions are not in this deployment's plan.", field="actions")
    statuses = {k: v for k, v in (statuses or {}).items() if v}
    if set(statuses) - {a.id for a in actions}:
        raise errors.Invalid("Only actions worked on in the visit can have their status "
                             "updated.", field="actions")
    if set(statuses.values()) - set(ACTION_STATUSES):
        raise errors.Invalid("Unknown action status.", field="actions")
    return actions, statuses


def _count_delivered(deployment: Deployment, visit: Visit, actor: User, actions: list[Action],
                     statuses: dict[int, str], *, ip: str, url: str) -> None:
    """The visit's days count: the deployment's days used, the actions worked on and their new
    statuses (ordinary versioned plan edits), audited, the receiving school told."""
    visit.status = "delivered"
    visit.delivered_at = utcnow()
    visit.actions = actions
    deployment.half_days_delivered += visit.half_days
    if deployment.last_day_delivered is None or visit.visit_date > deployment.last_day_delivered:
        deployment.last_day_delivered = visit.visit_date
    db.session.flush()
    for a in actions:
        if a.id in statuses:
            save_row(a.plan, a, a.version, {"status": statuses[a.id]}, actor, ip=ip)
    audit.record(actor, "visit.logged", visit, alliance_id=deployment.alliance_id,
                 detail={"deployment": deployment.reference,
                         "date": visit.visit_date.isoformat(), "half_days": visit.half_days,
                         "actions": [a.id for a in actions],
                         "statuses": {str(k): v for k, v in statuses.items()}}, ip=ip)
    notify(receiving_heads(deployment),
           f"{deployment.reference}: a visit on {uk_date(visit.visit_date)} was logged", url,
           email=False)


def log_visit(deployment: Deployment, actor: User, *, visit_date: date, half_days: int,
              notes: str = "", actions: Iterable[Action] = (), today: date | None = None,
              statuses: dict[int, str] | None = None, ip: str = "", url: str = "") -> Visit:
    """Log a visit already made (not planned first) and count its days. Raises DaysExceeded
    beyond the agreed days, counting the visits already planned.

    ``actions`` are the plan actions worked on; ``statuses`` maps some of them to their new
    status, saved as ordinary (versioned, revised) plan edits in the same transaction.
    """
    # Visits on different days at once must all count: take the deployment's row lock and read
    # its current days (and version) instead of failing all but one on the version check.
    lock(deployment)
    _require(policy.log_visit(deployment, actor))
    _check_half_days(half_days)
    problem = visit_date_problem(deployment, visit_date, today)
    if problem:
        raise errors.Invalid(problem, field="visit_date")
    _within_the_days(deployment, half_days,
                     half_days_left(deployment) - planned_half_days(deployment))
    _same_day(deployment, visit_date)
    chosen, statuses = _worked_on(deployment, actions, statuses)
    visit = Visit(deployment_id=deployment.id, visit_date=visit_date, half_days=half_days,
                  notes=notes.strip(), logged_by_id=actor.id, status="planned")
    db.session.add(visit)
    _count_delivered(deployment, visit, actor, chosen, statuses, ip=ip, url=url)
    return visit


def deliver_visit(visit: Visit, actor: User, *, notes: str | None = None,
                  actions: Iterable[Action] = (), statuses: dict[int, str] | None = None,
                  today: date | None = None, ip: str = "", url: str = "") -> Visit:
    """Log a planned visit as delivered, once its day has come; its days count now."""
    deployment = visit.deployment
    lock(deployment)
    _require(policy.visit_actions(visit, actor, today)["deliver"])
    problem = visit_date_problem(deployment, visit.visit_date, today)
    if problem:  # e.g. the agreement was signed after the day it was planned for
        raise errors.Invalid(problem, field="visit_date")
    _within_the_days(deployment, visit.half_days, half_days_left(deployment))
    chosen, statuses = _worked_on(deployment, actions, statuses)
    if notes is not None:
        visit.notes = notes.strip()
    _count_delivered(deployment, visit, actor, chosen, statuses, ip=ip, url=url)
    return visit


# ---------------------------------------------------------------------------- variations


def request_variation(deployment: Deployment, actor: User, half_days: int, reason: str, *,
                      ip: str = "", url: str = "") -> Variation:
    _require(policy.request_variation(deployment, actor))  # one pending at a time, too
    if not 1 <= half_days <= MAX_VARIATION_HALF_DAYS:
        raise errors.Invalid(f"Ask for between 1 and {MAX_VARIATION_HALF_DAYS} half-days.",
                             field="half_days")
    if not (reason or "").strip():
        raise errors.Invalid("Say why the extra days are needed.", field="reason")
    v = Variation(deployment_id=deployment.id, half_days=half_days, reason=reason.strip(),
                  requested_by_id=actor.id, status="pending", decline_reason="")
    try:
        # the database allows one pending variation per deployment (uq_variation_one_pending):
        # of several asked for at once, the others wait here and are refused
        with db.session.begin_nested():
            db.session.add(v)
    except IntegrityError as exc:
        raise NotAllowed(ONE_PENDING_VARIATION) from exc
    audit.record(actor, "variation.requested", v, alliance_id=deployment.alliance_id,
                 detail={"deployment": deployment.reference, "half_days": half_days,
                         "reason": v.reason}, ip=ip)
    notify(receiving_heads(deployment) + overseers(deployment, ("director",)),
           f"{deployment.reference}: extra days asked for ({days_in_words(half_days)}); "
           "please approve or decline", url)
    return v


def approve_variation(v: Variation, actor: User, *, now: datetime | None = None, ip: str = "",
                      url: str = "") -> bool:
    """Record one party's approval; True when this completes it (the agreed days rise)."""
    lock(v)  # the two approvals at once: the second sees the first, and completes it
    f = policy.facts(v.deployment)
    _require(policy.approve(v, actor, f))
    party = policy.approver_party(v, actor, f)
    now = now or utcnow()
    setattr(v, f"{party}_approved_by_id", actor.id)
    setattr(v, f"{party}_approved_at", now)
    deployment = v.deployment
    audit.record(actor, f"variation.approved_by_{party}", v, alliance_id=deployment.alliance_id,
                 detail={"deployment": deployment.reference, "half_days": v.half_days}, ip=ip)
    if v.head_approved_by_id is None or v.director_approved_by_id is None:
        db.session.flush()
        return False
    v.status = "approved"
    v.decided_at = now
    db.session.flush()
    # the days change the terms: a new version of the agreement that every party signs again;
    # the agreed days rise (for visits and invoices) once it is signed by all
    amendment = agreements.amend_days(deployment, actor, v.half_days, ip=ip)
    if amendment is None:  # no agreement kept (old data): the days rise at once
        deployment.half_days_agreed += v.half_days
    audit.record(actor, "variation.approved", v, alliance_id=deployment.alliance_id,
                 detail={"deployment": deployment.reference, "half_days": v.half_days,
                         "agreement_version": amendment.version if amendment else None}, ip=ip)
    notify([deployment.leader, v.requested_by] + receiving_heads(deployment)
           + overseers(deployment),
           f"{deployment.reference}: extra days approved ({days_in_words(v.half_days)})"
           + ("; they can be used once every party signs the new version of the agreement"
              if amendment else ""), url)
    return True


def decline_variation(v: Variation, actor: User, reason: str, *, now: datetime | None = None,
                      ip: str = "", url: str = "") -> None:
    lock(v)
    _require(policy.decline(v, actor, policy.facts(v.deployment)))
    if not (reason or "").strip():
        raise errors.Invalid("Say why you decline.", field="reason")
    v.status = "declined"
    v.declined_by_id = actor.id
    v.decline_reason = reason.strip()
    v.decided_at = now or utcnow()
    deployment = v.deployment
    db.session.flush()
    audit.record(actor, "variation.declined", v, alliance_id=deployment.alliance_id,
                 detail={"deployment": deployment.reference, "reason": v.decline_reason}, ip=ip)
    notify([deployment.leader, v.requested_by],
           f"{deployment.reference}: the request for extra days was declined", url)
