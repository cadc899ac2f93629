"""Who may see what: the one place where queries are scoped to a user.

Every list query starts from one of the ``*_visible_to`` clauses, and every object a route loads by
id comes through one of the ``get_*`` loaders, which raise :class:`NotVisible` (answered as 404)
when the object is outside the user's school or alliance, so that ids leak nothing.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, false, or_, select

from ..extensions import db
from ..models import (
    Deployment,
    Invoice,
    LeaderProfile,
    RateCard,
    RequestSchool,
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


# ---------------------------------------------------------------------------- money (finance)

FINANCE_ROLES = ("admin", "director", "headteacher", "home_school", "board")


def invoices_visible_to(user: User) -> ColumnElement[bool]:
    """Overseers: every invoice of their alliance. A receiving headteacher: what their school is
    charged. A home-school leader: what their school is owed. A Board member: their Board's
    grants. System leaders see no money."""
    if user.role in OVERSEERS:
        return Invoice.alliance_id == user.alliance_id
    if user.role == "headteacher":
        return and_(Invoice.payer == "school", Invoice.payer_school_id == user.school_id) \
            if user.school_id else false()
    if user.role == "home_school":
        return Invoice.payee_school_id == user.school_id if user.school_id else false()
    if user.role == "board":
        return and_(Invoice.payer == "board", Invoice.payer_board_id == user.board_id) \
            if user.board_id else false()
    return false()


def get_invoice(user: User, invoice_id: int) -> Invoice:
    obj = db.session.scalar(
        select(Invoice).where(Invoice.id == invoice_id, invoices_visible_to(user))
    )
    if obj is None:
        raise NotVisible(f"invoice {invoice_id}")
    return obj


def rate_cards_visible_to(user: User) -> ColumnElement[bool]:
    if user.role in OVERSEERS:
        return RateCard.alliance_id == user.alliance_id
    return false()
