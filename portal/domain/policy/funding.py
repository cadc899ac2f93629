"""Who pays for a deployment: the Board's approval of its funding, and the co-ordinator's change of
the funding route. (Between step 3 and step 4.)

Follows the convention of ``portal/domain/policy/__init__.py`` (worked example:
``evaluations.py``). A Board-funded deployment (``targeted``: the request's route is
"Board-targeted") is paid in part by the request's Board, so that Board must say yes before the
agreement is drafted:

* ``approve_funding``: a member of the request's Board approves (with any further concession),
  once, while the proposal is being confirmed; its SQL twin is :func:`waiting_board_approval`;
* ``change_funding``: the co-ordinator or director changes who pays (the route, and which Board)
  while the proposal is being confirmed, that is before any agreement is drafted or signed.

:func:`awaiting_board` is the gate :func:`portal.domain.brokering.respond` reads: a Board-funded
deployment whose Board has not approved stays ``proposed`` even when every party has confirmed.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, false

from ...models import Deployment, SupportRequest, User
from . import Decision, allow, forbid, not_now

ACTIONS = ("approve_funding", "change_funding")
OVERSEERS = ("admin", "director")


def board_funded(d: Deployment) -> bool:
    """The Board pays a share (the request's route is "Board-targeted")."""
    return bool(d.targeted)


def awaiting_board(d: Deployment) -> bool:
    """Board-funded and not yet approved by its Board: the agreement must wait."""
    return board_funded(d) and d.board_approved_at is None


# ------------------------------------------------------------------------------ predicates


def approve_funding(d: Deployment, user: User) -> Decision:
    """A member of the Board named on the request approves the Board's share, once, while the
    proposal is being confirmed."""
    board_id = d.request.board_id
    if user.role != "board" or not user.board_id or board_id != user.board_id:
        return forbid("Only a member of the Board that pays for this deployment approves its "
                      "funding.")
    if not board_funded(d):
        return not_now("This deployment is not funded by the Board, so there is nothing to "
                       "approve.")
    if d.board_approved_at is not None:
        return not_now("The Board has already approved the funding of this deployment.")
    if d.status != "proposed":
        return not_now("The funding can be approved only while the proposal is being "
                       "confirmed.")
    return allow()


def change_funding(d: Deployment, user: User) -> Decision:
    """The co-ordinator or director changes who pays until the agreement is drafted."""
    if user.role not in OVERSEERS:
        return forbid("Only the co-ordinator or director changes who pays for a deployment.")
    if d.status != "proposed":
        return not_now("Who pays can be changed only while the proposal is being confirmed, "
                       "before the agreement is drafted and signed.")
    return allow()


_PREDICATES = {"approve_funding": approve_funding, "change_funding": change_funding}


def actions(d: Deployment, user: User) -> dict[str, Decision]:
    """Every funding action for this user on this deployment."""
    return {name: predicate(d, user) for name, predicate in _PREDICATES.items()}


# ------------------------------------------------------------------- waiting for me (Python)


def waiting(d: Deployment, user: User) -> dict[str, bool]:
    """The deployments waiting for this user's approval of their funding (Python form)."""
    return {"board_approval": approve_funding(d, user).allowed}


# ---------------------------------------------------------------------- the SQL twins


def waiting_board_approval(user: User) -> ColumnElement[bool]:
    """SQL twin of :func:`approve_funding` allowed."""
    if user.role != "board" or not user.board_id:
        return false()
    # the deployment's copy of its request's Board finds the Board's proposals from one index
    # (request_board_id, status); the request's own Board, the rule, is checked on each
    return and_(
        Deployment.status == "proposed", Deployment.targeted.is_(True),
        Deployment.board_approved_at.is_(None),
        Deployment.request_board_id == user.board_id,
        exists().where(SupportRequest.id == Deployment.request_id,
                       SupportRequest.board_id == user.board_id))


WAITING_SQL = {"board_approval": waiting_board_approval}
