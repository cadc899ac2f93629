"""Deployments: the list a user may see, and one deployment in full."""

from __future__ import annotations

from flask import Blueprint, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from ..domain import access
from ..htmx import render
from ..models import (
    DEPLOYMENT_STATUSES,
    Deployment,
    DeploymentResponse,
    RequestSchool,
    SupportRequest,
)
from ..pagination import paginate, rows_through_page
from ..panels import deployment_panels
from ..security import any_role

bp = Blueprint("deployments", __name__, url_prefix="/deployments")


@bp.get("/")
@any_role
def index() -> ResponseReturnValue:
    status = request.args.get("status", "")
    if status not in DEPLOYMENT_STATUSES:
        status = ""
    shown = rows_through_page()
    order = access.DEPLOYMENTS_NEWEST_FIRST
    stmt = (
        select(Deployment)
        .where(access.first_visible_deployments(current_user, order=order, limit=shown,
                                                status=status or None))
        .options(joinedload(Deployment.leader), joinedload(Deployment.request),
                 joinedload(Deployment.home_school))
        .order_by(*order)
    )
    page = paginate(stmt, access.count_visible_deployments(current_user,
                                                           status=status or None))
    return render("deployments/index.html", "results", page=page, status=status,
                  statuses=DEPLOYMENT_STATUSES)


# What the page and its panels read of the deployment (brokering.expected_parties: each
# receiving school, the home school, the leader; the answers so far; who asked, whose group the
# evaluations name), loaded with it: two queries besides the deployment's own, instead of one
# per object (issue 20).
SHOW_LOADS = (
    joinedload(Deployment.request).selectinload(SupportRequest.schools)
    .joinedload(RequestSchool.school),
    joinedload(Deployment.request).joinedload(SupportRequest.requested_by),
    joinedload(Deployment.leader),
    joinedload(Deployment.home_school),
    selectinload(Deployment.responses).joinedload(DeploymentResponse.user),
)


@bp.get("/<id:deployment_id>")
@any_role
def show(deployment_id: int) -> ResponseReturnValue:
    deployment = access.get_deployment(current_user, deployment_id, options=SHOW_LOADS)
    return render("deployments/show.html", d=deployment,
                  panels=deployment_panels.build(deployment, current_user))
