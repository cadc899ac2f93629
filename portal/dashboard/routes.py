"""The home page: each role sees its own work first."""

from __future__ import annotations

from flask import Blueprint, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from ..domain import brokering
from ..domain.access import deployments_visible_to, group_schools, requests_visible_to
from ..domain.sla import match_clock
from ..extensions import db
from ..htmx import render
from ..models import (
    Deployment,
    LeaderProfile,
    RequestSchool,
    School,
    SupportRequest,
    User,
    utcnow,
)
from ..panels import home_panels
from ..security import any_role
from . import actions

bp = Blueprint("dashboard", __name__)

HOME_LIMIT = 10
# each role's sections below "Needs your action", and their headings
REQUESTS_HEADING = {"headteacher": "Your school's requests", "board": "Targeted requests",
                    "officer": "Requests for your group of schools"}
DEPLOYMENTS_HEADING = {"headteacher": "Deployments", "board": "Deployments",
                       "officer": "Deployments for your group",
                       "sle": "Your deployments", "home_school": "Deployments of your staff"}


def _requests(where, *order, limit=HOME_LIMIT):
    return db.session.scalars(
        select(SupportRequest)
        .where(where)
        .options(selectinload(SupportRequest.schools).joinedload(RequestSchool.school))
        .order_by(*order)
        .limit(limit)
    ).all()


def _deployments(where, limit=HOME_LIMIT):
    return db.session.scalars(
        select(Deployment)
        .where(where)
        .options(
            joinedload(Deployment.leader),
            joinedload(Deployment.request),
            joinedload(Deployment.home_school),
        )
        .order_by(Deployment.proposed_at.desc(), Deployment.id.desc())
        .limit(limit)
    ).all()


def _status_counts(where) -> dict[str, int]:
    rows = db.session.execute(
        select(Deployment.status, func.count()).where(where).group_by(Deployment.status)
    ).all()
    return dict(rows)


@bp.get("/")
@any_role
def home() -> ResponseReturnValue:
    user = current_user
    now = utcnow()
    ctx: dict = {"now": now,
                 "actions": actions.for_user(user, now=now,
                                             limit=actions.ALL_LIMIT if request.args.get("all") else
                                             actions.LIMIT)}
    visible_requests = requests_visible_to(user)
    visible_deployments = deployments_visible_to(user)
    if user.role == "admin":
        inbox = _requests(brokering.in_inbox(user), *brokering.INBOX_ORDER)
        ctx["inbox"] = [(r, match_clock(r.submitted_at, now)) for r in inbox]
        ctx["inbox_total"] = brokering.inbox_counts(user, now).total
        ctx["proposed"] = _deployments(visible_deployments & (Deployment.status == "proposed"))
    if user.role in ("admin", "director"):
        ctx["counts"] = _status_counts(visible_deployments)
    if user.role == "director":
        ctx["awaiting_signature"] = _deployments(
            visible_deployments & (Deployment.status == "agreement")
        )
        ctx["live"] = _deployments(
            visible_deployments & Deployment.status.in_(("active", "evaluation"))
        )
    if user.role in REQUESTS_HEADING:
        ctx["requests"] = _requests(
            visible_requests, SupportRequest.created_at.desc(), SupportRequest.id.desc()
        )
        ctx["requests_heading"] = REQUESTS_HEADING[user.role]
    if user.role in DEPLOYMENTS_HEADING:
        ctx["deployments"] = _deployments(visible_deployments)
        ctx["deployments_heading"] = DEPLOYMENTS_HEADING[user.role]
    if user.role == "officer":
        ctx["group_name"] = user.group_name
        ctx["group"] = db.session.scalars(
            select(School).where(group_schools(user)).order_by(School.name)).all()
    if user.role == "sle":
        ctx["profile"] = user.profile
    if user.role == "home_school" and user.school_id:
        ctx["staff"] = db.session.scalars(
            select(LeaderProfile)
            .join(User, LeaderProfile.user_id == User.id)
            .where(LeaderProfile.home_school_id == user.school_id, User.active.is_(True))
            .options(joinedload(LeaderProfile.user))
            .order_by(User.name)
        ).all()
        ctx["released_half_days"] = dict(
            db.session.execute(
                select(Deployment.leader_id, func.sum(Deployment.half_days_delivered))
                .where(Deployment.home_school_id == user.school_id)
                .group_by(Deployment.leader_id)
            ).all()
        )
    ctx["panels"] = home_panels.build(None, user)
    return render("dashboard/home.html", **ctx)
