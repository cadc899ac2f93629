"""Evaluation, sign-off, quality assurance and early end of a deployment (step 6).

The worked example of a feature on the policy framework: see ``routes.py`` and
``portal/domain/policy/evaluations.py``.
"""

from __future__ import annotations

from flask import Flask

from .. import demo
from ..panels import deployment_panels, home_panels


def init_app(app: Flask) -> None:
    """Register the blueprint(s), navigation entries, panels and demo step of this feature."""
    from . import demo_data, home, routes

    app.register_blueprint(routes.bp)
    deployment_panels.add("evaluations", "evaluations/_panel.html", routes.evaluations_panel,
                          order=80)
    home_panels.add("evaluations", "evaluations/_home_panel.html", home.evaluations_home,
                    order=70, lists=home.evaluations_lists)
    demo.add_step(demo_data.completed_deployments, order=80)
