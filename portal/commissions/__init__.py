"""NLE/LLE commissions: the commission page, deploying colleagues under it, and the panel on
each deployment of a commission (Sefton B-F)."""

from __future__ import annotations

from flask import Flask

from .. import demo
from ..panels import deployment_panels


def init_app(app: Flask) -> None:
    """Register the blueprint(s), navigation entries, panels and demo step of this feature."""
    from . import demo_data, routes

    app.register_blueprint(routes.bp)
    deployment_panels.add("commission", "commissions/_panel.html", routes.commission_panel,
                          order=5)
    # before the plans step (50), which starts the plan of every active deployment
    demo.add_step(demo_data.commission, order=46)
    # last of all, so no earlier step picks the director's new profile
    demo.add_step(demo_data.teaching_school_head_commission, order=95)
