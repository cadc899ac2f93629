"""Support requests: asking for help, triage and matching (steps 1-2)."""

from __future__ import annotations

from flask import Flask

from .. import navigation
from ..panels import request_panels


def init_app(app: Flask) -> None:
    """Register the blueprint(s), navigation entries, panels and demo step of this feature."""
    from . import routes

    app.register_blueprint(routes.bp)
    navigation.add("requests.index", "Requests", order=10)
    # a Board member's "New request" is the Board's form (portal/reports/targeted.py)
    navigation.add("requests.new", "New request", roles=("headteacher", "officer"), order=11,
                   prefix="requests.new")
    request_panels.add("progress", "requests/_progress.html", routes.progress_panel, order=10)
