"""The home page: each role sees its own work first."""

from __future__ import annotations

from flask import Blueprint, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..coordinator.routes import DESK  # who sees the desk panel, which shows the inbox counts
from ..deployment_lists import DeploymentList
from ..deployment_lists import fetch as fetch_lists
from ..domain import brokering
from ..domain.access import (
    REQUESTS_NEWEST_FIRST,
    deployments_visible_to,
    first_visible_requests,
    group_schools,
)
from ..domain.sla import match_clock
from ..extensions import db
from ..htmx import render
from ..models import (
    DEPLOYMENT_STATUSES,
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
    # the schools come in the same query (SQLAlchemy limits the requests in a subquery first)
    return db.session.scalars(
        select(SupportRequest)
        .where(where)
        .options(joinedload(SupportRequest.schools).joinedload(RequestSchool.school))
        .order_by(*order)
        .limit(limit)
    ).unique().all()


def _newest(where) -> DeploymentList:
    """The user's newest visible deployments matching ``where`` (None: all), HOME_LIMIT of
    them; read with the panels' lists in one query (``portal.deployment_lists``)."""
    return DeploymentList(where, ("proposed_at", "id"), HOME_LIMIT, descending=True)


def _overseer_counts(user, where) -> dict[str, int]:
    """The deployments by status and (for the desk, ``brokering.inbox_counts``) the inbox, in
    one statement of scalar subqueries; the inbox counts are kept for the desk panel."""
    by_status = [select(func.count()).where(where, Deployment.status == s).scalar_subquery()
                 for s in DEPLOYMENT_STATUSES]
    inbox = brokering.inbox_count_columns(user, utcnow()) if user.role in DESK else []
    row = db.session.execute(select(*by_status, *inbox)).one()
    if inbox:
        brokering.remember_inbox_counts(user, row[len(by_status):])
    return {s: int(n) for s, n in zip(DEPLOYMENT_STATUSES, row[:len(by_status)], strict=True)
            if n}


@bp.get("/")
@any_role
def home() -> ResponseReturnValue:
    user = current_user
    now = utcnow()
    ctx: dict = {"now": now,
                 "actions": actions.for_user(user, now=now,
                                             limit=actions.ALL_LIMIT if request.args.get("all") else
                                             actions.LIMIT)}
    lists: dict[str, DeploymentList] = {}
    visible_deployments = deployments_visible_to(user)
    if user.role in ("admin", "director"):
        ctx["counts"] = _overseer_counts(user, visible_deployments)
    if user.role == "admin":
        inbox = _requests(brokering.first_in_inbox(user, limit=HOME_LIMIT),
                          *brokering.INBOX_ORDER)
        ctx["inbox"] = [(r, match_clock(r.submitted_at, now)) for r in inbox]
        ctx["inbox_total"] = brokering.inbox_counts(user, now).total
        lists["proposed"] = _newest(Deployment.status == "proposed")
    if user.role == "director":
        lists["awaiting_signature"] = _newest(Deployment.status == "agreement")
        lists["live"] = _newest(Deployment.status.in_(("active", "evaluation")))
    if user.role in REQUESTS_HEADING:
        ctx["requests"] = _requests(
            first_visible_requests(user, limit=HOME_LIMIT), *REQUESTS_NEWEST_FIRST)
        ctx["requests_heading"] = REQUESTS_HEADING[user.role]
    if user.role in DEPLOYMENTS_HEADING:
        lists["deployments"] = _newest(None)
        ctx["deployments_heading"] = DEPLOYMENTS_HEADING[user.role]
    if user.role == "officer":
        ctx["group_name"] = user.group_name
        ctx["group"] = db.session.scalars(
            select(School).where(group_schools(user)).order_by(School.name)).all()
    if user.role == "sle":  # the profile and its specialisms in one query
        ctx["profile"] = db.session.scalars(
            select(LeaderProfile).where(LeaderProfile.user_id == user.id)
            .options(joinedload(LeaderProfile.specialisms))).unique().first()
    if user.role == "home_school" and user.school_id:
        # the school's leaders and the half days each has been released for, in one query
        released = (select(func.coalesce(func.sum(Deployment.half_days_delivered), 0))
                    .where(Deployment.home_school_id == user.school_id,
                           Deployment.leader_id == LeaderProfile.user_id)
                    .correlate(LeaderProfile).scalar_subquery())
        rows = db.session.execute(
            select(LeaderProfile, released)
            .join(User, LeaderProfile.user_id == User.id)
            .where(LeaderProfile.home_school_id == user.school_id, User.active.is_(True))
            .options(joinedload(LeaderProfile.user))
            .order_by(User.name)
        ).all()
        ctx["staff"] = [row[0] for row in rows]
        ctx["released_half_days"] = {row[0].user_id: int(row[1] or 0) for row in rows}
    # the page's lists and its panels' (first contact, evaluations) in one query
    wanted = {**lists, **home_panels.wanted(None, user)}
    fetched = fetch_lists(user, wanted)
    ctx.update({name: fetched[name] for name in lists})
    ctx["panels"] = home_panels.build(None, user, lists=fetched)
    return render("dashboard/home.html", **ctx)
