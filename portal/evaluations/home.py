"""The home-page panel: evaluations waiting for this user, whatever their role.

Every entry is a SQL twin from ``portal/domain/policy/evaluations.py`` (``WAITING_SQL``), the
same rule the deployment page's buttons use; a test checks the two forms agree.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import False_

from ..deployment_lists import DeploymentList
from ..domain.policy import evaluations as policy
from ..panels import PanelContext

LIMIT = 10
ORDER = ("proposed_at", "id")


def evaluations_lists(ctx: PanelContext[None]) -> dict[str, DeploymentList] | None:
    """Up to LIMIT deployments per kind the role can have, oldest first (fetched with the home
    page's other lists in one query, ``portal.deployment_lists``); None: no kind, no panel."""
    lists = {}
    for name in policy.WAITING_LABELS:
        clause = policy.WAITING_SQL[name](ctx.user)
        if not isinstance(clause, False_):  # never for this role: no branch
            lists[name] = DeploymentList(clause, ORDER, LIMIT)
    return lists or None


def evaluations_home(ctx: PanelContext[None]) -> dict[str, Any] | None:
    """The deployments waiting per kind, kinds in the order of WAITING_LABELS."""
    waiting = [(d, policy.WAITING_LABELS[name]) for name in policy.WAITING_LABELS
               for d in ctx.lists.get(name, ())]
    return {"waiting": waiting} if waiting else None
