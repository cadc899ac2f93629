"""Your account: setting and changing your password, and your data."""

from __future__ import annotations

from flask import Flask

from .. import navigation


def init_app(app: Flask) -> None:
    """Register the blueprint(s), navigation entries, panels and demo step of this feature."""
    from .routes import bp

    app.register_blueprint(bp)
    navigation.add("account.your_data", "Your data", order=90, prefix="account.your_data")
