"""The home page: each feature adds its panels to it."""

from __future__ import annotations

from flask import Flask

from .. import navigation


def init_app(app: Flask) -> None:
    """Register the blueprint(s), navigation entries, panels and demo step of this feature."""
    from . import actions
    from .routes import bp

    app.register_blueprint(bp)
    app.before_request(actions.forget)
    navigation.add("dashboard.home", "Home", order=0, prefix="dashboard.home",
                   count=actions.count, cap=actions.CAP,
                   count_label=("thing needs your action", "things need your action"))
