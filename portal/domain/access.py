"""Who may see what: the one place where queries are scoped to a user.

Every list query starts from one of the ``*_visible_to`` clauses, and every object a route loads by
id comes through one of the ``get_*`` loaders, which raise :class:`NotVisible` (answered as 404)
when the object is outside the user's school or alliance, so that ids leak nothing.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, false, or_, select

from ..extensions import db
from ..models import (
    EIP,
    AuditEvent,
    Board,
    Deployment,
    LeaderProfile,
    RequestSchool,
    School,
    SupportRequest,
    User,
)

OVERSEERS = ("admin", "director")


class NotVisible(LookupError):
    """The object does not exist, or this user may not know that it does."""


def requests_visible_to(user: User) -> ColumnElement[bool]:
    if user.role in OVERSEERS:
        return and_(
            SupportRequest.alliance_id == user.alliance_id, SupportRequest.status != "draft"
        )
    if user.role == "headteacher":
        own_school = exists().where(
            RequestSchool.request_id == SupportRequest.id,
            RequestSchool.school_id == user.school_id,
        ) if user.school_id else false()
        return or_(SupportRequest.requested_by_id == user.id, own_school)
    if user.role == "board":
        return and_(SupportRequest.board_id == user.board_id, SupportRequest.status != "draft") \
            if user.board_id else false()
    if user.role in ("sle", "home_school"):
        return exists().where(
            Deployment.request_id == SupportRequest.id, deployments_visible_to(user)
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
            return exists().where(
                SupportRequest.id == Deployment.request_id,
                SupportRequest.requested_by_id == user.id,
            )
        return exists().where(
            RequestSchool.request_id == Deployment.request_id,
            RequestSchool.school_id == user.school_id,
        )
    if user.role == "board":
        return exists().where(
            SupportRequest.id == Deployment.request_id, SupportRequest.board_id == user.board_id
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


# ------------------------------------------------------------------ directory and admin (issue 8)


def get_leader(user: User, profile_id: int) -> LeaderProfile:
    obj = db.session.scalar(
        select(LeaderProfile).where(LeaderProfile.id == profile_id, leaders_visible_to(user))
    )
    if obj is None:
        raise NotVisible(f"leader {profile_id}")
    return obj


def released_leaders_for(user: User) -> ColumnElement[bool]:
    """A home-school leader approves release for the system leaders of their own school."""
    if user.role == "home_school" and user.school_id:
        return and_(LeaderProfile.home_school_id == user.school_id,
                    LeaderProfile.alliance_id == user.alliance_id)
    return false()


def get_released_leader(user: User, profile_id: int) -> LeaderProfile:
    obj = db.session.scalar(
        select(LeaderProfile).where(LeaderProfile.id == profile_id, released_leaders_for(user))
    )
    if obj is None:
        raise NotVisible(f"leader {profile_id}")
    return obj


def users_managed_by(user: User) -> ColumnElement[bool]:
    """An admin manages the users of their own alliance only."""
    return User.alliance_id == user.alliance_id if user.role == "admin" else false()


def get_managed_user(user: User, user_id: int) -> User:
    obj = db.session.scalar(select(User).where(User.id == user_id, users_managed_by(user)))
    if obj is None:
        raise NotVisible(f"user {user_id}")
    return obj


def schools_managed_by(user: User) -> ColumnElement[bool]:
    return School.alliance_id == user.alliance_id if user.role in OVERSEERS else false()


def get_managed_school(user: User, school_id: int) -> School:
    obj = db.session.scalar(select(School).where(School.id == school_id, schools_managed_by(user)))
    if obj is None:
        raise NotVisible(f"school {school_id}")
    return obj


def boards_managed_by(user: User) -> ColumnElement[bool]:
    return Board.alliance_id == user.alliance_id if user.role in OVERSEERS else false()


def get_managed_board(user: User, board_id: int) -> Board:
    obj = db.session.scalar(select(Board).where(Board.id == board_id, boards_managed_by(user)))
    if obj is None:
        raise NotVisible(f"board {board_id}")
    return obj


def eips_managed_by(user: User) -> ColumnElement[bool]:
    return EIP.alliance_id == user.alliance_id if user.role in OVERSEERS else false()


def get_managed_eip(user: User, eip_id: int) -> EIP:
    obj = db.session.scalar(select(EIP).where(EIP.id == eip_id, eips_managed_by(user)))
    if obj is None:
        raise NotVisible(f"eip {eip_id}")
    return obj


def audit_visible_to(user: User) -> ColumnElement[bool]:
    """Admins and directors read their own alliance's audit trail."""
    return AuditEvent.alliance_id == user.alliance_id if user.role in OVERSEERS else false()
