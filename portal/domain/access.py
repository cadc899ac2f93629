"""Who may see what: the one place where queries are scoped to a user.

Every list query starts from one of the ``*_visible_to`` clauses, and every object a route loads by
id comes through one of the ``get_*`` loaders, which raise :class:`NotVisible` (answered as 404)
when the object is outside the user's school or alliance, so that ids leak nothing.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, or_, select, union

from ..extensions import db
from ..models import Deployment, LeaderProfile, RequestSchool, SupportRequest, User

OVERSEERS = ("admin", "director")


class NotVisible(LookupError):
    """The object does not exist, or this user may not know that it does."""


def requests_visible_to(user: User) -> ColumnElement[bool]:
    if user.role in OVERSEERS:
        return and_(
            SupportRequest.alliance_id == user.alliance_id, SupportRequest.status != "draft"
        )
    # IN (uncorrelated subquery) rather than a correlated EXISTS: the database starts from the
    # few matching rows (by index) instead of testing every request in the table.
    if user.role == "headteacher":
        if not user.school_id:
            return SupportRequest.requested_by_id == user.id
        # a UNION of two index lookups: an OR here would make PostgreSQL scan every request
        mine = select(SupportRequest.id).where(SupportRequest.requested_by_id == user.id)
        own_school = select(RequestSchool.request_id).where(
            RequestSchool.school_id == user.school_id
        )
        return SupportRequest.id.in_(union(mine.correlate(None), own_school.correlate(None)))
    if user.role == "board":
        return and_(SupportRequest.board_id == user.board_id, SupportRequest.status != "draft") \
            if user.board_id else false()
    if user.role in ("sle", "home_school"):
        return SupportRequest.id.in_(
            select(Deployment.request_id).where(deployments_visible_to(user)).correlate(None)
        )
    return false()


def deployments_visible_to(user: User) -> ColumnElement[bool]:
    if user.role in OVERSEERS:
        return Deployment.alliance_id == user.alliance_id
    if user.role == "sle":
        return or_(Deployment.leader_id == user.id, Deployment.commissioning_leader_id == user.id)
    if user.role == "home_school":
        return Deployment.home_school_id == user.school_id if user.school_id else false()
    if user.role == "headteacher":
        if not user.school_id:
            return Deployment.request_id.in_(
                select(SupportRequest.id).where(SupportRequest.requested_by_id == user.id)
                .correlate(None)
            )
        return Deployment.request_id.in_(
            select(RequestSchool.request_id).where(RequestSchool.school_id == user.school_id)
            .correlate(None)
        )
    if user.role == "board":
        return Deployment.request_id.in_(
            select(SupportRequest.id).where(SupportRequest.board_id == user.board_id)
            .correlate(None)
        ) if user.board_id else false()
    return false()


def leaders_visible_to(user: User) -> ColumnElement[bool]:
    """The directory: everyone in the alliance sees its system leaders' public profiles."""
    return LeaderProfile.alliance_id == user.alliance_id


def get_request(user: User, request_id: int) -> SupportRequest:
    obj = db.session.scalar(
        select(SupportRequest).where(SupportRequest.id == request_id, requests_visible_to(user))
    )
    if obj is None:
        raise NotVisible(f"request {request_id}")
    return obj


def get_deployment(user: User, deployment_id: int) -> Deployment:
    obj = db.session.scalar(
        select(Deployment).where(Deployment.id == deployment_id, deployments_visible_to(user))
    )
    if obj is None:
        raise NotVisible(f"deployment {deployment_id}")
    return obj
