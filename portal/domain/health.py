"""The health checks behind ``GET /healthz`` (``portal/health/routes.py``), issue 17.

Each check is ``{"ok": bool, ...}`` with numbers only (no addresses, no errors' text):

* ``database`` — a ``SELECT 1`` answers;
* ``migrations`` — the database's Alembic revision is the code's head;
* ``worker`` — the newest worker heartbeat is at most ``max_heartbeat`` seconds old (a worker
  writes one a minute);
* ``mail`` — the oldest email still waiting to go is at most ``max_unsent`` seconds old (failed
  emails are the co-ordinator's to resend and are counted, not judged).
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import func, select, text

from ..extensions import db
from ..models import OutboxEmail, WorkerHeartbeat, utcnow

log = logging.getLogger("portal.health")


@cache
def code_heads() -> tuple[str, ...]:
    from .. import ROOT

    return tuple(sorted(ScriptDirectory(str(ROOT / "migrations")).get_heads()))


def _age(then, now) -> float | None:
    return None if then is None else round((now - then).total_seconds(), 1)


def checks(max_heartbeat: float, max_unsent: float) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    try:
        db.session.execute(text("SELECT 1"))
        out["database"] = {"ok": True}
    except Exception as exc:  # noqa: BLE001 - reported as unhealthy, never as a 500
        log.warning("healthz: database unreachable: %s", type(exc).__name__)
        db.session.rollback()
        unknown = {"ok": False, "reason": "database unreachable"}
        return {"database": {"ok": False}, "migrations": unknown, "worker": unknown,
                "mail": unknown}
    heads = code_heads()
    try:
        current = tuple(sorted(db.session.scalars(
            text("SELECT version_num FROM alembic_version")).all()))
    except Exception:  # noqa: BLE001 - no alembic_version table: never migrated
        db.session.rollback()
        current = ()
    out["migrations"] = {"ok": current == heads, "database": list(current), "code": list(heads)}
    now = utcnow()
    newest = db.session.scalar(select(func.max(WorkerHeartbeat.beat_at)))
    age = _age(newest, now)
    out["worker"] = {"ok": age is not None and age <= max_heartbeat,
                     "heartbeat_age_seconds": age}
    unsent = (OutboxEmail.sent_at.is_(None), OutboxEmail.failed_at.is_(None))
    oldest, waiting = db.session.execute(
        select(func.min(OutboxEmail.created_at), func.count(OutboxEmail.id))
        .where(*unsent)).one()
    failed = db.session.scalar(select(func.count(OutboxEmail.id))
                               .where(OutboxEmail.failed_at.is_not(None))) or 0
    unsent_age = _age(oldest, now)
    out["mail"] = {"ok": unsent_age is None or unsent_age <= max_unsent,
                   "oldest_unsent_age_seconds": unsent_age, "unsent": waiting,
                   "failed": failed}
    return out
