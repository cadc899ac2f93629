"""flask commands: demo data, users, the audit check."""

from __future__ import annotations

import os

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

    @app.cli.command("import-gias")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    @click.option("--admin", "admin_email", required=True,
                  help="The administrator whose alliance the schools join (and who is audited).")
    @click.option("--la", "only_las", multiple=True,
                  help="Import only this local authority (LA (name)); repeat for more.")
    def import_gias(path, admin_email, only_las) -> None:
        """Import a GIAS extract (e.g. the national establishment fields CSV) as a stream."""
        from .admin.routes import import_summary
        from .domain import admin as commands
        from .domain.errors import Invalid, PortalError
        from .models import User

        admin = db.session.scalar(select(User).where(func.lower(User.email)
                                                     == admin_email.lower()))
        if admin is None or admin.role != "admin" or not admin.active:
            raise click.ClickException(f"No active administrator with the email {admin_email}.")
        try:
            with open(path, "rb") as stream:
                done = commands.import_schools(admin, stream, filename=os.path.basename(path),
                                               ip="cli", only_las=set(only_las) or None)
        except Invalid as exc:
            db.session.rollback()
            report = getattr(exc, "parsed", None)
            for line, urn, reason in (report.rejected if report else [])[:50]:
                click.echo(f"line {line} (URN {urn or 'none'}): {reason}", err=True)
            raise click.ClickException(exc.message) from None
        except PortalError as exc:
            db.session.rollback()
            raise click.ClickException(exc.message or exc.title) from None
        db.session.commit()
        click.echo(import_summary(done))

    @app.cli.command("verify-audit")
    @click.option("--checkpoints", "checkpoint_file", type=click.File("r"), default=None,
                  help="Checkpoints exported earlier (flask export-checkpoints): the log must "
                       "still match them even if the database's copies were rewritten.")
    def verify_audit(checkpoint_file) -> None:
        """Recompute every alliance's audit log and every agreement's evidence; report each
        forgery found by name (and fail), or say how much was verified."""
        import json
        import time

        from .domain import agreements, audit
        from .models import AuditEvent, AuditLogHead

        started = time.perf_counter()
        extra = json.load(checkpoint_file)["checkpoints"] if checkpoint_file else []
        findings = [str(f) for f in audit.verify(extra)]
        findings += agreements.verify_signatures()
        count = db.session.scalar(select(func.count()).select_from(AuditEvent))
        logs = db.session.scalar(select(func.count()).select_from(AuditLogHead))
        if findings:
            raise click.ClickException(
                f"Forgery found ({len(findings)}):\n  " + "\n  ".join(findings[:50])
                + (f"\n  (and {len(findings) - 50} more)" if len(findings) > 50 else ""))
        click.echo(f"Audit logs intact: {count} events in {logs} logs verified, with every "
                   f"checkpoint and agreement ({time.perf_counter() - started:.1f} s).")

    @app.cli.command("checkpoint")
    def checkpoint() -> None:
        """Sign a checkpoint of every audit log that grew since its last one, and email each
        to its alliance's directors (run it on a schedule)."""
        from .domain import checkpoints

        made = checkpoints.checkpoint_all()
        db.session.commit()
        click.echo(f"Signed {len(made)} checkpoint(s)." + "".join(
            f"\n  {cp.log}: {cp.size} events, root {cp.root_hash}" for cp in made))

    @app.cli.command("export-checkpoints")
    @click.argument("out", type=click.File("w"), default="-")
    def export_checkpoints(out) -> None:
        """Write every signed checkpoint, with the public key, as JSON (to OUT or stdout)."""
        import json

        from .domain import checkpoints

        json.dump({"public_key": checkpoints.public_key_b64(),
                   "key_id": checkpoints.key_id(checkpoints.public_key_bytes()),
                   "checkpoints": checkpoints.stored()}, out, indent=1)
        out.write("\n")

    @app.cli.command("export-evidence")
    @click.argument("token")
    @click.argument("out", type=click.File("w"), default="-")
    def export_evidence(token, out) -> None:
        """Write the evidence bundle of one agreement as JSON, for ``flask verify-agreement``.
        TOKEN is its verification code or the address of its public page (put ``--`` before a
        code that starts with "-")."""
        import json

        from .domain import agreements

        agreement = agreements.by_token(agreements.token_from(token))
        if agreement is None:
            raise click.ClickException("No agreement has that verification code.")
        json.dump(agreements.evidence_bundle(agreement), out, indent=1, ensure_ascii=False)
        out.write("\n")

    @app.cli.command("verify-agreement")
    @click.argument("bundle", type=click.File("r"))
    @click.option("--public-key", default="", help="The portal's public key (base64) you "
                  "trust; without it the bundle's own key is used.")
    def verify_agreement(bundle, public_key) -> None:
        """Check an exported evidence bundle offline: terms, signatures, signatories,
        checkpoint signature and inclusion proofs (README: Checking an agreement offline)."""
        import base64
        import binascii
        import json

        from .domain import evidence

        try:
            data = json.load(bundle)
            key = base64.b64decode(public_key, validate=True) if public_key else None
        except (ValueError, binascii.Error) as exc:
            raise click.ClickException(f"Cannot read that: {exc}") from exc
        checks = evidence.verify_bundle(data, key)
        for c in checks:
            click.echo(f"{'PASS' if c.ok else 'FAIL'}  {c.name}: {c.message}")
        if not public_key:
            click.echo("Note: checked against the key inside the bundle; pass --public-key "
                       "with the key the portal publishes to rule out a forged bundle.")
        if not evidence.fully_signed(checks):
            raise click.ClickException("Not proven fully signed: "
                                       + "; ".join(c.name for c in checks if not c.ok))
        click.echo("Fully signed: every check passed.")

    from .backup import init_app as init_backup

    init_backup(app)
