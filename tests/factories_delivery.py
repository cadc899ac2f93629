"""Builders for delivery tests: an active deployment (its agreement signed) with a live plan."""

from __future__ import annotations

from datetime import date, timedelta

from portal.domain import plans as domain
from portal.extensions import db
from portal.formatting import LONDON
from portal.models import Action, ActionPlan, Deployment, Outcome, utcnow


def make_active(d: Deployment, *, confirmed_days_ago: int = 3, half_days: int | None = None,
                with_plan: bool = True) -> Deployment:
    """Move a factory deployment to "active" as if every party had signed the agreement: signed
    the day after confirmation, with the time frame running from then (visits fall inside it)."""
    now = utcnow()
    d.status = "active"
    d.confirmed_at = now - timedelta(days=confirmed_days_ago)
    d.active_at = now - timedelta(days=max(confirmed_days_ago - 1, 0))
    req = d.request
    signed_on = d.active_at.astimezone(LONDON).date()
    req.start_date = min(req.start_date or signed_on, signed_on)
    req.end_date = max(req.end_date or signed_on, signed_on + timedelta(days=60))
    if half_days is not None:
        d.half_days_agreed = half_days
    db.session.flush()
    if with_plan:
        domain.ensure_plan(d)
    return d


def plan_of(d: Deployment) -> ActionPlan:
    return db.session.query(ActionPlan).filter_by(deployment_id=d.id).one()


def outcome(plan: ActionPlan, text: str = "Pupils explain their reasoning in maths",
            standard: str | None = "TS2") -> Outcome:
    last = max((o.position for o in plan.outcomes), default=0)
    o = Outcome(plan_id=plan.id, position=last + 1, text=text, standard=standard)
    db.session.add(o)
    db.session.flush()
    return o


def action(plan: ActionPlan, description: str = "Model reasoning talk in Year 4",
           *, owner: str = "Class teacher", status: str = "not_started",
           outcome_row: Outcome | None = None, due: date | None = None) -> Action:
    last = max((a.position for a in plan.actions), default=0)
    a = Action(plan_id=plan.id, position=last + 1, description=description, owner=owner,
               status=status, success_criteria="Most pupils use the sentence stems",
               outcome_id=outcome_row.id if outcome_row else None,
               due_date=due or date.today() + timedelta(days=14))
    db.session.add(a)
    db.session.flush()
    db.session.expire(plan, ["actions", "outcomes"])
    return a


def delivery_world(w):
    """Side A's deployment active with a plan of one outcome and two actions; B's active too."""
    make_active(w.a.deployment)
    make_active(w.b.deployment)
    plan = plan_of(w.a.deployment)
    o = outcome(plan)
    a1 = action(plan, "Model reasoning talk in Year 4", outcome_row=o)
    a2 = action(plan, "Team-teach a fractions lesson", owner="Maths lead")
    db.session.commit()
    return plan, o, a1, a2
