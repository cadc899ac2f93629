"""Support requests: the list a user may see, and one request in full."""

from __future__ import annotations

from flask import Blueprint, request
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from ..domain import access
from ..domain.sla import match_clock
from ..extensions import db
from ..htmx import render
from ..models import REQUEST_STATUSES, Deployment, RequestSchool, SupportRequest, utcnow
from ..pagination import paginate
from ..panels import request_panels
from ..security import any_role

bp = Blueprint("requests", __name__, url_prefix="/requests")


@bp.get("/")
@any_role
def index():
    status = request.args.get("status", "")
    where = access.requests_visible_to(current_user)
    if status in REQUEST_STATUSES:
        where = where & (SupportRequest.status == status)
    else:
        status = ""
    stmt = (
        select(SupportRequest)
        .where(where)
        .options(
            selectinload(SupportRequest.schools).joinedload(RequestSchool.school),
            joinedload(SupportRequest.specialism),
        )
        .order_by(SupportRequest.created_at.desc(), SupportRequest.id.desc())
    )
    page = paginate(stmt)
    return render("requests/index.html", "results", page=page, status=status,
                  statuses=REQUEST_STATUSES)


@bp.get("/<int:request_id>")
@any_role
def show(request_id: int):
    req = access.get_request(current_user, request_id)
    deployments = db.session.scalars(
        select(Deployment)
        .where(Deployment.request_id == req.id, access.deployments_visible_to(current_user))
        .options(joinedload(Deployment.leader), joinedload(Deployment.home_school))
        .order_by(Deployment.proposed_at)
    ).all()
    clock = match_clock(req.submitted_at, utcnow(), req.matched_at) if req.submitted_at else None
    return render("requests/show.html", req=req, deployments=deployments, match_clock=clock,
                  panels=request_panels.build(req, current_user))
