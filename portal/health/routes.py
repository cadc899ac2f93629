"""``GET /healthz`` for a load balancer or a monitor: JSON, 200 when every check passes, else 503
(the checks: ``portal/domain/health.py``)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

from ..domain import health
from ..security import public

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@public
def healthz() -> ResponseReturnValue:
    cfg = current_app.config
    result = health.checks(cfg["HEALTH_MAX_HEARTBEAT_SECONDS"], cfg["HEALTH_MAX_UNSENT_SECONDS"])
    healthy = all(c["ok"] for c in result.values())
    response = jsonify({"status": "ok" if healthy else "unhealthy", "checks": result})
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response
