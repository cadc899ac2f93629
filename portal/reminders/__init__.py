"""Reminders and escalations: the alliance's settings page, the "Reminder sent" line and
``flask remind``. The sweeps themselves are ``portal/domain/reminders.py``."""

from __future__ import annotations

from flask import Flask

from .. import navigation


def init_app(app: Flask) -> None:
    """Register the blueprint, navigation entry, template helper and CLI command."""
    from ..domain.reminders import last_sent
    from .cli import init_app as init_cli
    from .routes import bp

    app.register_blueprint(bp)
    navigation.add("reminders.settings", "Reminders", roles=("admin", "director"), order=75)
    app.add_template_global(last_sent, "reminder_last_sent")
    init_cli(app)
