"""The home-page panel: evaluations waiting for this user, whatever their role.

Every entry is a SQL twin from ``portal/domain/policy/evaluations.py`` (``WAITING_SQL``), the
same rule the deployment page's buttons use; a test checks the two forms agree.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, False_, select
from sqlalchemy.orm import joinedload

from ..domain import access
from ..domain.policy import evaluations as policy
from ..extensions import db
from ..models import Deployment
from ..panels import PanelContext

LIMIT = 10


def _deployments(*where: ColumnElement[bool]) -> list[Deployment]:
    return list(db.session.scalars(
        select(Deployment).where(*where).options(joinedload(Deployment.request))
        .order_by(Deployment.proposed_at, Deployment.id).limit(LIMIT)).all())


def evaluations_home(ctx: PanelContext[None]) -> dict[str, Any] | None:
    user = ctx.user
    visible = access.deployments_visible_to(user)
    items: list[tuple[Deployment, str]] = []
    for name, label in policy.WAITING_LABELS.items():
        clause = policy.WAITING_SQL[name](user)
        if isinstance(clause, False_):  # never for this role: no query
            continue
        items += [(d, label) for d in _deployments(visible, clause)]
    if not items:
        return None
    return {"waiting": items}
