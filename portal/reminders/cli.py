"""``flask remind [--now ISO]``: run every reminder sweep, one transaction per kind."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask import Flask


def _parse_now(value: str | None) -> datetime:
    if not value:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter("use an ISO date and time, e.g. 2026-12-02T09:00:00+00:00",
                                 param_hint="--now") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def init_app(app: Flask) -> None:
    @app.cli.command("remind")
    @click.option("--now", "now_text", default=None,
                  help="Run as at this moment (ISO 8601; UTC if no offset). Default: now.")
    def remind(now_text: str | None) -> None:
        """Send every reminder and escalation that is due (safe to run at any time, from any
        number of schedulers at once: none is sent twice)."""
        from ..domain.reminders import sweep_all
        from ..unit_of_work import commit_or_conflict

        counts = sweep_all(_parse_now(now_text), commit=commit_or_conflict)
        click.echo(", ".join(f"{kind}: {n}" for kind, n in counts.items()))
