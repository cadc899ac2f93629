"""Signing in and out: password, the school's Microsoft or Google account, and two-factor."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the blueprint(s), navigation entries, panels and demo step of this feature."""
    from . import school, second  # noqa: F401 - their routes join the blueprint
    from .routes import bp

    app.register_blueprint(bp)
