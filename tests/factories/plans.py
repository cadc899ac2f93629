"""Action plans: outcomes and actions on the plan a deployment gets when it becomes active."""

from __future__ import annotations

from datetime import date, timedelta

from portal.extensions import db
from portal.models import Action, ActionPlan, Deployment, Outcome

from ._db import commit
from .deployments import advance
from .worlds import World


def plan_of(d: Deployment) -> ActionPlan:
    return db.session.query(ActionPlan).filter_by(deployment_id=d.id).one()


def without_plan(d: Deployment) -> Deployment:
    """Remove the (empty) plan made when ``d`` became active: an active deployment from before
    plans were made on the last signature, which its leader must start by hand."""
    db.session.delete(plan_of(d))
    db.session.flush()
    return d


def outcome(plan: ActionPlan, text: str = "Pupils explain their reasoning in maths",
            standard: str | None = "TS2") -> Outcome:
    last = max((o.position for o in plan.outcomes), default=0)
    o = Outcome(plan_id=plan.id, position=last + 1, text=text, standard=standard)
    db.session.add(o)
    db.session.flush()
    db.session.expire(plan, ["outcomes"])
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


def plans_world(w: World):
    """Side A's deployment active with a plan of one outcome and two actions; B's active too."""
    advance(w.a.deployment, "active", confirmed_days_ago=3)
    advance(w.b.deployment, "active", confirmed_days_ago=3)
    plan = plan_of(w.a.deployment)
    o = outcome(plan)
    a1 = action(plan, "Model reasoning talk in Year 4", outcome_row=o)
    a2 = action(plan, "Team-teach a fractions lesson", owner="Maths lead")
    commit()
    return plan, o, a1, a2
