"""Deployments: the page every party shares, and answering a proposal (step 3)."""

from __future__ import annotations

from flask import Flask

from .. import navigation
from ..panels import deployment_panels


def init_app(app: Flask) -> None:
    """Register the blueprint(s), navigation entries, panels and demo step of this feature."""
    from . import on_behalf, respond, routes  # noqa: F401 - on_behalf adds its routes

    app.register_blueprint(routes.bp)  # respond.py, on_behalf.py add routes to it
    navigation.add("deployments.index", "Deployments", order=20)
    deployment_panels.add("responses", "deployments/_responses.html", respond.responses_panel,
                          order=10)
