"""The home-page panel: evaluations waiting for this user, whatever their role."""

from __future__ import annotations

from sqlalchemy import and_, exists, not_, select
from sqlalchemy.orm import joinedload

from ..domain import access
from ..extensions import db
from ..models import Deployment, Evaluation, RequestSchool
from ..panels import home_panels

LIMIT = 10


def _deployments(*where):
    return db.session.scalars(
        select(Deployment).where(*where).options(joinedload(Deployment.request))
        .order_by(Deployment.proposed_at, Deployment.id).limit(LIMIT)).all()


def _has(kind: str, *status_in, **extra):
    conditions = [Evaluation.deployment_id == Deployment.id, Evaluation.kind == kind]
    if status_in:
        conditions.append(Evaluation.status.in_(status_in))
    for name, value in extra.items():
        conditions.append(getattr(Evaluation, name) == value)
    return exists().where(*conditions)


@home_panels.panel("completion", "evaluations/_home_panel.html", order=70)
def completion_home(_obj, user):
    visible = access.deployments_visible_to(user)
    evaluating = Deployment.status == "evaluation"
    items: list[tuple[Deployment, str]] = []
    if user.role in ("admin", "director"):
        items += [(d, "Review and forward the system leader's evaluation")
                  for d in _deployments(visible, evaluating, _has("leader", "submitted"))]
    if user.role == "director":
        unsigned = exists().where(
            RequestSchool.request_id == Deployment.request_id,
            not_(exists().where(Evaluation.deployment_id == Deployment.id,
                                Evaluation.kind == "school",
                                Evaluation.school_id == RequestSchool.school_id,
                                Evaluation.status == "signed_off")))
        items += [(d, "Final quality-assurance sign-off")
                  for d in _deployments(visible, evaluating, not_(unsigned))]
    if user.role == "headteacher" and user.school_id:
        items += [(d, "Add your school's evaluation and sign off")
                  for d in _deployments(visible, evaluating, _has(
                      "school", "forwarded", school_id=user.school_id))]
    if user.role == "sle":
        own = and_(visible, Deployment.leader_id == user.id)
        items += [(d, "Revise your evaluation: a school returned it")
                  for d in _deployments(own, evaluating, _has("leader", "returned"))]
        items += [(d, "Write the final evaluation when the work is done")
                  for d in _deployments(own, Deployment.status == "active")]
    if not items:
        return None
    return {"waiting": items}
