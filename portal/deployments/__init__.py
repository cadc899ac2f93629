"""Deployments: the page every party shares, and answering a proposal (step 3)."""

from __future__ import annotations

from flask import Flask

from .. import navigation
from ..panels import deployment_panels


def init_app(app: Flask) -> None:
    """Register the blueprint(s), navigation entries, panels and demo step of this feature."""
    from . import on_behalf, respond, routes

    app.register_blueprint(routes.bp)  # respond.py, on_behalf.py add routes to it
    navigation.add("deployments.index", "Deployments", order=20)
    deployment_panels.add("responses", "deployments/_responses.html", respond.responses_panel,
                          order=10)
    deployment_panels.add("on_behalf", "deployments/_on_behalf.html",
                          on_behalf.on_behalf_panel, order=11)
