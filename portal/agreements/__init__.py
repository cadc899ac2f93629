"""Agreements: drafting, e-signing, printing and public verification."""

from __future__ import annotations

from flask import Flask

from .. import demo, navigation
from ..panels import deployment_panels, home_panels


def init_app(app: Flask) -> None:
    """Register the blueprint(s), navigation entries, panels and demo step of this feature."""
    from . import demo_data, routes

    app.register_blueprint(routes.bp)
    navigation.add("agreements.terms", "Agreement terms", roles=routes.OVERSEERS, order=80)
    deployment_panels.add("agreement", "agreements/_panel.html", routes.agreement_panel, order=30)
    home_panels.add("agreements_to_sign", "agreements/_home_panel.html",
                    routes.agreements_to_sign, order=5)
    demo.add_step(demo_data.signed_agreements, order=40)
    demo.add_step(demo_data.agreement_being_signed, order=45)
