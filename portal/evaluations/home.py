"""The home-page panel: evaluations waiting for this user, whatever their role.

Every entry is a SQL twin from ``portal/domain/policy/evaluations.py`` (``WAITING_SQL``), the
same rule the deployment page's buttons use; a test checks the two forms agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import False_, literal, select, union_all
from sqlalchemy.orm import joinedload

from ..domain import access
from ..domain.policy import evaluations as policy
from ..extensions import db
from ..models import Deployment
from ..panels import PanelContext

LIMIT = 10
ORDER = (Deployment.proposed_at, Deployment.id)


def evaluations_home(ctx: PanelContext[None]) -> dict[str, Any] | None:
    """Up to LIMIT deployments per kind, oldest first, kinds in the order of WAITING_LABELS: one
    query (a UNION ALL of one limited branch per kind the role can have), whatever the kinds."""
    user = ctx.user
    visible = access.deployments_visible_to(user)
    names = list(policy.WAITING_LABELS)
    branches = []
    for n, name in enumerate(names):
        clause = policy.WAITING_SQL[name](user)
        if isinstance(clause, False_):  # never for this role: no branch
            continue
        branches.append(select(Deployment.id.label("id"), literal(n).label("kind"))
                        .where(visible, clause).order_by(*ORDER).limit(LIMIT).subquery())
    if not branches:
        return None
    chosen = union_all(*(select(b.c.id, b.c.kind) for b in branches)).subquery()
    found: Sequence[Any] = db.session.execute(
        select(Deployment, chosen.c.kind).join(chosen, chosen.c.id == Deployment.id)
        .options(joinedload(Deployment.request))).all()
    rows = [(row[0], int(row[1])) for row in found]
    if not rows:
        return None
    rows.sort(key=lambda r: (r[1], r[0].proposed_at, r[0].id))
    return {"waiting": [(d, policy.WAITING_LABELS[names[kind]]) for d, kind in rows]}
