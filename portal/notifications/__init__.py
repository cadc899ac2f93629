"""In-portal notifications."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the blueprint(s), navigation entries, panels and demo step of this feature."""
    from .routes import bp

    app.register_blueprint(bp)
