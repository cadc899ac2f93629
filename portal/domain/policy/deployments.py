"""Who confirms or declines a proposed deployment, and when. (Step 3.)

Follows the convention of ``portal/domain/policy/__init__.py`` (worked example:
``evaluations.py``). A proposal waits on three kinds of party (see
:func:`portal.domain.brokering.expected_parties`):

* each receiving school's headteacher confirms the leader (``confirm``),
* the home school's leader agrees the release (``release``),
* the system leader accepts the deployment (``accept``);

and any of them may ``decline`` with a reason. Each party answers once, while the deployment is
``proposed``. :func:`waiting` is the Python form of "proposals waiting for my answer"; each entry
has its SQL twin below (``waiting_confirm`` ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, not_, select

from ...extensions import db
from ...models import Deployment, DeploymentResponse, RequestSchool, User
from . import (
    LEADER_ROLES,
    Decision,
    acts_as_leader,
    allow,
    answers_given,
    forbid,
    not_now,
    receiving_school_ids,
)

ACTIONS = ("confirm", "release", "accept", "decline", "confirm_on_behalf", "release_on_behalf")
# the party each answering action belongs to, and the role that answers for it
PARTY_OF_ACTION = {"confirm": "receiving", "release": "home_school", "accept": "leader"}
ROLE_OF_PARTY = {"receiving": "headteacher", "home_school": "home_school", "leader": "sle"}
# A school with no login of its own answers through the co-ordinator or director, who records
# who agreed, how and when (``brokering.respond_on_behalf``).
ON_BEHALF = {"confirm_on_behalf": "receiving", "release_on_behalf": "home_school"}
OVERSEERS = ("admin", "director")


@dataclass(frozen=True)
class Facts:
    """What the step-3 rules read besides the deployment's own columns."""

    receiving: frozenset[int]  # the receiving schools' ids
    answered: frozenset[tuple[str, int]]  # (party, school id) of each answer given
    # (party, school id) of each school party with an active user who can sign in (has set a
    # password) to answer for it; a school still waiting on an invitation has none yet
    staffed: frozenset[tuple[str, int]] = frozenset()


def facts(d: Deployment, user: User | None = None) -> Facts:
    """The facts for ``user`` (None: for anyone). Who at each school can sign in is read only
    when the user is one who could record an answer on a school's behalf."""
    receiving = receiving_school_ids(d)
    answered = answers_given(d)
    if user is not None and user.role not in OVERSEERS:
        return Facts(frozenset(receiving), frozenset((p, s) for p, s in answered))
    schools = {*receiving, d.home_school_id}
    users = db.session.execute(
        select(User.role, User.school_id).where(
            User.active.is_(True), User.password_hash != "", User.school_id.in_(schools),
            User.role.in_(("headteacher", "home_school"))).distinct()).all()
    staffed: set[tuple[str, int]] = set()
    for role, school_id in users:
        if school_id is None:
            continue
        if role == "headteacher" and school_id in receiving:
            staffed.add(("receiving", school_id))
        elif role == "home_school" and school_id == d.home_school_id:
            staffed.add(("home_school", school_id))
    return Facts(frozenset(receiving), frozenset((p, s) for p, s in answered),
                 frozenset(staffed))


def party_of(d: Deployment, user: User, f: Facts) -> tuple[str, int] | None:
    """The (party, school id) this user answers for, if any: the one rule of who answers for
    which party (``brokering.party_of`` adds the label; ``_answer`` and the twins follow it)."""
    if user.role == "headteacher" and user.school_id in f.receiving:
        return ("receiving", user.school_id)
    if user.role == "home_school" and user.school_id == d.home_school_id:
        return ("home_school", d.home_school_id)
    if acts_as_leader(d, user):
        return ("leader", d.home_school_id)
    return None


# ------------------------------------------------------------------------------ predicates

_WHO = {
    "receiving": "Only a receiving school's headteacher confirms the system leader.",
    "home_school": "Only the home school's leader agrees the release.",
    "leader": "Only the proposed system leader accepts the deployment.",
}


def is_open(d: Deployment) -> bool:
    """The proposal still waits for answers."""
    return d.status == "proposed"


def _answer(d: Deployment, user: User, f: Facts, party: str | None) -> Decision:
    mine = party_of(d, user, f)
    if mine is None or (party is not None and mine[0] != party):
        return forbid(_WHO[party] if party else "You do not answer for this proposal.")
    if not is_open(d):
        return not_now("This proposal has already been answered.")
    if mine in f.answered:
        return not_now("You have already answered.")
    return allow()


def confirm(d: Deployment, user: User, f: Facts) -> Decision:
    return _answer(d, user, f, "receiving")


def release(d: Deployment, user: User, f: Facts) -> Decision:
    return _answer(d, user, f, "home_school")


def accept(d: Deployment, user: User, f: Facts) -> Decision:
    return _answer(d, user, f, "leader")


def decline(d: Deployment, user: User, f: Facts) -> Decision:
    """Any party that has not answered yet may decline (with a reason)."""
    return _answer(d, user, f, None)


def on_behalf_schools(d: Deployment, f: Facts, party: str) -> list[int]:
    """The schools of ``party`` still to answer that have no active user to answer for them."""
    schools = sorted(f.receiving) if party == "receiving" else [d.home_school_id]
    return [s for s in schools if (party, s) not in f.answered and (party, s) not in f.staffed]


def _on_behalf(d: Deployment, user: User, f: Facts, party: str) -> Decision:
    """The co-ordinator or director records a school's answer for it, only while that school
    has no active user of the answering role: a school that can sign in answers itself (the
    portal shows who decided), and one that cannot is never a dead end."""
    if user.role not in OVERSEERS or user.alliance_id != d.alliance_id:
        return forbid("Only the co-ordinator or director records a school's answer for it.")
    if d.status != "proposed":
        return not_now("This proposal has already been answered.")
    schools = sorted(f.receiving) if party == "receiving" else [d.home_school_id]
    waiting = [s for s in schools if (party, s) not in f.answered]
    if not waiting:
        return not_now("That school has already answered.")
    if not on_behalf_schools(d, f, party):
        return not_now("The school has someone who can sign in and answer: they answer "
                       "in the portal themselves.")
    return allow()


def confirm_on_behalf(d: Deployment, user: User, f: Facts) -> Decision:
    return _on_behalf(d, user, f, "receiving")


def release_on_behalf(d: Deployment, user: User, f: Facts) -> Decision:
    return _on_behalf(d, user, f, "home_school")


_PREDICATES = {"confirm": confirm, "release": release, "accept": accept, "decline": decline,
               "confirm_on_behalf": confirm_on_behalf, "release_on_behalf": release_on_behalf}


def actions(d: Deployment, user: User, f: Facts | None = None) -> dict[str, Decision]:
    """Every step-3 action for this user on this deployment."""
    f = f if f is not None else facts(d, user)
    return {name: predicate(d, user, f) for name, predicate in _PREDICATES.items()}


def answer_action(d: Deployment, user: User, f: Facts | None = None) -> str | None:
    """The accepting action this user's party takes ("confirm", "release", "accept")."""
    f = f if f is not None else facts(d)
    mine = party_of(d, user, f)
    return next((a for a, p in PARTY_OF_ACTION.items() if mine and p == mine[0]), None)


# ------------------------------------------------------------------- waiting for me (Python)


def waiting(d: Deployment, user: User, f: Facts | None = None) -> dict[str, bool]:
    """The proposals waiting for this user's answer (Python form); twins below."""
    f = f if f is not None else facts(d)
    can = actions(d, user, f)
    return {name: can[name].allowed for name in PARTY_OF_ACTION}


# ---------------------------------------------------------------------- the SQL twins


def _unanswered(party: str, school_id: Any) -> ColumnElement[bool]:
    return not_(exists().where(DeploymentResponse.deployment_id == Deployment.id,
                               DeploymentResponse.party == party,
                               DeploymentResponse.school_id == school_id))


def waiting_confirm(user: User) -> ColumnElement[bool]:
    """SQL twin of :func:`confirm` allowed."""
    if user.role != "headteacher" or not user.school_id:
        return false()
    receiving = exists().where(RequestSchool.request_id == Deployment.request_id,
                               RequestSchool.school_id == user.school_id)
    return and_(Deployment.status == "proposed", receiving,
                _unanswered("receiving", user.school_id))


def waiting_release(user: User) -> ColumnElement[bool]:
    """SQL twin of :func:`release` allowed."""
    if user.role != "home_school" or not user.school_id:
        return false()
    return and_(Deployment.status == "proposed", Deployment.home_school_id == user.school_id,
                _unanswered("home_school", user.school_id))


def waiting_accept(user: User) -> ColumnElement[bool]:
    """SQL twin of :func:`accept` allowed."""
    if user.role not in LEADER_ROLES:
        return false()
    return and_(Deployment.status == "proposed", Deployment.leader_id == user.id,
                _unanswered("leader", Deployment.home_school_id))


WAITING_SQL = {"confirm": waiting_confirm, "release": waiting_release, "accept": waiting_accept}
