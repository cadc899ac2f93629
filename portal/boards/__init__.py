"""Who pays: the Board's approval of a Board-funded deployment, and the co-ordinator's change of
the funding route (the Board's "New request" is in ``portal/reports/targeted.py``)."""

from __future__ import annotations

from flask import Flask

from ..panels import deployment_panels, home_panels


def init_app(app: Flask) -> None:
    """Register the blueprint(s), navigation entries, panels and demo step of this feature."""
    from . import routes

    app.register_blueprint(routes.bp)
    deployment_panels.add("funding", "boards/_funding_panel.html", routes.funding_panel,
                          order=15)
    home_panels.add("funding_to_approve", "boards/_home_panel.html", routes.to_approve,
                    order=4)
