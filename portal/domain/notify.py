"""Telling the next party: an in-portal notification and an email for each recipient.

:func:`notify` adds the notification and an ``OutboxEmail`` row to the current transaction, so a
rolled-back action tells nobody. After the transaction commits, the queued emails are sent over
SMTP (``MAIL_*`` config). With no ``MAIL_SERVER`` (development), each email is logged and kept in
the outbox, where the co-ordinator can read it; ``sent_at`` stays empty and ``error`` says why.

Each email is sent on its own (:func:`deliver`): one that cannot be built or is refused records
its error on its row and the others still go; a connection that cannot be made records its error
on every row it would have carried. ``flask send-mail`` retries the rows not yet sent, those
never tried first. Header values are single lines (:func:`header_text`): a reason typed over two
lines becomes a subject with a space, never a header that cannot be sent.

An email that carries a set-password link is stored with :data:`LINK_PLACEHOLDER` in its body;
:func:`outgoing_body`, called by the sender for every email, makes the link only as the email
goes out (see ``domain/invites.py``). No stored row, log line or export ever holds it.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Iterable
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app, has_app_context, has_request_context, request
from sqlalchemy import case, event, func, insert, inspect, select
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import Notification, OutboxEmail, User, utcnow

log = logging.getLogger("portal.mail")
_PENDING = "portal_pending_emails"

# Where a set-password link goes in a stored body; the link itself is made at send time only.
LINK_PLACEHOLDER = ("[A set-password link is added when this email is sent. It is not kept, "
                    "so it cannot be read or used from here.]")


def notify(users: Iterable[User | None], message: str, url: str = "", *,
           subject: str | None = None, body: str | None = None,
           alliance_id: int | None = None, email: bool = True) -> list[Notification]:
    """Notify each (distinct, active) user in the portal and, unless ``email=False``, by email
    (at once, or in the daily digest for a user who chose it: ``domain/reminders.send_digests``)."""
    made: list[Notification] = []
    seen: set[int] = set()
    for user in users:
        if user is None or user.id in seen or not user.active:
            continue
        seen.add(user.id)
        n = Notification(user_id=user.id, message=message[:300], url=url[:300])
        db.session.add(n)
        made.append(n)
        if email and user.email and not user.daily_digest:  # digest users: send_digests
            queue_email(user, subject or message, body or _default_body(user, message, url),
                        alliance_id=alliance_id)
    return made


def queue_email(user: User, subject: str, body: str, *, alliance_id: int | None = None,
                link_kind: str = "") -> OutboxEmail:
    """Add an email to ``user`` to the outbox; it is sent once the transaction commits.

    ``link_kind`` ("invite" or "reset") asks for a set-password link of that kind where the
    body has :data:`LINK_PLACEHOLDER`; it is made at send time, by :func:`outgoing_body`."""
    if link_kind and LINK_PLACEHOLDER not in body:
        raise ValueError("an email with a set-password link needs LINK_PLACEHOLDER in its body")
    mail = OutboxEmail(
        alliance_id=alliance_id if alliance_id is not None else user.alliance_id,
        to=user.email,
        subject=header_text(subject)[:200],
        body=body,
        link_kind=link_kind,
        link_user_id=user.id if link_kind else None,
    )
    db.session.add(mail)
    _pending([mail])
    return mail


def _pending(mails: list[OutboxEmail]) -> None:
    """Hand queued outbox rows to delivery once the transaction commits."""
    db.session.info.setdefault(_PENDING, []).extend(mails)


# The bulk forms below hand SQLAlchemy a list of rows: one statement compiled once, sent as
# an executemany, or (with RETURNING) in pages of this many rows (``insertmanyvalues``).
PAGE = 1000


def notify_many(items: Iterable[tuple[User, str, str, int | None]], *,
                at=None) -> int:
    """:func:`notify` for many ``(user, message, url, alliance_id)`` at once, in a fixed number
    of statements however many there are (the reminder sweeps). The same rules: active users
    only; an email unless the user chose the daily digest. Returns the notifications made."""
    now = at or utcnow()
    notes: list[dict] = []
    mails: list[dict] = []
    for user, message, url, alliance_id in items:
        if user is None or not user.active:
            continue
        notes.append({"user_id": user.id, "at": now, "message": message[:300],
                      "url": url[:300]})
        if user.email and not user.daily_digest:
            mails.append({"user": user, "subject": message,
                          "body": _default_body(user, message, url),
                          "alliance_id": alliance_id})
    if notes:
        db.session.execute(insert(Notification), notes)
    queue_emails(mails)
    return len(notes)


def queue_emails(items: list[dict]) -> list[OutboxEmail]:
    """:func:`queue_email` for many ``{"user", "subject", "body", "alliance_id"}`` at once (no
    set-password links), in a fixed number of statements; sent once the transaction commits."""
    if not items:
        return []
    now = utcnow()
    rows = [{"alliance_id": it["alliance_id"] if it.get("alliance_id") is not None
             else it["user"].alliance_id, "to": it["user"].email,
             "subject": header_text(it["subject"])[:200], "body": it["body"],
             "created_at": now, "error": "", "link_kind": "", "link_user_id": None}
            for it in items]
    ids = list(db.session.scalars(insert(OutboxEmail).returning(OutboxEmail.id), rows))
    made = list(db.session.scalars(select(OutboxEmail).where(OutboxEmail.id.in_(ids))))
    _pending(made)
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


def header_text(value) -> str:
    """One line for an email header: every run of whitespace, newlines included, becomes one
    space (a header with a line break cannot be sent, and could smuggle in another header)."""
    return " ".join(str(value or "").split())


class LinkNotMade(RuntimeError):
    """A set-password link cannot be built here; the email waits for a retry."""


def _public_base() -> str:
    base = current_app.config.get("PUBLIC_URL", "")
    if not base and has_request_context():
        base = request.host_url
    return base.rstrip("/")


def outgoing_body(mail: OutboxEmail) -> str:
    """The body exactly as it is sent now. The one place a set-password link exists: a fresh
    token is minted for this sending (earlier links of the account stop working), and it goes
    into the outgoing message only; ``mail.body`` keeps the placeholder. The sender calls this
    for every email, just before handing it to SMTP."""
    if not mail.link_kind:
        return mail.body
    from . import invites

    base = _public_base()
    if not base:
        raise LinkNotMade("Not sent: set PUBLIC_URL so the set-password link in this email can "
                          "be built outside a web request; `flask send-mail` will retry it.")
    user = db.session.get(User, mail.link_user_id) if mail.link_user_id else None
    token = invites.mint(user, mail.link_kind)
    if token is None:
        text = invites.NO_LINK[mail.link_kind]
    else:
        adapter = current_app.url_map.bind("portal.invalid")
        text = base + adapter.build("account.set_password", {"token": token})
    return mail.body.replace(LINK_PLACEHOLDER, text)


def _message(mail: OutboxEmail, sender: str, body: str | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = header_text(sender)
    msg["To"] = header_text(mail.to)
    msg["Subject"] = header_text(mail.subject)
    msg["Message-ID"] = make_msgid(domain="school-support.invalid")
    msg.set_content(mail.body if body is None else body)
    return msg


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:1000]


def deliver(smtp: smtplib.SMTP, mail: OutboxEmail, sender: str) -> bool:
    """Send one outbox row on an open connection and record the outcome on the row (``sent_at``,
    or ``error``). Whatever is wrong with this one email, it raises nothing: the next one goes."""
    try:
        smtp.send_message(_message(mail, sender, outgoing_body(mail)))
    except Exception as exc:  # noqa: BLE001 - one bad email must never stop the others
        log.warning("email %s to %s not sent: %s", mail.id, mail.to, exc)
        mail.error = _error(exc)
        return False
    mail.sent_at = utcnow()
    mail.error = ""
    return True


def _connect(cfg) -> smtplib.SMTP:
    smtp_class = smtplib.SMTP_SSL if cfg.get("MAIL_USE_SSL") else smtplib.SMTP
    smtp = smtp_class(cfg["MAIL_SERVER"], cfg.get("MAIL_PORT", 25),
                      timeout=cfg.get("MAIL_TIMEOUT", 10))
    try:
        if cfg.get("MAIL_USE_TLS") and not cfg.get("MAIL_USE_SSL"):
            smtp.starttls(context=ssl.create_default_context())
        if cfg.get("MAIL_USERNAME"):
            smtp.login(cfg["MAIL_USERNAME"], cfg.get("MAIL_PASSWORD", ""))
    except BaseException:
        smtp.close()
        raise
    return smtp


def send(mails: list[OutboxEmail]) -> int:
    """Send these outbox rows over SMTP now, each on its own; the outcome of every one is
    recorded on its row and committed as soon as it is known. Returns how many went."""
    if not mails:
        return 0
    cfg = current_app.config
    if not cfg.get("MAIL_SERVER"):
        for mail in mails:
            log.info("email (not sent, no MAIL_SERVER) to=%s subject=%s\n%s",
                     mail.to, mail.subject, mail.body)
            mail.error = "Not sent: no MAIL_SERVER configured (development); kept in the outbox."
            if mail.link_kind:
                mail.error += (" Its set-password link is made only when it is really sent "
                               "(set MAIL_SERVER, then `flask send-mail`).")
        db.session.commit()
        return 0
    sent = 0
    try:
        smtp = _connect(cfg)
    except Exception as exc:  # noqa: BLE001 - no connection: every email says why it waits
        log.warning("SMTP unavailable: %s", exc)
        for mail in mails:
            mail.error = _error(exc)
        db.session.commit()
        return 0
    try:
        for mail in mails:
            sent += deliver(smtp, mail, cfg["MAIL_DEFAULT_SENDER"])
            db.session.commit()  # what went is recorded at once: a crash never resends it
    finally:
        try:
            smtp.quit()
        except Exception:  # noqa: BLE001 - every email's outcome is already recorded
            smtp.close()
    return sent


def unsent(limit: int = 200) -> list[OutboxEmail]:
    """The emails not yet sent, those never tried first (so a few that keep failing never hold
    up new mail), then the oldest."""
    never_tried = case((OutboxEmail.error == "", 0), else_=1)
    return list(db.session.scalars(
        select(OutboxEmail).where(OutboxEmail.sent_at.is_(None))
        .order_by(never_tried, OutboxEmail.id).limit(limit)
    ).all())


def send_unsent(limit: int = 200) -> int:
    """Retry every email not yet sent (``flask --app portal send-mail``)."""
    return send(unsent(limit))


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
