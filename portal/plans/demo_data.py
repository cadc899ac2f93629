"""Demo data for delivery: each active demo deployment gets a started plan and a first visit.

Rows are written directly (not through the audited domain functions), so loading the demo adds
nothing to the audit trail that a real person did not do.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from ..domain import plans as domain
from ..extensions import db
from ..models import Action, ActionPlan, Deployment, Outcome, PlanRevision, Visit


def plans_demo(today: date, now: datetime) -> None:
    active = db.session.scalars(select(Deployment).where(Deployment.status == "active")).all()
    for d in active:
        # a plan already started is left alone; an empty one (made as the last party signed,
        # by a demo step that signs through the domain) is started like the others
        plan = db.session.scalar(select(ActionPlan).where(ActionPlan.deployment_id == d.id))
        if plan is not None and (plan.outcomes or plan.actions or plan.next_steps):
            continue
        if plan is None:
            plan = ActionPlan(deployment_id=d.id)
            db.session.add(plan)
        plan.next_steps = "Before the next visit: trial hinge questions; share two examples."
        plan.notes = "Inducted by the headteacher; met the Year 4 team."
        db.session.flush()
        first = Outcome(plan_id=plan.id, position=1, standard="TS2",
                        text="Pupils explain their mathematical reasoning aloud and in writing")
        second = Outcome(plan_id=plan.id, position=2, standard="TS6",
                         text="Assessment in lessons shapes the next step for each group")
        db.session.add_all([first, second])
        db.session.flush()
        rows = [
            Action(plan_id=plan.id, position=1, outcome_id=first.id, status="on_track",
                   description="Model reasoning talk with sentence stems in Year 4",
                   owner="System leader with the class teacher",
                   due_date=today + timedelta(days=14),
                   success_criteria="Most pupils use a stem unprompted in a lesson observed"),
            Action(plan_id=plan.id, position=2, outcome_id=second.id, status="not_started",
                   description="Teacher trials hinge questions in three lessons",
                   owner="Class teacher", between_visits=True,
                   due_date=today + timedelta(days=21),
                   success_criteria="Lesson plans show a hinge question and the regrouping"),
        ]
        db.session.add_all(rows)
        db.session.flush()
        entries: list[Outcome | Action] = [first, second, *rows]
        for revision, row in enumerate(entries, start=2):
            db.session.add(PlanRevision(plan_id=plan.id, revision=revision,
                                        entity=domain.kind_of(row), entity_id=row.id,
                                        user_id=d.leader_id, before=None,
                                        after=domain.snapshot(row)))
        plan.revision = (plan.revision or 1) + 4
        visit_day = (d.active_at.date() if d.active_at else today) + timedelta(days=2)
        if visit_day <= today and d.half_days_agreed - d.half_days_delivered >= 2:
            visit = Visit(deployment_id=d.id, visit_date=visit_day, half_days=2,
                          logged_by_id=d.leader_id,
                          notes="Observed two maths lessons; planned the next steps together.")
            visit.actions = rows[:1]
            db.session.add(visit)
            d.half_days_delivered += 2
            d.last_day_delivered = visit_day
    db.session.flush()
