"""Who may see what: the one place where queries are scoped to a user.

Every list query starts from one of the ``*_visible_to`` clauses, and every object a route loads by
id comes through one of the ``get_*`` loaders, which raise :class:`NotVisible` (answered as 404)
when the object is outside the user's school or alliance, so that ids leak nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, exists, false, func, or_, select, union
from sqlalchemy.orm import contains_eager

from ..extensions import db
from ..models import (
    EIP,
    Action,
    ActionPlan,
    Agreement,
    Alliance,
    AuditEvent,
    Board,
    Deployment,
    DeploymentSchool,
    Evaluation,
    Invoice,
    LeaderProfile,
    OutboxEmail,
    Outcome,
    RateCard,
    RequestSchool,
    School,
    SchoolNetwork,
    SupportRequest,
    User,
    Variation,
)
from . import errors
from .policy.admin import may_manage_school
from .policy.profiles import may_approve_release

OVERSEERS = ("admin", "director")


# The object does not exist, or this user may not know that it does (answered 404).
NotVisible = errors.NotVisible


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
        targeted = and_(SupportRequest.board_id == user.board_id,
                        SupportRequest.status != "draft") if user.board_id else false()
        return or_(SupportRequest.requested_by_id == user.id, targeted)
    if user.role == "officer":
        # the requests they filed for their group (the group is checked when filing)
        return SupportRequest.requested_by_id == user.id
    if user.role in ("sle", "home_school"):
        return SupportRequest.id.in_(
            select(Deployment.request_id).where(deployments_visible_to(user)).correlate(None)
        )
    return false()


REQUESTS_NEWEST_FIRST = (SupportRequest.created_at.desc(), SupportRequest.id.desc())


def _school_request_branches(user: User, where: Sequence[ColumnElement[bool]],
                             limit: int | None, status: str | None = None):
    """A headteacher's requests as two index walks, newest first: those they wrote
    (``requested_by_id, created_at``) and those naming their school (``school_id,
    requested_at`` on request_school), each stopping after ``limit`` rows when given; in
    ``status``, each walks its index within it (``requested_by_id, status, created_at``, and
    request_school's copy of the status)."""
    mine = select(SupportRequest.id.label("id")).where(
        SupportRequest.requested_by_id == user.id, *where)
    school = select(RequestSchool.request_id.label("id")).where(
        RequestSchool.school_id == user.school_id)
    if status is not None:
        mine = mine.where(SupportRequest.status == status)
        school = school.where(RequestSchool.status == status)
    if where:  # a filter on the request: the branch visits each request it walks past
        school = school.join(SupportRequest, SupportRequest.id == RequestSchool.request_id).where(
            *where)
    if limit is None:
        return [mine, school]
    return [mine.order_by(*REQUESTS_NEWEST_FIRST).limit(limit),
            school.order_by(RequestSchool.requested_at.desc(), RequestSchool.request_id.desc())
            .limit(limit)]


def _school_headteacher(user: User) -> bool:
    return user.role == "headteacher" and bool(user.school_id)


def _board_request_branches(user: User, where: Sequence[ColumnElement[bool]],
                            limit: int | None):
    """A Board member's requests, newest first, as two index walks: those they wrote, and
    those targeted at their Board (``board_id, created_at``, drafts left out from the index),
    each stopping after ``limit`` rows when given (the same set as ``requests_visible_to``)."""
    mine = select(SupportRequest.id.label("id")).where(
        SupportRequest.requested_by_id == user.id, *where)
    targeted = select(SupportRequest.id.label("id")).where(
        SupportRequest.board_id == user.board_id, SupportRequest.status != "draft", *where)
    if limit is None:
        return [mine, targeted]
    return [b.order_by(*REQUESTS_NEWEST_FIRST).limit(limit) for b in (mine, targeted)]


def _board_member(user: User) -> bool:
    return user.role == "board" and bool(user.board_id)


def _deployed_sides(user: User) -> list[ColumnElement[bool]]:
    """The columns a system leader's or a home school's deployments are found by (the same set
    as ``deployments_visible_to``), each indexed with the request's ``created_at``."""
    if user.role == "sle":
        return list(_leader_sides(user.id))
    if user.role == "home_school" and user.school_id:
        return [Deployment.home_school_id == user.school_id]
    return []


def _deployed_request_branches(user: User, where: Sequence[ColumnElement[bool]],
                               limit: int | None, status: str | None = None):
    """A leader's or a home school's requests, newest first, as one walk of each index of
    their deployments by the request's ``created_at`` (``request_created_at``), each stopping
    after ``limit`` requests when given: a leader deployed on 12,000 requests reads the
    page's rows, not all of them sorted; in ``status``, each walks the index of the request's
    status copied on the deployment. Several deployments on one request count once."""
    branches = []
    for side in _deployed_sides(user):
        branch = select(Deployment.request_id.label("id"),
                        Deployment.request_created_at.label("at")).where(side)
        if status is not None:
            branch = branch.where(Deployment.request_status == status)
        if where:  # a filter on the request: the branch visits each request it walks past
            branch = branch.join(SupportRequest,
                                 SupportRequest.id == Deployment.request_id).where(*where)
        branch = branch.distinct()
        if limit is not None:
            branch = branch.order_by(Deployment.request_created_at.desc(),
                                     Deployment.request_id.desc()).limit(limit)
        branches.append(branch)
    return branches


def first_visible_requests(user: User, *where: ColumnElement[bool], limit: int,
                           status: str | None = None) -> ColumnElement[bool]:
    """A clause on SupportRequest: at most ``limit`` of the requests ``user`` may see that match
    ``where`` (and are in ``status``, when given), the newest (the caller orders and limits
    again). For a school's headteacher, a system leader, a home school and a Board member a
    UNION of limited index walks, so years of requests cost only the rows the page shows; for
    everyone else the visibility clause itself."""
    if _school_headteacher(user):
        branches = [b.subquery() for b in _school_request_branches(user, where, limit, status)]
        return SupportRequest.id.in_(union(*(select(b.c.id) for b in branches)))
    if _deployed_sides(user):
        branches = [b.subquery() for b in _deployed_request_branches(user, where, limit,
                                                                     status)]
        return SupportRequest.id.in_(union(*(select(b.c.id) for b in branches)))
    if status is not None:
        where = (*where, SupportRequest.status == status)
    if _board_member(user):
        branches = [b.subquery() for b in _board_request_branches(user, where, limit)]
    else:
        return and_(requests_visible_to(user), *where)
    # each limited branch is a derived table (SQLite refuses ORDER BY/LIMIT inside a UNION)
    return SupportRequest.id.in_(union(*(select(b.c.id) for b in branches)))


def count_visible_requests(user: User, *where: ColumnElement[bool],
                           status: str | None = None) -> Any:
    """The statement counting the requests ``user`` may see matching ``where`` (and in
    ``status``): for a school's headteacher it counts the UNION of the two index walks
    without visiting every request."""
    if _school_headteacher(user):
        ids = union(*_school_request_branches(user, where, None, status)).subquery()
        return select(func.count()).select_from(ids)
    if _deployed_sides(user):  # each request once, from the deployments' indexes alone
        branches = [b.with_only_columns(b.selected_columns.id)
                    for b in _deployed_request_branches(user, where, None, status)]
        return select(func.count()).select_from(union(*branches).subquery())
    if status is not None:
        where = (*where, SupportRequest.status == status)
    if _board_member(user):
        return select(func.count()).select_from(
            union(*_board_request_branches(user, where, None)).subquery())
    return select(func.count()).select_from(SupportRequest).where(
        requests_visible_to(user), *where)


def deployments_visible_to(user: User) -> ColumnElement[bool]:
    if user.role in OVERSEERS:
        return Deployment.alliance_id == user.alliance_id
    if user.role == "sle":
        return led_or_commissioned(user.id)
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
    if user.role == "officer":
        return Deployment.request_id.in_(
            select(SupportRequest.id).where(SupportRequest.requested_by_id == user.id)
            .correlate(None))
    return false()


def _leader_sides(user_id: int) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return Deployment.leader_id == user_id, Deployment.commissioning_leader_id == user_id


def led_or_commissioned(user_id: int) -> ColumnElement[bool]:
    """The deployments a system leader leads or commissioned. Lists walk the two indexes in
    order on their own (:func:`first_visible_deployments`); this clause serves every other
    query (a deployment by id, the counts of what waits for the leader), each with its own
    conditions beside it. PostgreSQL answers an OR of the two columns from both indexes at
    once (a BitmapOr, combined with the other conditions' indexes): at national scale the
    "Needs your action" counts of a leader with 1,200 deployments took half the time of the
    ``id IN (UNION ...)`` form, which builds the whole set for every count. SQLite has no
    bitmap scans and, given the OR, scans the table (five times slower there), so it keeps
    the UNION of two index lookups."""
    lead, commission = _leader_sides(user_id)
    if db.session.get_bind().dialect.name == "postgresql":
        return or_(lead, commission)
    return Deployment.id.in_(union(*(select(Deployment.id).where(side).correlate(None)
                                     for side in (lead, commission))))


DEPLOYMENTS_NEWEST_FIRST = (Deployment.proposed_at.desc(), Deployment.id.desc())
DEPLOYMENTS_OLDEST_FIRST = (Deployment.proposed_at, Deployment.id)

# the orders a school's deployments can be walked in (ix_deployment_school_school_proposed,
# forwards or backwards), and the same order on deployment_school
_SCHOOL_ORDERS = (
    (DEPLOYMENTS_NEWEST_FIRST,
     (DeploymentSchool.proposed_at.desc(), DeploymentSchool.deployment_id.desc())),
    (DEPLOYMENTS_OLDEST_FIRST,
     (DeploymentSchool.proposed_at, DeploymentSchool.deployment_id)),
    ((Deployment.proposed_at.asc(), Deployment.id.asc()),
     (DeploymentSchool.proposed_at, DeploymentSchool.deployment_id)),
)


def _clause(column: Any) -> Any:
    return column.__clause_element__() if hasattr(column, "__clause_element__") else column


def _school_order(order: Sequence[Any]) -> tuple[Any, ...] | None:
    """The same order on deployment_school, when ``order`` is one its index can be walked in."""
    for on_deployment, on_school in _SCHOOL_ORDERS:
        if len(order) == len(on_deployment) and all(
                _clause(a).compare(_clause(b)) for a, b in zip(order, on_deployment, strict=True)):
            return on_school
    return None


def _school_deployments(user: User, where: Sequence[ColumnElement[bool]],
                        status: str | None = None) -> Any:
    """The deployment ids of a headteacher's school (its receiving-school rows, the same set as
    ``deployments_visible_to``), in ``status`` when given (from the rows' copy of it, indexed),
    visiting each deployment only when ``where`` filters it."""
    stmt = select(DeploymentSchool.deployment_id.label("id")).where(
        DeploymentSchool.school_id == user.school_id)
    if status is not None:
        stmt = stmt.where(DeploymentSchool.status == status)
    if where:
        stmt = stmt.join(Deployment, Deployment.id == DeploymentSchool.deployment_id).where(
            *where)
    return stmt


def _walkable(order: Sequence[Any]) -> bool:
    """``order`` is by date, as the dated indexes of deployments are walked."""
    return _school_order(order) is not None


def _board_deployments(user: User, where: Sequence[ColumnElement[bool]]) -> Any:
    """A Board's deployments, found by their copy of the request's Board
    (``request_board_id``, walked by date) and each checked against the request's own Board,
    the rule in ``deployments_visible_to``: a stale copy could hide a row, never show one."""
    return (select(Deployment.id.label("id"))
            .join(SupportRequest, SupportRequest.id == Deployment.request_id)
            .where(Deployment.request_board_id == user.board_id,
                   SupportRequest.board_id == user.board_id, *where))


def first_visible_deployments(user: User, *where: ColumnElement[bool], order: Sequence[Any],
                              limit: int, status: str | None = None) -> ColumnElement[bool]:
    """A clause on Deployment: at most ``limit`` of the deployments ``user`` may see that match
    ``where``, the first in ``order`` (the caller orders and limits again). For a system leader
    it is a UNION of two branches (led, commissioned) that each walk their own index in that
    order and stop after ``limit`` rows, so the page reads only what it shows; for a school's
    headteacher, in date order, one walk of the school's deployments by date
    (``deployment_school``), not a join of every deployment to the school's requests; for
    everyone else it is the visibility clause itself."""
    if _school_headteacher(user):
        school_order = _school_order(order)
        if school_order is not None:
            return Deployment.id.in_(
                _school_deployments(user, where, status).order_by(*school_order).limit(limit)
                .subquery().select())
    if status is not None:
        where = (*where, Deployment.status == status)
    if _board_member(user) and _walkable(order):
        return Deployment.id.in_(
            _board_deployments(user, where).order_by(*order).limit(limit).subquery().select())
    if user.role != "sle":
        if where and _walkable(order):
            # walked by date (an alliance's, a home school's index), stopping at ``limit``
            # matches: given the plain clause, the database may walk them by status instead,
            # reading every row of a status none of ``where`` matches first (the "Needs your
            # action" count), or start from the rows ``where`` names (the agreements to sign)
            return Deployment.id.in_(
                select(Deployment.id).where(deployments_visible_to(user), *where)
                .order_by(*order).limit(limit).subquery().select())
        return and_(deployments_visible_to(user), *where)
    branches = [select(Deployment.id).where(side, *where).order_by(*order).limit(limit)
                .subquery() for side in _leader_sides(user.id)]
    # each limited branch is a derived table (SQLite refuses ORDER BY/LIMIT inside a UNION)
    return Deployment.id.in_(union(*(select(b.c.id) for b in branches)))


def count_visible_deployments(user: User, *where: ColumnElement[bool],
                              status: str | None = None) -> Any:
    """The statement counting the deployments ``user`` may see matching ``where``: for a
    school's headteacher it counts the school's rows of ``deployment_school`` (from the index
    alone when nothing filters), not every deployment joined to the school's requests."""
    if _school_headteacher(user):
        return select(func.count()).select_from(
            _school_deployments(user, where, status).subquery())
    if status is not None:
        where = (*where, Deployment.status == status)
    if _board_member(user):  # from the copy's index alone: a number, never a row shown
        return select(func.count()).select_from(Deployment).where(
            Deployment.request_board_id == user.board_id, *where)
    return select(func.count()).select_from(Deployment).where(
        deployments_visible_to(user), *where)


def leaders_visible_to(user: User) -> ColumnElement[bool]:
    """The directory: everyone in the alliance sees its system leaders' public profiles."""
    return LeaderProfile.alliance_id == user.alliance_id


def get_request(user: User, request_id: int, *, for_update: bool = False) -> SupportRequest:
    """``for_update`` locks the row (PostgreSQL) so a concurrent change waits for ours."""
    stmt = select(SupportRequest).where(SupportRequest.id == request_id,
                                        requests_visible_to(user))
    obj = db.session.scalar(stmt.with_for_update(of=SupportRequest) if for_update else stmt)
    if obj is None:
        raise NotVisible(f"request {request_id}")
    return obj


def get_deployment(user: User, deployment_id: int, *, for_update: bool = False,
                   options: Sequence[Any] = ()) -> Deployment:
    """``options``: loader options (the deployment page loads what its panels read in one go)."""
    stmt = select(Deployment).where(Deployment.id == deployment_id, deployments_visible_to(user))
    if options:
        stmt = stmt.options(*options)
    obj = db.session.scalar(stmt.with_for_update(of=Deployment) if for_update else stmt)
    if obj is None:
        raise NotVisible(f"deployment {deployment_id}")
    return obj


def outbox_visible_to(user: User) -> ColumnElement[bool]:
    """The email outbox: the co-ordinator and director read their own alliance's mail."""
    if user.role in OVERSEERS:
        return OutboxEmail.alliance_id == user.alliance_id
    return false()


def get_outbox_email(user: User, email_id: int) -> OutboxEmail:
    obj = db.session.scalar(
        select(OutboxEmail).where(OutboxEmail.id == email_id, outbox_visible_to(user))
    )
    if obj is None:
        raise NotVisible(f"email {email_id}")
    return obj

def get_agreement(user: User, deployment_id: int) -> tuple[Deployment, Agreement]:
    """A deployment the user may see and the latest version of its agreement."""
    deployment = get_deployment(user, deployment_id)
    agreement = db.session.scalar(
        select(Agreement).where(Agreement.deployment_id == deployment.id)
        .order_by(Agreement.version.desc()).limit(1)
    )
    if agreement is None:
        raise NotVisible(f"agreement of deployment {deployment_id}")
    return deployment, agreement


def agreements_visible_to(user: User) -> ColumnElement[bool]:
    """Every version of the agreements of the deployments the user may see. (Who is waiting
    to sign is ``policy/agreements.py:waiting_sign``.)"""
    return Agreement.deployment_id.in_(
        select(Deployment.id).where(deployments_visible_to(user)).correlate(None))


# ------------------------------------------------------------------ delivery (action plans)

# The plan belongs to the leader, the receiving school(s) and the alliance's overseers; the home
# school and the Boards see the deployment but not the plan (they get 404, like a stranger).
PLAN_ROLES = ("headteacher", "sle", "director", "admin")


def plans_visible_to(user: User) -> ColumnElement[bool]:
    """A clause on Deployment: whose action plan (and visits) this user may see."""
    if user.role not in PLAN_ROLES:
        return false()
    return deployments_visible_to(user)


def get_plan_deployment(user: User, deployment_id: int) -> Deployment:
    obj = db.session.scalar(
        select(Deployment).where(Deployment.id == deployment_id, plans_visible_to(user))
    )
    if obj is None:
        raise NotVisible(f"plan of deployment {deployment_id}")
    return obj


def plan_revision(user: User, plan_id: int) -> int:
    """The plan's revision in one indexed query (the poll), or NotVisible."""
    revision = db.session.scalar(
        select(ActionPlan.revision).join(Deployment, Deployment.id == ActionPlan.deployment_id)
        .where(ActionPlan.id == plan_id, plans_visible_to(user))
    )
    if revision is None:
        raise NotVisible(f"plan {plan_id}")
    return revision


def get_plan(user: User, plan_id: int) -> ActionPlan:
    obj = db.session.scalar(
        select(ActionPlan).join(Deployment, Deployment.id == ActionPlan.deployment_id)
        .where(ActionPlan.id == plan_id, plans_visible_to(user))
    )
    if obj is None:
        raise NotVisible(f"plan {plan_id}")
    return obj


def get_plan_row(user: User, kind: str, row_id: int) -> Outcome | Action:
    if kind == "action":
        return _plan_row(user, Action, kind, row_id)
    if kind == "outcome":
        return _plan_row(user, Outcome, kind, row_id)
    raise NotVisible(kind)


_Row = TypeVar("_Row", Action, Outcome)


def _plan_row(user: User, model: type[_Row], kind: str, row_id: int) -> _Row:
    # one query: the row, its plan and deployment (from the joins the check needs anyway) and
    # the plan's outcomes (an action's form offers them; the row shows its own)
    obj = db.session.scalars(
        select(model).join(ActionPlan, ActionPlan.id == model.plan_id)
        .join(Deployment, Deployment.id == ActionPlan.deployment_id)
        .where(model.id == row_id, plans_visible_to(user))
        .options(contains_eager(model.plan).contains_eager(ActionPlan.deployment),
                 contains_eager(model.plan).joinedload(ActionPlan.outcomes))
    ).unique().first()
    if obj is None:
        raise NotVisible(f"{kind} {row_id}")
    return obj


def get_variation(user: User, variation_id: int) -> Variation:
    obj = db.session.scalar(
        select(Variation).join(Deployment, Deployment.id == Variation.deployment_id)
        .where(Variation.id == variation_id, plans_visible_to(user))
    )
    if obj is None:
        raise NotVisible(f"variation {variation_id}")
    return obj


def removed_row_plan(user: User, kind: str, row_id: int) -> ActionPlan | None:
    """The visible plan a since-removed row belonged to (so an edit of it can answer 409)."""
    from ..models import PlanRevision

    last = db.session.scalar(
        select(PlanRevision).join(ActionPlan, ActionPlan.id == PlanRevision.plan_id)
        .join(Deployment, Deployment.id == ActionPlan.deployment_id)
        .where(PlanRevision.entity == kind, PlanRevision.entity_id == row_id,
               plans_visible_to(user))
        .order_by(PlanRevision.id.desc()).limit(1)
    )
    if last is None or last.after is not None:  # JSON null reads back as None
        return None
    return db.session.get(ActionPlan, last.plan_id)


def evaluations_visible_to(user: User) -> ColumnElement[bool]:
    """Evaluations and QA notes of deployments the user sees, by role and stage:

    overseers see all; the system leader sees their own evaluation, the QA notes and the schools'
    once signed off; a receiving headteacher sees the leader's once forwarded and their own
    school's; a Board member sees the finished ones of its targeted deployments.
    """
    on_visible = exists().where(
        Deployment.id == Evaluation.deployment_id, deployments_visible_to(user)
    )
    shared = and_(Evaluation.kind == "leader", Evaluation.status.in_(("forwarded", "returned")))
    if user.role in OVERSEERS:
        return on_visible
    if user.role == "sle":
        return and_(on_visible, or_(Evaluation.kind != "school",
                                    Evaluation.status == "signed_off"))
    if user.role == "headteacher":
        own_school = and_(Evaluation.kind == "school", Evaluation.school_id == user.school_id) \
            if user.school_id else false()
        return and_(on_visible, or_(shared, own_school, Evaluation.kind == "qa_final"))
    if user.role == "board":
        return and_(on_visible, or_(
            shared, and_(Evaluation.kind == "school", Evaluation.status == "signed_off"),
            Evaluation.kind == "qa_final"))
    if user.role == "officer":  # follows the group's request: the group's own evaluation too
        return and_(on_visible, or_(
            shared, Evaluation.kind == "group",
            and_(Evaluation.kind == "school", Evaluation.status == "signed_off"),
            Evaluation.kind == "qa_final"))
    return false()


def boards_visible_to(user: User) -> ColumnElement[bool]:
    if user.role in OVERSEERS:
        return Board.alliance_id == user.alliance_id
    if user.role == "board" and user.board_id:
        return Board.id == user.board_id
    return false()


def in_network(alliance_id: int | None) -> ColumnElement[bool]:
    """The schools that are members of this network (alliance): its home schools and those
    whose home is another network (``SchoolNetwork``), as ``id IN (an index lookup)``."""
    if alliance_id is None:
        return false()
    return School.id.in_(select(SchoolNetwork.school_id)
                         .where(SchoolNetwork.alliance_id == alliance_id).correlate(None))


def networks_of(school_id: int | None) -> list[tuple[int, str]]:
    """The networks a school is a member of, as (alliance id, name), by name."""
    if school_id is None:
        return []
    return [(i, n) for i, n in db.session.execute(
        select(Alliance.id, Alliance.name).join(SchoolNetwork,
                                                SchoolNetwork.alliance_id == Alliance.id)
        .where(SchoolNetwork.school_id == school_id).order_by(Alliance.name))]


def is_member(school_id: int, alliance_id: int) -> bool:
    return db.session.get(SchoolNetwork, (school_id, alliance_id)) is not None


def schools_visible_to(user: User) -> ColumnElement[bool]:
    """Schools a user may pick from: the members of their network (a Board targets schools
    of its own alliance)."""
    return in_network(user.alliance_id)


def group_schools(user: User) -> ColumnElement[bool]:
    """An officer's group: the alliance's schools of their EIP, or of their local authority
    (the schools an officer may name on a request). Nobody else has a group."""
    if user.role != "officer":
        return false()
    if user.eip_id:
        return and_(in_network(user.alliance_id), School.eip_id == user.eip_id)
    if user.local_authority_id:
        return and_(in_network(user.alliance_id),
                    School.local_authority_id == user.local_authority_id)
    return false()


def get_school(user: User, school_id: int) -> School:
    obj = db.session.scalar(select(School).where(School.id == school_id,
                                                 schools_visible_to(user)))
    if obj is None:
        raise NotVisible(f"school {school_id}")
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
    """A home-school leader approves release for the system leaders of their own school (the
    SQL form of ``policy.profiles.approve_release``)."""
    return may_approve_release(user)


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
    """The schools whose record and accounts the user runs: their network's HOME schools
    (``policy.admin.manages_school``). A member school of another home is seen and listed
    (:func:`schools_visible_to`) but not edited, nor are its staff invited: 404 here."""
    return may_manage_school(user)


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
