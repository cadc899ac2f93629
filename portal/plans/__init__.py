"""The live action plan, first contact, visits and variations (step 5)."""

from __future__ import annotations

from flask import Flask

from .. import demo
from ..panels import deployment_panels, home_panels


def init_app(app: Flask) -> None:
    """Register the blueprint(s), navigation entries, panels and demo step of this feature."""
    from . import demo_data, routes

    app.register_blueprint(routes.bp)
    deployment_panels.add("plans", "plans/_panel.html", routes.plans_panel, order=40)
    home_panels.add("first-contact", "plans/_home_contact.html", routes.first_contact_panel,
                    order=35, lists=routes.first_contact_lists)
    demo.add_step(demo_data.plans_demo, order=50)
