"""Deployments: the page every party shares, and answering a proposal (step 3)."""

from __future__ import annotations

from flask import Flask

from .. import navigation
from ..panels import deployment_panels


def init_app(app: Flask) -> None:
    """Register the blueprint(s), navigation entries, panels and demo step of this feature."""
    from . import respond, routes

    app.register_blueprint(routes.bp)  # respond.py adds its routes to the same blueprint
    navigation.add("deployments.index", "Deployments", order=20)
    deployment_panels.add("responses", "deployments/_responses.html", respond.responses_panel,
                          order=10)
