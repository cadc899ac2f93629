"""Telling the next party: an in-portal notification and an email for each recipient.

:func:`notify` adds the notification and an ``OutboxEmail`` row to the current transaction, so a
rolled-back action tells nobody. Nothing is sent inside the request: once the transaction
commits, the job worker (``portal/worker.py``) is asked to deliver each new row, and its sweep
picks up anything that asks missed. With no ``MAIL_SERVER`` (development), each email is logged
and kept in the outbox, where the co-ordinator can read it; it is marked failed and ``error``
says why.

Delivery (:func:`deliver`) claims each row before sending it, so two workers, a worker and
``flask send-mail``, or a worker and a resend never send one twice. Each email is sent on its
own: one the server refuses for good (a 5xx answer) is failed at once with the server's reason
and the others still go; a server that is down, slow or answers 4xx is tried again later, with
back-off (``MAIL_RETRY_SECONDS``), up to ``MAIL_MAX_ATTEMPTS`` tries; then it is failed, and the
co-ordinator can send it again from the outbox (:func:`resend`). Header values are single lines
(:func:`header_text`): a reason typed over two lines becomes a subject with a space, never a
header that cannot be sent.

An email that carries a set-password link is stored with :data:`LINK_PLACEHOLDER` in its body;
:func:`outgoing_body`, called by the sender for every email, makes the link only as the email
goes out (see ``domain/invites.py``). No stored row, log line or export ever holds it.
"""

from __future__ import annotations

import logging
import os
import smtplib
import socket
import ssl
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr
from typing import Any

from flask import current_app, has_app_context, has_request_context, request
from sqlalchemy import case, event, func, insert, inspect, or_, select, update
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import Notification, OutboxEmail, User, utcnow
from ..transactions import immediate

log = logging.getLogger("portal.mail")
_PENDING = "portal_pending_emails"

# Where a set-password link goes in a stored body; the link itself is made at send time only.
LINK_PLACEHOLDER = ("[A set-password link is added when this email is sent. It is not kept, "
                    "so it cannot be read or used from here.]")


def notify(users: Iterable[User | None], message: str, url: str = "", *,
           subject: str | None = None, body: str | None = None,
           alliance_id: int | None = None, email: bool = True,
           attachment: str = "") -> list[Notification]:
    """Notify each (distinct, active) user in the portal and, unless ``email=False``, by email
    (at once, or in the daily digest for a user who chose it: ``domain/reminders.send_digests``).
    An email with an attachment (a PDF, or a visit's calendar invitation: see
    :func:`queue_email`) goes at once to everyone: a digest carries no attachments."""
    made: list[Notification] = []
    seen: set[int] = set()
    for user in users:
        if user is None or user.id in seen or not user.active:
            continue
        seen.add(user.id)
        n = Notification(user_id=user.id, message=message[:300], url=url[:300])
        db.session.add(n)
        forget_unread(user)  # the signed-in user notified: the header counts afresh
        made.append(n)
        if email and user.email and (attachment or not user.daily_digest):
            # digest users: send_digests
            text = body or _default_body(user, message, url)
            text += ATTACHED_NOTE.get(attachment.partition(":")[0], "")
            queue_email(user, subject or message, text, alliance_id=alliance_id,
                        attachment=attachment)
    return made


def queue_email(user: User, subject: str, body: str, *, alliance_id: int | None = None,
                link_kind: str = "", attachment: str = "") -> OutboxEmail:
    """Add an email to ``user`` to the outbox; it is sent once the transaction commits.

    ``link_kind`` ("invite" or "reset") asks for a set-password link of that kind where the
    body has :data:`LINK_PLACEHOLDER`; it is made at send time, by :func:`outgoing_body`.
    ``attachment`` names what to send with it, made as the email goes out: a PDF
    ("agreement:<id>", "invoice:<id>": :func:`attachment_for`) or a visit's calendar invitation
    ("visit:<id>": :func:`calendar_invitation`)."""
    if link_kind and LINK_PLACEHOLDER not in body:
        raise ValueError("an email with a set-password link needs LINK_PLACEHOLDER in its body")
    mail = OutboxEmail(
        alliance_id=alliance_id if alliance_id is not None else user.alliance_id,
        to=user.email,
        subject=header_text(subject)[:200],
        body=body,
        link_kind=link_kind,
        link_user_id=user.id if link_kind else None,
        attachment=attachment,
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


#: the header counts unread notifications up to this many ("99+" beyond): the count stops
#: there, so someone with thousands unread costs every page what someone with a hundred does
#: (issue 20: 9,224 unread took 1.7 ms of every page at ten times national scale)
UNREAD_CAP = 99


def _unread(user_id: Any) -> Any:  # noqa: ANN401 (a column expression)
    unread = (select(Notification.id)
              .where(Notification.user_id == user_id, Notification.read_at.is_(None))
              .limit(UNREAD_CAP + 1).subquery())
    return select(func.count()).select_from(unread)


def unread_count(user: User) -> int:
    """How many notifications ``user`` has not read, up to ``UNREAD_CAP + 1`` (more than
    the cap)."""
    return db.session.scalar(_unread(user.id)) or 0


def unread_count_column(user_id: Any) -> Any:  # noqa: ANN401 (a column expression)
    """The unread count (up to the cap) as a scalar subquery, for the user loader to read with
    the user."""
    return _unread(user_id).scalar_subquery()


_UNREAD = "_preloaded_unread"


def preload_unread(user: User, n: int) -> None:
    """What the user loader read with the user: the header's count costs no query of its own."""
    setattr(user, _UNREAD, n)


def forget_unread(user: User) -> None:
    user.__dict__.pop(_UNREAD, None)


def preloaded_unread(user: User) -> int:
    n = getattr(user, _UNREAD, None)
    return unread_count(user) if n is None else n


def mark_read(user: User, ids: Iterable[int] | None = None) -> int:
    forget_unread(user)
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


def _public_base(base: str = "") -> str:
    base = current_app.config.get("PUBLIC_URL", "") or base
    if not base and has_request_context():
        base = request.host_url
    return base.rstrip("/")


def outgoing_body(mail: OutboxEmail, base: str = "") -> str:
    """The body exactly as it is sent now. The one place a set-password link exists: a fresh
    token is minted for this sending (earlier links of the account stop working), and it goes
    into the outgoing message only; ``mail.body`` keeps the placeholder. The sender calls this
    for every email, just before handing it to SMTP. ``base`` is the portal's address as the
    request that queued the email saw it (``PUBLIC_URL`` wins when set)."""
    if not mail.link_kind:
        return mail.body
    from . import invites

    base = _public_base(base)
    if not base:
        raise LinkNotMade("Not sent: set PUBLIC_URL so the set-password link in this email can "
                          "be built outside a web request; it will be tried again.")
    user = db.session.get(User, mail.link_user_id) if mail.link_user_id else None
    token = invites.mint(user, mail.link_kind)
    if token is None:
        text = invites.NO_LINK[mail.link_kind]
    else:
        adapter = current_app.url_map.bind("portal.invalid")
        text = base + adapter.build("account.set_password", {"token": token})
    return mail.body.replace(LINK_PLACEHOLDER, text)


# what an email says about what it carries, by the kind of its attachment
ATTACHED_NOTE = {
    "agreement": "\nThe document is attached to this email as a PDF.\n",
    "invoice": "\nThe document is attached to this email as a PDF.\n",
    "visit": "\nAn invitation is attached: open it to add the visit to your calendar.\n",
}
PDF_KINDS = ("agreement", "invoice")


def attachment_for(name: str) -> tuple[str, bytes]:
    """The PDF an outbox row names (``OutboxEmail.attachment``), made now from the stored rows:
    its file name and bytes. ``LookupError`` if what it names is gone."""
    from .. import documents
    from ..models import Agreement, Invoice

    kind, _sep, ident = name.partition(":")
    if kind == "agreement" and ident.isdigit():
        agreement = db.session.get(Agreement, int(ident))
        if agreement is not None:
            return documents.agreement_filename(agreement), documents.agreement_pdf(agreement)
    if kind == "invoice" and ident.isdigit():
        inv = db.session.get(Invoice, int(ident))
        if inv is not None:
            return documents.invoice_filename(inv), documents.invoice_pdf(inv)
    raise LookupError(f"no document {name!r} to attach")


def _message(mail: OutboxEmail, sender: str, body: str | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = header_text(sender)
    msg["To"] = header_text(mail.to)
    msg["Subject"] = header_text(mail.subject)
    msg["Message-ID"] = make_msgid(domain="school-support.invalid")
    msg.set_content(mail.body if body is None else body)
    invitation = calendar_invitation(mail, sender)
    if invitation is not None:
        msg.add_attachment(invitation, maintype="text", subtype="calendar",
                           filename="visit.ics", params={"method": "REQUEST"})
    return msg


def calendar_invitation(mail: OutboxEmail, sender: str) -> bytes | None:
    """The .ics invitation of a visit email, made now from the visit as it is (none if the
    visit was cancelled or delivered before the email went)."""
    kind, _sep, ident = (mail.attachment or "").partition(":")
    if kind != "visit" or not ident.isdigit():
        return None
    from ..models import Visit
    from .calendar import invitation

    visit = db.session.get(Visit, int(ident))
    if visit is None or visit.status != "planned":
        return None
    recipient = db.session.scalar(select(User).where(func.lower(User.email) == mail.to.lower()))
    if recipient is None:
        return None
    return invitation(visit, recipient, parseaddr(sender)[1] or sender)


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:1000]


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


# ------------------------------------------------------------------------------- delivery
#
# Run by the job worker (``portal/worker.py``) and by ``flask send-mail``, never inside a web
# request. Each email goes through the same three short transactions:
#
# 1. claim: one UPDATE that sets ``claimed_by``/``claimed_until`` only where the row is unsent
#    and unclaimed (or its lease ran out). Only one caller can win it (``rowcount``), on SQLite
#    and PostgreSQL alike; the set-password link, if any, is minted in the same transaction.
# 2. send over SMTP, with no transaction open (a slow server holds no lock).
# 3. settle: sent, or the error with the next try (back-off), or failed after the last try or
#    at once when the server refuses it for good (a 5xx answer to this message).
#
# A worker killed between 1 and 3 leaves the row claimed until the lease ends; then it is
# claimable again and is retried, not lost. The lease is far longer than one SMTP exchange
# can take (``MAIL_TIMEOUT`` per operation), so a live worker never loses its claim.


class Outcome:
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    SKIPPED = "skipped"  # someone else holds it, or it is already sent, failed or not yet due


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:60]


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed try: the base, then four times as long
    each time (1, 4, 16, 64 minutes ... by default), at most six hours."""
    base = current_app.config.get("MAIL_RETRY_SECONDS", 60)
    return timedelta(seconds=min(base * 4 ** max(attempts - 1, 0), 6 * 3600))


def is_permanent(exc: BaseException) -> bool:
    """Will this email never go, however often it is tried? A 5xx answer to the message itself
    (recipient, sender or content refused), or a message that cannot even be built. Timeouts,
    dropped connections and 4xx answers are temporary: tried again later."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in exc.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return 500 <= exc.smtp_code < 600
    return isinstance(exc, (ValueError, UnicodeError, TypeError))


def _connection_lost(exc: BaseException) -> bool:
    """The connection is gone (not just this message refused): the rest wait for a new one.
    Every SMTP error is an ``OSError`` too, so a socket error is one that is not an SMTP one."""
    return isinstance(exc, smtplib.SMTPServerDisconnected) or (
        isinstance(exc, OSError) and not isinstance(exc, smtplib.SMTPException))


def _unsent(mail_id: int):
    return (OutboxEmail.id == mail_id, OutboxEmail.sent_at.is_(None))


def _settle(mail_id: int, claim: str, **values) -> bool:
    """Record the outcome of a claimed try; only the holder of the claim may."""
    with immediate():
        result = db.session.execute(
            update(OutboxEmail)
            .where(*_unsent(mail_id), OutboxEmail.claimed_by == claim)
            .values(claimed_until=None, **values)
            .execution_options(synchronize_session=False))
        db.session.commit()
    if result.rowcount != 1:  # type: ignore[attr-defined]
        log.warning("email %s: claim %s had expired when its outcome came", mail_id, claim)
        return False
    return True


def _failure(mail_id: int, claim: str, attempts: int, exc: BaseException,
             permanent: bool) -> str:
    now = utcnow()
    error = _error(exc)
    if permanent or attempts >= current_app.config.get("MAIL_MAX_ATTEMPTS", 6):
        log.warning("email %s failed for good after %s attempt(s): %s", mail_id, attempts, error)
        _settle(mail_id, claim, error=error, failed_at=now)
        return Outcome.FAILED
    when = now + retry_delay(attempts)
    log.info("email %s not sent (attempt %s), next try at %s: %s", mail_id, attempts,
             when.isoformat(timespec="seconds"), error)
    _settle(mail_id, claim, error=error, next_attempt_at=when)
    return Outcome.RETRY


class _Claimed:
    def __init__(self, mail_id: int, claim: str, attempts: int, to: str, link: bool,
                 message: EmailMessage | None, problem: BaseException | None,
                 attachment: str = ""):
        self.mail_id, self.claim, self.attempts, self.to = mail_id, claim, attempts, to
        self.link, self.message, self.problem = link, message, problem
        self.attachment = attachment


def claim(mail_id: int, *, force: bool = False, base: str = "") -> _Claimed | None:
    """Claim one unsent email for this caller, or None if it is not ours to send now.

    ``force`` (``flask send-mail``, a resend) also takes a failed row or one waiting for its
    next try; a row another worker holds is never taken before its lease ends. The message is
    built (and any set-password link minted) inside the claiming transaction."""
    db.session.rollback()  # start clean: the claim must be the first statement of its own
    now = utcnow()
    lease = timedelta(seconds=current_app.config.get("MAIL_CLAIM_SECONDS", 300))
    token = f"{_worker_name()}:{uuid.uuid4().hex[:12]}"
    conditions = [*_unsent(mail_id),
                  or_(OutboxEmail.claimed_until.is_(None), OutboxEmail.claimed_until < now)]
    if not force:
        conditions += [OutboxEmail.failed_at.is_(None),
                       or_(OutboxEmail.next_attempt_at.is_(None),
                           OutboxEmail.next_attempt_at <= now)]
    with immediate():
        result = db.session.execute(
            update(OutboxEmail).where(*conditions)
            .values(claimed_by=token, claimed_until=now + lease,
                    attempts=OutboxEmail.attempts + 1, failed_at=None)
            .execution_options(synchronize_session=False))
        if result.rowcount != 1:  # type: ignore[attr-defined]
            db.session.rollback()
            return None
        mail = db.session.execute(select(OutboxEmail).where(OutboxEmail.id == mail_id)
                                  .execution_options(populate_existing=True)).scalar_one()
        message: EmailMessage | None = None
        problem: BaseException | None = None
        try:
            # no MAIL_SERVER: the stored body is logged, and no set-password link is made
            body = outgoing_body(mail, base) if current_app.config.get("MAIL_SERVER") else None
            message = _message(mail, current_app.config["MAIL_DEFAULT_SENDER"], body)
        except Exception as exc:  # noqa: BLE001 - recorded on the row, the others still go
            problem = exc
        claimed = _Claimed(mail.id, token, mail.attempts, mail.to, bool(mail.link_kind),
                           message, problem, mail.attachment)
        db.session.commit()
    return claimed


def deliver(ids: Iterable[int], *, force: bool = False, base: str = "") -> Counter[str]:
    """Deliver these outbox rows, each claimed first, on one SMTP connection; the outcome of
    each is recorded on its row as soon as it is known. Returns the count of each outcome."""
    cfg = current_app.config
    outcomes: Counter[str] = Counter()
    smtp: smtplib.SMTP | None = None
    down: BaseException | None = None
    try:
        for mail_id in ids:
            got = claim(mail_id, force=force, base=base)
            if got is None:
                outcomes[Outcome.SKIPPED] += 1
                continue
            if got.problem is not None:
                permanent = not isinstance(got.problem, LinkNotMade)
                outcomes[_failure(got.mail_id, got.claim, got.attempts, got.problem,
                                  permanent)] += 1
                continue
            assert got.message is not None
            if got.attachment.partition(":")[0] in PDF_KINDS and cfg.get("MAIL_SERVER"):
                # the PDF is made after the claim's transaction, so no lock waits on it
                try:
                    filename, data = attachment_for(got.attachment)
                    db.session.rollback()
                except Exception as exc:  # noqa: BLE001 - recorded on the row, tried again
                    db.session.rollback()
                    log.warning("email %s: attachment %s not made: %s", got.mail_id,
                                got.attachment, exc)
                    outcomes[_failure(got.mail_id, got.claim, got.attempts, exc,
                                      isinstance(exc, LookupError))] += 1
                    continue
                got.message.add_attachment(data, maintype="application", subtype="pdf",
                                           filename=filename)
            if not cfg.get("MAIL_SERVER"):
                log.info("email (not sent, no MAIL_SERVER) to=%s subject=%s\n%s",
                         got.to, got.message["Subject"], got.message.get_content())
                error = "Not sent: no MAIL_SERVER configured (development); kept in the outbox."
                if got.link:
                    error += (" Its set-password link is made only when it is really sent "
                              "(set MAIL_SERVER, then `flask send-mail`).")
                _settle(got.mail_id, got.claim, error=error, failed_at=utcnow())
                outcomes[Outcome.FAILED] += 1
                continue
            if smtp is None and down is None:
                try:
                    smtp = _connect(cfg)
                except Exception as exc:  # noqa: BLE001 - the server is down: try later
                    log.warning("SMTP unavailable: %s", exc)
                    down = exc
            if smtp is None:
                assert down is not None
                outcomes[_failure(got.mail_id, got.claim, got.attempts, down, False)] += 1
                continue
            try:
                smtp.send_message(got.message)
            except Exception as exc:  # noqa: BLE001 - one bad email must never stop the others
                log.warning("email %s to %s not sent: %s", got.mail_id, got.to, exc)
                outcomes[_failure(got.mail_id, got.claim, got.attempts, exc,
                                  is_permanent(exc))] += 1
                if _connection_lost(exc):
                    smtp.close()
                    smtp, down = None, exc  # the rest wait for the next try
                continue
            _settle(got.mail_id, got.claim, sent_at=utcnow(), error="", next_attempt_at=None)
            outcomes[Outcome.SENT] += 1
    finally:
        if smtp is not None:
            try:
                smtp.quit()
            except Exception:  # noqa: BLE001 - every email's outcome is already recorded
                smtp.close()
    return outcomes


def deliver_one(mail_id: int, *, base: str = "") -> tuple[str, timedelta | None]:
    """Deliver one row (the worker's job): its outcome, and when to try again if it waits."""
    outcome = next(iter(deliver([mail_id], base=base)))
    if outcome != Outcome.RETRY:
        return outcome, None
    when = db.session.scalar(select(OutboxEmail.next_attempt_at)
                             .where(OutboxEmail.id == mail_id))
    db.session.rollback()
    return outcome, (max(when - utcnow(), timedelta(0)) if when else None)


def unsent(limit: int = 200) -> list[int]:
    """Ids of the emails not yet sent (failed ones too), those never tried first (so a few that
    keep failing never hold up new mail), then the oldest."""
    never_tried = case((OutboxEmail.attempts == 0, 0), else_=1)
    return list(db.session.scalars(
        select(OutboxEmail.id).where(OutboxEmail.sent_at.is_(None))
        .order_by(never_tried, OutboxEmail.id).limit(limit)).all())


def send_unsent(limit: int = 200) -> int:
    """``flask send-mail``: try every unsent email now, failed ones and those waiting for their
    next try included, through the same claim as the worker (so never one twice). Returns how
    many went."""
    ids = unsent(limit)
    db.session.rollback()
    return deliver(ids, force=True)[Outcome.SENT]


def due(now: datetime | None = None, *, grace: timedelta = timedelta(seconds=60),
        limit: int = 1000) -> list[int]:
    """Ids of pending emails that should have been tried by now, for the worker's sweep: due
    (``next_attempt_at``, else since they were queued) more than ``grace`` ago, and not held by
    a live claim. Covers a lost enqueue, a crash and a restart."""
    now = now or utcnow()
    cutoff = now - grace
    return list(db.session.scalars(
        select(OutboxEmail.id).where(
            OutboxEmail.sent_at.is_(None), OutboxEmail.failed_at.is_(None),
            func.coalesce(OutboxEmail.next_attempt_at, OutboxEmail.created_at) <= cutoff,
            or_(OutboxEmail.claimed_until.is_(None), OutboxEmail.claimed_until < now))
        .order_by(OutboxEmail.id).limit(limit)).all())


def resend(user: User, mail: OutboxEmail) -> None:
    """The co-ordinator sends a failed email again: it is queued afresh (all its tries again)
    and goes once this transaction commits."""
    from . import audit
    from .policy import outbox as policy
    from .policy import require

    require(policy.actions(mail, user)["resend"])
    mail.failed_at = None
    mail.attempts = 0
    mail.next_attempt_at = None
    db.session.info.setdefault(_PENDING, []).append(mail)
    audit.record(user, "email.resent", mail, alliance_id=mail.alliance_id,
                 detail={"to": mail.to, "last_error": mail.error[:200]})


def committed_ids(session: Session) -> list[int]:
    """The outbox rows queued in the transaction that just committed (for the worker)."""
    return session.info.pop("portal_committed_emails", None) or []


@event.listens_for(Session, "after_commit")
def _remember_committed(session: Session) -> None:
    if session.in_nested_transaction():  # a SAVEPOINT released: nothing is committed yet
        return
    pending = session.info.pop(_PENDING, None)
    if pending:
        # the identity key, not ``m.id``: an expired row must not be loaded after the commit
        session.info.setdefault("portal_committed_emails", []).extend(
            key[0] for m in pending if (key := inspect(m).identity) is not None)
        for listener in COMMITTED:
            listener(session)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    if session.in_nested_transaction():  # a SAVEPOINT rolled back; the transaction goes on
        return
    session.info.pop(_PENDING, None)


# Called after a commit that queued emails (``portal/worker.py`` enqueues their delivery).
COMMITTED: list[Callable[[Session], None]] = []


class LazyCount:
    """A count read only when a template uses it: the header shows the unread count, but an
    htmx partial that renders no header must not pay its query (issue 20)."""

    def __init__(self, read: Callable[[], int]) -> None:
        self._read = read
        self._value: int | None = None

    def __int__(self) -> int:
        if self._value is None:
            self._value = self._read()
        return self._value

    def __bool__(self) -> bool:
        return int(self) > 0

    def __str__(self) -> str:
        n = int(self)
        return f"{UNREAD_CAP}+" if n > UNREAD_CAP else f"{n:,}"

    def __eq__(self, other: object) -> bool:
        return int(self) == other

    __hash__ = None  # type: ignore[assignment]


def init_app(app) -> None:
    @app.context_processor
    def _unread():
        from flask_login import current_user

        if current_user.is_authenticated:
            user = current_user._get_current_object()
            return {"unread_notifications": LazyCount(lambda: preloaded_unread(user))}
        return {"unread_notifications": 0}
