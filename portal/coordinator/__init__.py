"""The co-ordinator's desk: the inbox of requests and the outbox of emails."""

from __future__ import annotations

from flask import Flask

from .. import navigation
from ..panels import home_panels


def init_app(app: Flask) -> None:
    """Register the blueprint(s), navigation entries, panels and demo step of this feature."""
    from . import routes

    app.register_blueprint(routes.bp)
    navigation.add("coordinator.inbox", "Inbox", roles=routes.DESK, order=5)
    navigation.add("coordinator.outbox", "Outbox", roles=routes.DESK, order=90,
                   prefix="coordinator.outbox")
    home_panels.add("desk", "coordinator/_desk.html", routes.desk_panel, order=5)
