"""/healthz: is this portal able to serve, and is its worker keeping up (issue 17)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the blueprint of this feature (no navigation, no panels, no demo step)."""
    from .routes import bp

    app.register_blueprint(bp)
