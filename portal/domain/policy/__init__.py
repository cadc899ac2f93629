"""Policy: for a user and an object, every action, allowed or why not. One rule, one place.

Each aggregate has a module ``portal/domain/policy/<aggregate>.py`` with

* ``actions(obj, user) -> dict[str, Decision]``: every action a user could take on the object,
  each :func:`allow`-ed, or refused with the reason a user reads and whether the refusal is
  :func:`forbid` ("not your part": 403) or :func:`not_now` ("not in this state": 409). The
  predicates compare statuses and roles; nothing else in the portal does.
* for each action that puts an object in someone's "waiting for me" list, its SQL twin
  ``waiting_<action>(user) -> ColumnElement[bool]`` right beside the predicate, over the
  aggregate's table. Lists and inboxes select ``visible & waiting_<action>(user)``; a
  parametrised test (``tests/policy.py:assert_twins_agree``) checks, for every user and object
  of the test world, that the SQL twin and the Python predicate agree.

How the rest of the portal uses it:

* a domain command starts with ``require(actions(obj, user)["forward"])``, which raises
  :class:`~portal.domain.errors.Forbidden` or :class:`~portal.domain.errors.NotNow`;
* a panel passes the dict to its template as ``can``; the template shows or disables a button
  with ``can.forward.allowed`` and says why with ``can.forward.reason``;
* a GET page for an action (the form) pre-checks with ``require(...)`` too, so its refusal
  reads the same as the command's.

The worked example is ``evaluations.py`` (forward, evaluate, sign_school, qa_note, sign_off,
end_early).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import inspect, select

from ...extensions import db
from ...models import DeploymentResponse, RequestSchool, School
from ..errors import Forbidden, NotNow

if TYPE_CHECKING:
    from ...models import Deployment, User

# Who may act as a deployment's own leader (accept it, sign as its leader, keep its plan, log
# its visits, write its final evaluation): a system leader, or a Teaching School headteacher
# (the alliance's director) who holds a leader profile and leads a commission
# (policy/commissions.py ``may_lead``). The one place that says so.
LEADER_ROLES = ("sle", "director")


def _loaded(obj, key: str) -> bool:
    return key not in inspect(obj).unloaded


def receiving_school_ids(d: Deployment) -> list[int]:
    """The ids of ``d``'s receiving schools (its request's schools). Read from the request's
    schools where the page has loaded them (the deployment page does), else with one query:
    the deployments', plans' and evaluations' facts each ask it of the same deployment, and on
    the deployment page they asked the database three times (issue 20)."""
    if _loaded(d, "request") and d.request is not None and _loaded(d.request, "schools"):
        return [link.school_id for link in d.request.schools]
    return list(db.session.scalars(
        select(RequestSchool.school_id).where(RequestSchool.request_id == d.request_id)).all())


def receiving_schools(d: Deployment) -> list[School]:
    """``d``'s receiving schools in the request's order: from the request's schools where the
    page loaded them with their schools (the deployment page does), else in one query."""
    if (_loaded(d, "request") and d.request is not None and _loaded(d.request, "schools")
            and all(_loaded(link, "school") for link in d.request.schools)):
        return [link.school for link in d.request.schools]
    return list(db.session.scalars(
        select(School).join(RequestSchool, RequestSchool.school_id == School.id)
        .where(RequestSchool.request_id == d.request_id).order_by(RequestSchool.position)
    ))


def answers_given(d: Deployment) -> list[tuple[str, int]]:
    """(party, school id) of each answer given to ``d``'s proposal: from its responses where
    the page has loaded them (the deployment page does), else with one query."""
    if _loaded(d, "responses"):
        return [(r.party, r.school_id) for r in d.responses]
    return [(p, s) for p, s in db.session.execute(
        select(DeploymentResponse.party, DeploymentResponse.school_id)
        .where(DeploymentResponse.deployment_id == d.id)).all()]


def acts_as_leader(d: Deployment, user: User) -> bool:
    """``user`` is ``d``'s own leader (a system leader, or a director leading a commission)."""
    return user.role in LEADER_ROLES and user.id == d.leader_id


def leads_or_commissions(d: Deployment, user: User) -> bool:
    """``user`` is ``d``'s leader or, for someone deployed under a commission, its
    commissioner: who keeps the plan and logs the visits."""
    return user.role in LEADER_ROLES and user.id in (d.leader_id, d.commissioning_leader_id)


@dataclass(frozen=True)
class Decision:
    """May the user do it now? If not, ``reason`` says why and ``forbidden`` whether it is
    the user (403) rather than the moment (409)."""

    allowed: bool
    reason: str = ""
    forbidden: bool = False

    def __bool__(self) -> bool:
        return self.allowed


ALLOWED = Decision(True)


def allow() -> Decision:
    return ALLOWED


def forbid(reason: str) -> Decision:
    """Not this user's part in the object, whatever its state (answered 403)."""
    return Decision(False, reason, forbidden=True)


def not_now(reason: str) -> Decision:
    """The user's part, but not in the object's current state (answered 409)."""
    return Decision(False, reason, forbidden=False)


def require(decision: Decision, *, forbidden: type[Forbidden] = Forbidden,
            not_now: type[NotNow] = NotNow) -> None:
    """Raise :class:`Forbidden` or :class:`NotNow` with the reason unless ``decision`` allows.

    An aggregate may pass its own subclasses (``evaluations.NotAllowed`` ...) for callers that
    catch the more specific name.
    """
    if decision.allowed:
        return
    if decision.forbidden:
        raise forbidden(decision.reason)
    raise not_now(decision.reason)
