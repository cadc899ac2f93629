"""Short lists of deployments for one page, many lists in one query.

The home page shows several lists of deployments: its own (awaiting signature, live, proposed,
"your deployments") and its panels' (waiting for first contact, evaluations waiting for you).
Each is a clause, an order and a limit; :func:`fetch` reads them all in one statement, a UNION
ALL of one limited branch per list (each an ordered index walk; for a leader two:
``access.first_visible_deployments``), with the leader, request and home school joined, so a
panel costs no query of its own (issue 20: a home page is at most 8 queries).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, literal, select, union_all
from sqlalchemy.orm import joinedload

from .domain.access import first_visible_deployments
from .extensions import db
from .models import Deployment


@dataclass(frozen=True)
class DeploymentList:
    """At most ``limit`` of the deployments the user may see that match ``where`` (None: all),
    ordered by the ``order`` columns (names of Deployment attributes), newest first when
    ``descending``."""

    where: ColumnElement[bool] | None
    order: tuple[str, ...] = ("proposed_at", "id")
    limit: int = 10
    descending: bool = False

    def columns(self) -> list[Any]:
        cols = [getattr(Deployment, name) for name in self.order]
        return [c.desc() for c in cols] if self.descending else cols

    def key(self, d: Deployment) -> tuple:
        return tuple((getattr(d, name) is None, getattr(d, name)) for name in self.order)


def fetch(user, lists: Mapping[str, DeploymentList]) -> dict[str, list[Deployment]]:
    """Every named list, in its order, in one query (none when there are no lists)."""
    names = list(lists)
    out: dict[str, list[Deployment]] = {name: [] for name in names}
    if not names:
        return out
    branches = []
    for n, name in enumerate(names):
        spec = lists[name]
        order = spec.columns()
        where = [] if spec.where is None else [spec.where]
        branches.append(
            select(Deployment.id.label("id"), literal(n).label("list"))
            .where(first_visible_deployments(user, *where, order=order, limit=spec.limit))
            .order_by(*order).limit(spec.limit).subquery())
    chosen = union_all(*(select(b.c.id, b.c.list) for b in branches)).subquery()
    rows: Sequence[Any] = db.session.execute(
        select(Deployment, chosen.c.list).join(chosen, chosen.c.id == Deployment.id)
        .options(joinedload(Deployment.leader), joinedload(Deployment.request),
                 joinedload(Deployment.home_school))
    ).all()
    for row in rows:
        out[names[int(row[1])]].append(row[0])
    for name in names:
        spec = lists[name]
        out[name].sort(key=spec.key, reverse=spec.descending)
    return out
