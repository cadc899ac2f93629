"""Telling the next party: an in-portal notification and an email for each recipient.

:func:`notify` adds the notification and an ``OutboxEmail`` row to the current transaction, so a
rolled-back action tells nobody. After the transaction commits, the queued emails are sent over
SMTP (``MAIL_*`` config). With no ``MAIL_SERVER`` (development), each email is logged and kept in
the outbox, where the co-ordinator can read it; ``sent_at`` stays empty and ``error`` says why.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Iterable
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app, has_app_context
from sqlalchemy import event, func, inspect, select
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import Notification, OutboxEmail, User, utcnow

log = logging.getLogger("portal.mail")
_PENDING = "portal_pending_emails"


def notify(users: Iterable[User | None], message: str, url: str = "", *,
           subject: str | None = None, body: str | None = None,
           alliance_id: int | None = None, email: bool = True) -> list[Notification]:
    """Notify each (distinct, active) user in the portal and, unless ``email=False``, by email."""
    made: list[Notification] = []
    seen: set[int] = set()
    for user in users:
        if user is None or user.id in seen or not user.active:
            continue
        seen.add(user.id)
        n = Notification(user_id=user.id, message=message[:300], url=url[:300])
        db.session.add(n)
        made.append(n)
        if email and user.email:
            mail = OutboxEmail(
                alliance_id=alliance_id if alliance_id is not None else user.alliance_id,
                to=user.email,
                subject=(subject or message)[:200],
                body=body or _default_body(user, message, url),
            )
            db.session.add(mail)
            db.session.info.setdefault(_PENDING, []).append(mail)
    return made


def _default_body(user: User, message: str, url: str) -> str:
    link = ""
    if url:
        base = current_app.config.get("PUBLIC_URL", "") if has_app_context() else ""
        link = f"\n\nOpen it in the portal: {base}{url}\n"
    return (f"Dear {user.name},\n\n{message}.{link}\n"
            "You are receiving this because of your role in the School Support Portal.\n")


def unread_count(user: User) -> int:
    return db.session.scalar(
        select(func.count(Notification.id)).where(
            Notification.user_id == user.id, Notification.read_at.is_(None)
        )
    ) or 0


def mark_read(user: User, ids: Iterable[int] | None = None) -> int:
    stmt = select(Notification).where(Notification.user_id == user.id,
                                      Notification.read_at.is_(None))
    if ids is not None:
        stmt = stmt.where(Notification.id.in_(list(ids)))
    rows = db.session.scalars(stmt).all()
    now = utcnow()
    for n in rows:
        n.read_at = now
    return len(rows)


# ------------------------------------------------------------------------------- sending


def _message(mail: OutboxEmail, sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = mail.to
    msg["Subject"] = mail.subject
    msg["Message-ID"] = make_msgid(domain="school-support.invalid")
    msg.set_content(mail.body)
    return msg


def send(mails: list[OutboxEmail]) -> int:
    """Send these outbox rows over SMTP now; record success or the error on each. Commits."""
    if not mails:
        return 0
    cfg = current_app.config
    server = cfg.get("MAIL_SERVER")
    if not server:
        for mail in mails:
            log.info("email (not sent, no MAIL_SERVER) to=%s subject=%s\n%s",
                     mail.to, mail.subject, mail.body)
            mail.error = "Not sent: no MAIL_SERVER configured (development); kept in the outbox."
        db.session.commit()
        return 0
    sent = 0
    try:
        smtp_class = smtplib.SMTP_SSL if cfg.get("MAIL_USE_SSL") else smtplib.SMTP
        with smtp_class(server, cfg.get("MAIL_PORT", 25), timeout=cfg.get("MAIL_TIMEOUT", 10)) \
                as smtp:
            if cfg.get("MAIL_USE_TLS") and not cfg.get("MAIL_USE_SSL"):
                smtp.starttls(context=ssl.create_default_context())
            if cfg.get("MAIL_USERNAME"):
                smtp.login(cfg["MAIL_USERNAME"], cfg.get("MAIL_PASSWORD", ""))
            for mail in mails:
                try:
                    smtp.send_message(_message(mail, cfg["MAIL_DEFAULT_SENDER"]))
                    mail.sent_at = utcnow()
                    mail.error = ""
                    sent += 1
                except smtplib.SMTPException as exc:
                    mail.error = f"{type(exc).__name__}: {exc}"[:1000]
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("SMTP unavailable: %s", exc)
        for mail in mails:
            if mail.sent_at is None:
                mail.error = f"{type(exc).__name__}: {exc}"[:1000]
    db.session.commit()
    return sent


def send_unsent(limit: int = 200) -> int:
    """Retry every email not yet sent (``flask --app portal send-mail``)."""
    mails = db.session.scalars(
        select(OutboxEmail).where(OutboxEmail.sent_at.is_(None)).order_by(OutboxEmail.id)
        .limit(limit)
    ).all()
    return send(list(mails))


@event.listens_for(Session, "after_commit")
def _remember_committed(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending:
        # the identity key, not ``m.id``: an expired row must not be loaded after the commit
        session.info["portal_committed_emails"] = [
            key[0] for m in pending if (key := inspect(m).identity) is not None]


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)


def flush_committed() -> int:
    """Send the emails whose transaction has committed (called after each request)."""
    ids = db.session.info.pop("portal_committed_emails", None)
    if not ids:
        return 0
    mails = db.session.scalars(select(OutboxEmail).where(OutboxEmail.id.in_(ids))).all()
    return send(list(mails))


def init_app(app) -> None:
    @app.after_request
    def _send_after_commit(response):
        try:
            flush_committed()
        except Exception:  # noqa: BLE001 - a mail failure must never break the page
            log.exception("sending email failed")
            db.session.rollback()
        return response

    @app.context_processor
    def _unread():
        from flask_login import current_user

        if current_user.is_authenticated:
            return {"unread_notifications": unread_count(current_user)}
        return {"unread_notifications": 0}
