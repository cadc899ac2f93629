"""flask commands: demo data, users, the audit check."""

from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import func, select

from .extensions import db


def init_app(app: Flask) -> None:
    @app.cli.command("demo")
    @click.option("--if-empty", is_flag=True, help="Do nothing if the database already has data.")
    def demo(if_empty: bool) -> None:
        """Load demo data for the East Sussex and Sefton networks and print the logins."""
        from . import demo as demo_data

        if demo_data.is_loaded():
            if if_empty:
                click.echo("Demo data already loaded; the logins are listed in README.md.")
                return
            raise click.ClickException("The database already has data; demo data not loaded.")
        logins = demo_data.load()
        click.echo(f"Demo data loaded. Every demo login has the password: "
                   f"{demo_data.DEMO_PASSWORD}")
        width = max(len(a) for a, _r, _e in logins)
        for alliance, role, email in logins:
            click.echo(f"  {alliance:<{width}}  {role:<12} {email}")

    @app.cli.command("send-mail")
    def send_mail() -> None:
        """Send every email in the outbox that has not gone yet, now: failed ones and those
        waiting for their next try too. Each is claimed first, as the worker does, so one the
        worker is sending is left to it and none goes twice. One that cannot be sent keeps its
        reason in the outbox and never stops the others."""
        from .domain.notify import send_unsent
        from .models import OutboxEmail

        sent = send_unsent()
        waiting = db.session.scalar(select(func.count()).select_from(OutboxEmail)
                                    .where(OutboxEmail.sent_at.is_(None))) or 0
        click.echo(f"Sent {sent} email(s)." + (
            f" {waiting} not sent yet: the reason is beside each in the outbox." if waiting
            else ""))

    @app.cli.command("create-user")
    @click.option("--email", required=True)
    @click.option("--name", required=True)
    @click.option("--role", required=True,
                  type=click.Choice(["headteacher", "sle", "home_school", "director", "admin",
                                     "board"]))
    @click.option("--alliance", "alliance_name", required=True, help="Alliance short name.")
    @click.option("--school-urn", default=None)
    @click.password_option()
    def create_user(email, name, role, alliance_name, school_urn, password) -> None:
        """Create a user (for example the first administrator of a new alliance)."""
        from .domain import audit
        from .models import Alliance, School, User

        alliance = db.session.scalar(select(Alliance).where(Alliance.short_name == alliance_name))
        if alliance is None:
            raise click.ClickException(f"No alliance called {alliance_name!r}.")
        school = None
        if school_urn:
            school = db.session.scalar(select(School).where(School.urn == school_urn))
            if school is None:
                raise click.ClickException(f"No school with URN {school_urn}.")
        if db.session.scalar(select(User).where(func.lower(User.email) == email.lower())):
            raise click.ClickException(f"A user with the email {email} already exists.")
        user = User(email=email.lower(), name=name, role=role, alliance_id=alliance.id,
                    school_id=school.id if school else None)
        user.set_password(password)
        db.session.add(user)
        db.session.flush()
        audit.record(None, "user.created_by_cli", user, detail={"role": role})
        db.session.commit()
        click.echo(f"Created {role} {email}.")

    @app.cli.command("verify-audit")
    def verify_audit() -> None:
        """Recompute the audit hash chain and report the first break, if any."""
        from .domain import agreements, audit
        from .models import AuditEvent

        count = db.session.scalar(select(func.count()).select_from(AuditEvent))
        broken = audit.verify()
        if broken is not None:
            raise click.ClickException(
                f"Audit chain broken at event {broken.index + 1} of {count}: {broken.reason}"
            )
        # signatures are chained through the audit trail: each row must match its evidence
        problems = agreements.verify_signatures()
        if problems:
            raise click.ClickException(
                "Signature evidence broken: " + "; ".join(problems[:20])
                + (f" (and {len(problems) - 20} more)" if len(problems) > 20 else "")
            )
        click.echo(f"Audit chain intact: {count} events verified.")

    from .backup import init_app as init_backup

    init_backup(app)
