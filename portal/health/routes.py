"""``GET /healthz`` for a load balancer or a monitor: JSON, 200 when every check passes, else 503.

Checks, each ``{"ok": bool, ...}`` with numbers only (no addresses, no errors' text):

* ``database`` — a ``SELECT 1`` answers;
* ``migrations`` — the database's Alembic revision is the code's head;
* ``worker`` — the newest worker heartbeat is at most ``HEALTH_MAX_HEARTBEAT_SECONDS`` old
  (a worker writes one a minute);
* ``mail`` — the oldest email still waiting to go is at most ``HEALTH_MAX_UNSENT_SECONDS`` old
  (failed emails are the co-ordinator's to resend and are counted, not judged).
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

from alembic.script import ScriptDirectory
from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select, text

from ..extensions import db
from ..models import OutboxEmail, WorkerHeartbeat, utcnow
from ..security import public

bp = Blueprint("health", __name__)
log = logging.getLogger("portal.health")


@cache
def code_heads() -> tuple[str, ...]:
    from .. import ROOT

    return tuple(sorted(ScriptDirectory(str(ROOT / "migrations")).get_heads()))


def _age(then, now) -> float | None:
    return None if then is None else round((now - then).total_seconds(), 1)


def checks() -> dict[str, dict[str, Any]]:
    cfg = current_app.config
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
    out["worker"] = {"ok": age is not None and age <= cfg["HEALTH_MAX_HEARTBEAT_SECONDS"],
                     "heartbeat_age_seconds": age}
    unsent = (OutboxEmail.sent_at.is_(None), OutboxEmail.failed_at.is_(None))
    oldest, waiting = db.session.execute(
        select(func.min(OutboxEmail.created_at), func.count(OutboxEmail.id))
        .where(*unsent)).one()
    failed = db.session.scalar(select(func.count(OutboxEmail.id))
                               .where(OutboxEmail.failed_at.is_not(None))) or 0
    unsent_age = _age(oldest, now)
    out["mail"] = {"ok": unsent_age is None or unsent_age <= cfg["HEALTH_MAX_UNSENT_SECONDS"],
                   "oldest_unsent_age_seconds": unsent_age, "unsent": waiting,
                   "failed": failed}
    return out


@bp.get("/healthz")
@public
def healthz() -> ResponseReturnValue:
    result = checks()
    healthy = all(c["ok"] for c in result.values())
    response = jsonify({"status": "ok" if healthy else "unhealthy", "checks": result})
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response
