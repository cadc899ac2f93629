"""Money: invoices, payments, credit notes, settlement statements and the alliance's rate card."""

from __future__ import annotations

from flask import Flask

from .. import demo, navigation
from ..panels import deployment_panels


def init_app(app: Flask) -> None:
    """Register the blueprint(s), navigation entries, panels and demo step of this feature."""
    from . import demo_data, routes

    app.register_blueprint(routes.bp)
    navigation.add("finance.index", "Money", roles=routes.FINANCE_ROLES, order=60)
    navigation.add("finance.rates", "Rates", roles=routes.OVERSEERS, order=65,
                   prefix="finance.rate")
    deployment_panels.add("finance", "finance/_panel.html", routes.finance_panel, order=80)
    demo.add_step(demo_data.demo_money, order=70)
