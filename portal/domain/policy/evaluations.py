"""Who may evaluate, forward, sign off and end a deployment early, and when. (Step 6.)

The worked example of the policy convention (see ``portal/domain/policy/__init__.py``):

* :func:`actions` answers every step-6 action for a user and a deployment;
* :func:`waiting` is the Python form of the "waiting for me" lists, and each of its entries has
  its SQL twin right below the predicate it mirrors (``waiting_forward`` ...), used by the home
  panel (``portal/evaluations/home.py``). ``tests/unit/test_policy_evaluations.py`` checks that
  both forms agree for every user and deployment of a test world.

The facts a decision needs (the leader's evaluation, the schools' evaluations, the receiving
schools) are loaded once by :func:`facts`; pass them in when you already have them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, exists, false, func, not_, select
from sqlalchemy.orm import aliased

from ...extensions import db
from ...models import Deployment, Evaluation, RequestSchool, SupportRequest, User
from . import (
    LEADER_ROLES,
    Decision,
    acts_as_leader,
    allow,
    forbid,
    not_now,
    receiving_school_ids,
)
from .commissions import is_commission, is_commissioner

CLOSED = ("completed", "ended_early", "declined", "cancelled")

OVERSEERS = ("admin", "director")
IN_PROGRESS = ("active", "evaluation")
ACTIONS = ("evaluate", "forward", "sign_school", "sign_group", "qa_note", "sign_off",
           "end_early")


@dataclass(frozen=True)
class Facts:
    """What the step-6 rules read about one deployment besides its own columns."""

    leader: Evaluation | None
    schools: dict[int, Evaluation]  # each receiving school's evaluation, by school id
    receiving: frozenset[int]  # the receiving schools' ids
    # the group's evaluation, opened when the request was filed by an officer for a group
    group: Evaluation | None = None
    filed_by: int | None = None  # who filed the request (an officer evaluates their group)
    # on a commission: how many people deployed under it have not finished (closed)
    open_people: int = 0

    @property
    def all_signed_off(self) -> bool:
        signed = {sid for sid, e in self.schools.items() if e.status == "signed_off"}
        group_done = self.group is None or self.group.status == "signed_off"
        return bool(self.receiving) and self.receiving <= signed and group_done


NO_FACTS = Facts(None, {}, frozenset())  # for the decisions that read only the deployment


FACT_KINDS = ("leader", "school", "group")


def facts(d: Deployment, evaluations: Sequence[Evaluation] | None = None) -> Facts:
    """``evaluations``: every evaluation of ``d`` in the order written, when the caller has
    read them (the deployment page's panel reads them once, for both)."""
    found = [e for e in evaluations if e.kind in FACT_KINDS] if evaluations is not None else \
        db.session.scalars(
            select(Evaluation).where(Evaluation.deployment_id == d.id,
                                     Evaluation.kind.in_(FACT_KINDS))
            .order_by(Evaluation.created_at, Evaluation.id)).all()
    receiving = receiving_school_ids(d)
    open_people = db.session.scalar(
        select(func.count(Deployment.id)).where(Deployment.commission_id == d.id,
                                                Deployment.status.not_in(CLOSED))) or 0 \
        if is_commission(d) else 0
    return Facts(
        leader=next((e for e in found if e.kind == "leader"), None),
        schools={e.school_id: e for e in found if e.kind == "school" and e.school_id},
        receiving=frozenset(receiving),
        group=next((e for e in found if e.kind == "group"), None),
        filed_by=d.request.requested_by_id,
        open_people=open_people,
    )


# ------------------------------------------------------------------------------ predicates


def evaluate(d: Deployment, user: User, f: Facts) -> Decision:
    """The leader writes the final evaluation, or revises it until it is forwarded."""
    if not acts_as_leader(d, user):
        return forbid("Only the deployed system leader writes the final evaluation.")
    if d.status == "active" and f.leader is None:
        return allow()
    if d.status == "evaluation" and f.leader is not None \
            and f.leader.status in ("submitted", "returned"):
        return allow()
    return not_now("The final evaluation has already been forwarded, or the deployment is not "
                   "active.")


def forward(d: Deployment, user: User, f: Facts) -> Decision:
    if user.role not in OVERSEERS:
        return forbid("Only the co-ordinator or director forwards evaluations.")
    if d.status != "evaluation" or f.leader is None or f.leader.status != "submitted":
        return not_now("There is no submitted evaluation waiting to be forwarded.")
    return allow()


def is_receiving_head(user: User, f: Facts) -> bool:
    return user.role == "headteacher" and user.school_id in f.receiving


def sign_school(d: Deployment, user: User, f: Facts) -> Decision:
    """A receiving headteacher signs off (or returns) their school's evaluation."""
    if not is_receiving_head(user, f):
        return forbid("Only a receiving school's headteacher signs off its evaluation.")
    own = f.schools.get(user.school_id) if user.school_id else None
    if d.status != "evaluation" or own is None or own.status != "forwarded":
        return not_now("Your school has no evaluation of this deployment waiting for sign-off.")
    return allow()


def is_group_officer(user: User, f: Facts) -> bool:
    """The officer who filed the request for their group (and so evaluates the whole group)."""
    return user.role == "officer" and f.filed_by == user.id


def sign_group(d: Deployment, user: User, f: Facts) -> Decision:
    """The officer who filed the request evaluates the support to the whole group and signs it
    off, once the leader's evaluation is forwarded (each headteacher signs for their school)."""
    if not is_group_officer(user, f):
        return forbid("Only the officer who asked for this support evaluates it for the group.")
    if d.status != "evaluation" or f.group is None or f.group.status != "forwarded":
        return not_now("There is no evaluation of this deployment waiting for the group's "
                       "sign-off.")
    return allow()


def qa_note(d: Deployment, user: User, _f: Facts) -> Decision:
    """The director, and on a commission its commissioner (Sefton D), note QA during the work."""
    if user.role != "director" and not is_commissioner(d, user):
        return forbid("Quality assurance is the director's, or the commissioner's on a "
                      "commission.")
    if d.status not in IN_PROGRESS:
        return not_now("Quality-assurance notes are for a deployment in progress.")
    return allow()


def sign_off(d: Deployment, user: User, f: Facts) -> Decision:
    """The director's final QA; for someone deployed under a commission, the commissioner's
    end-of-work QA too (Sefton D). A commission itself closes only after everyone on it."""
    commissioner = d.commission_id is not None and is_commissioner(d, user)
    if user.role != "director" and not commissioner:
        return forbid("The final quality-assurance sign-off is the director's.")
    if d.status != "evaluation":
        return not_now("Only a deployment under evaluation can be signed off.")
    if not f.all_signed_off:
        return not_now("Every receiving school (and the group's officer, for a group's "
                       "request) must sign off before the final quality-assurance sign-off.")
    if f.open_people:
        return not_now("Everyone deployed under the commission must finish before the "
                       "commission is signed off.")
    return allow()


def end_early(d: Deployment, user: User, _f: Facts) -> Decision:
    """The co-ordinator or director; the commissioner too for someone on their commission."""
    if user.role not in OVERSEERS and not (d.commission_id is not None
                                           and is_commissioner(d, user)):
        return forbid("Only the co-ordinator or director ends a deployment early.")
    if d.status not in IN_PROGRESS:
        return not_now("Only an active deployment, or one under evaluation, can end early.")
    return allow()


_PREDICATES = {"evaluate": evaluate, "forward": forward, "sign_school": sign_school,
               "sign_group": sign_group, "qa_note": qa_note, "sign_off": sign_off,
               "end_early": end_early}


def actions(d: Deployment, user: User, f: Facts | None = None) -> dict[str, Decision]:
    """Every step-6 action for this user on this deployment."""
    f = f if f is not None else facts(d)
    return {name: predicate(d, user, f) for name, predicate in _PREDICATES.items()}


# ------------------------------------------------------------------- waiting for me (Python)


def was_returned(evaluation: Evaluation | None) -> bool:
    """A receiving school returned this evaluation to its writer (who may revise it)."""
    return evaluation is not None and evaluation.status == "returned"


def waiting(d: Deployment, user: User, f: Facts | None = None) -> dict[str, bool]:
    """The "waiting for me" entries this deployment makes for this user (Python form).

    Each key has its SQL twin ``waiting_<key>(user)`` below; the two must agree.
    """
    f = f if f is not None else facts(d)
    can = actions(d, user, f)
    return {
        "forward": can["forward"].allowed,
        "sign_off": can["sign_off"].allowed,
        "sign_school": can["sign_school"].allowed,
        "sign_group": can["sign_group"].allowed,
        "revise": can["evaluate"].allowed and was_returned(f.leader),
        "write": can["evaluate"].allowed and f.leader is None,
    }


# What each "waiting for me" entry asks the user to do, in the order the home page lists them.
WAITING_LABELS = {
    "forward": "Review and forward the system leader's evaluation",
    "sign_off": "Final quality-assurance sign-off",
    "sign_school": "Add your school's evaluation and sign off",
    "sign_group": "Evaluate the support to your group of schools and sign off",
    "revise": "Revise your evaluation: a school returned it",
    "write": "Write the final evaluation when the work is done",
}


# ---------------------------------------------------------------------- the SQL twins


def _leader_is(*statuses: str) -> ColumnElement[bool]:
    return exists().where(Evaluation.deployment_id == Deployment.id, Evaluation.kind == "leader",
                          Evaluation.status.in_(statuses))


def waiting_forward(user: User) -> ColumnElement[bool]:
    """SQL twin of :func:`forward` allowed."""
    if user.role not in OVERSEERS:
        return false()
    return and_(Deployment.status == "evaluation", _leader_is("submitted"))


# Built once (a new alias per call re-memoised every attribute on every page, issue 20).
_PERSON = aliased(Deployment, name="commission_person")
_RECEIVING = aliased(RequestSchool, name="receiving_school")


def waiting_sign_off(user: User) -> ColumnElement[bool]:
    """SQL twin of :func:`sign_off` allowed: under evaluation, some receiving school, and none
    whose evaluation *of this deployment* is not signed off; on a commission, nobody on it still
    working. The commissioner's: the people deployed under their commission."""
    if user.role == "sle":
        mine = and_(Deployment.commission_id.is_not(None),
                    Deployment.commissioning_leader_id == user.id)
    elif user.role == "director":
        person = _PERSON
        mine = not_(exists().where(person.commission_id == Deployment.id,
                                   person.status.not_in(CLOSED)).correlate(Deployment))
    else:
        return false()
    rs = _RECEIVING
    signed = exists().where(
        Evaluation.deployment_id == Deployment.id, Evaluation.kind == "school",
        Evaluation.school_id == rs.school_id, Evaluation.status == "signed_off",
    ).correlate(Deployment, rs)
    unsigned = exists().where(rs.request_id == Deployment.request_id, not_(signed)) \
        .correlate(Deployment)
    some = exists().where(RequestSchool.request_id == Deployment.request_id)
    group_open = exists().where(Evaluation.deployment_id == Deployment.id,
                                Evaluation.kind == "group", Evaluation.status != "signed_off"
                                ).correlate(Deployment)
    return and_(Deployment.status == "evaluation", some, not_(unsigned), not_(group_open), mine)


def waiting_sign_school(user: User) -> ColumnElement[bool]:
    """SQL twin of :func:`sign_school` allowed."""
    if user.role != "headteacher" or not user.school_id:
        return false()
    receiving = exists().where(RequestSchool.request_id == Deployment.request_id,
                               RequestSchool.school_id == user.school_id)
    forwarded = exists().where(
        Evaluation.deployment_id == Deployment.id, Evaluation.kind == "school",
        Evaluation.school_id == user.school_id, Evaluation.status == "forwarded")
    return and_(Deployment.status == "evaluation", receiving, forwarded)


def waiting_sign_group(user: User) -> ColumnElement[bool]:
    """SQL twin of :func:`sign_group` allowed."""
    if user.role != "officer":
        return false()
    filed = exists().where(SupportRequest.id == Deployment.request_id,
                           SupportRequest.requested_by_id == user.id)
    forwarded = exists().where(Evaluation.deployment_id == Deployment.id,
                               Evaluation.kind == "group", Evaluation.status == "forwarded")
    return and_(Deployment.status == "evaluation", filed, forwarded)


def waiting_revise(user: User) -> ColumnElement[bool]:
    """SQL twin of "revise": :func:`evaluate` allowed and a school returned the evaluation."""
    if user.role not in LEADER_ROLES:
        return false()
    return and_(Deployment.leader_id == user.id, Deployment.status == "evaluation",
                _leader_is("returned"))


def waiting_write(user: User) -> ColumnElement[bool]:
    """SQL twin of "write": :func:`evaluate` allowed and nothing written yet."""
    if user.role not in LEADER_ROLES:
        return false()
    return and_(Deployment.leader_id == user.id, Deployment.status == "active",
                not_(exists().where(Evaluation.deployment_id == Deployment.id,
                                    Evaluation.kind == "leader")))


WAITING_SQL = {"forward": waiting_forward, "sign_off": waiting_sign_off,
               "sign_school": waiting_sign_school, "sign_group": waiting_sign_group,
               "revise": waiting_revise,
               "write": waiting_write}
