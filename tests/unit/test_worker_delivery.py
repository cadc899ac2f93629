"""Email through the job worker (issue 17): after commit, claimed first (exactly once), retried
with back-off, failed after the last try or at once on a 5xx, and never sent inside a request.

Huey runs in immediate mode here (``tests/conftest.py``); ``tests/worker/`` runs real worker
processes."""

from __future__ import annotations

import smtplib
import socket
import threading
from datetime import timedelta

import pytest
from huey.storage import MemoryStorage
from sqlalchemy import func, select, update

from portal import worker
from portal.domain import notify
from portal.extensions import db
from portal.models import OutboxEmail, utcnow
from portal.transactions import immediate
from tests import factories

from ..conftest import free_port, serve_smtp
from .test_mail_delivery import RefusingCollector


@pytest.fixture
def smtp(app, monkeypatch):
    """A real SMTP server that refuses recipients starting "refused" with 550."""
    yield from serve_smtp(app, monkeypatch, RefusingCollector())


@pytest.fixture
def nobody_listens(app, monkeypatch):
    """MAIL_SERVER on a port where nothing listens: every connection is refused (temporary)."""
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT", 2)


@pytest.fixture
def queued():
    """Jobs wait in a queue (as with a real worker) instead of running at once."""
    worker.huey.immediate = False
    worker.huey.storage = MemoryStorage("tests")
    yield worker.huey
    worker.huey.immediate = True


def _mail(to="head@alpha.example.org", **kw) -> OutboxEmail:
    mail = OutboxEmail(alliance_id=None, to=to, subject=kw.pop("subject", "Hello"),
                       body="Body", **kw)
    db.session.add(mail)
    db.session.commit()
    return mail


def _row(mail_id: int) -> OutboxEmail:
    db.session.rollback()  # a fresh read (on SQLite, a new snapshot) of what workers wrote
    return db.session.get(OutboxEmail, mail_id)


def _notify(*addresses: str) -> list[int]:
    alliance = factories.alliance("Alpha")
    users = [factories.user(alliance, "headteacher", email=a) for a in addresses]
    db.session.commit()
    notify.notify(users, "Request R-1 needs you", "/requests/1")
    db.session.commit()  # the worker (immediate here) delivers as the transaction commits
    return list(db.session.scalars(select(OutboxEmail.id).order_by(OutboxEmail.id)))


# ------------------------------------------------------------------------- after commit


def test_each_email_is_delivered_after_its_transaction_commits(db, smtp):
    ids = _notify("one@alpha.example.org", "two@alpha.example.org")
    assert sorted(m.rcpt_tos[0] for m in smtp.messages) == ["one@alpha.example.org",
                                                            "two@alpha.example.org"]
    assert all(_row(i).status == "sent" and _row(i).attempts == 1 for i in ids)


def test_a_rolled_back_transaction_enqueues_nothing(db, queued):
    alliance = factories.alliance("Alpha")
    head = factories.user(alliance, "headteacher")
    db.session.commit()
    notify.notify([head], "Never happened")
    db.session.rollback()
    assert queued.pending_count() == 0


def test_a_savepoint_does_not_release_the_emails_of_the_transaction_around_it(db, queued):
    alliance = factories.alliance("Alpha")
    head = factories.user(alliance, "headteacher")
    db.session.commit()
    notify.notify([head], "Queued before a savepoint")
    with db.session.begin_nested():
        db.session.flush()
    assert queued.pending_count() == 0  # not committed yet
    db.session.commit()
    assert queued.pending_count() == 1


# ------------------------------------------------------------- never inside a request


class HangingServer:
    """A TCP port that accepts connections into its backlog and never answers (a mail server
    that is up but stuck). ``waiting()`` says whether anyone tried to connect."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]

    def waiting(self) -> bool:
        try:
            conn, _addr = self.sock.accept()
        except BlockingIOError:
            return False
        conn.close()
        return True

    def close(self):
        self.sock.close()


def test_a_request_never_opens_an_smtp_connection(world, client_for, app, queued,
                                                  monkeypatch):
    """The reported fault: a server that accepts and never answers added 10 s to each action.
    Now the action only writes the outbox row and enqueues a job; SMTP is the worker's."""
    hanging = HangingServer()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", hanging.port)
    opened = []

    def connect(self, *args, **kwargs):
        opened.append(args)
        raise AssertionError("an SMTP connection inside a request")

    monkeypatch.setattr(smtplib.SMTP, "connect", connect)
    try:
        c = client_for(world.user("a", "admin"))
        r = c.post(f"/requests/{world.a.request.id}/triage",
                   {"action": "more_info", "reason": "Which year groups?"})
        assert r.status_code == 303
        assert opened == [] and not hanging.waiting()
        queued_ids = db.session.scalars(select(OutboxEmail.id)
                                        .where(OutboxEmail.sent_at.is_(None))).all()
        assert queued_ids and queued.pending_count() == len(queued_ids)
        assert c.get("/").status_code == 200 and opened == []
    finally:
        hanging.close()


# ---------------------------------------------------------------------- exactly once


def test_a_claimed_email_cannot_be_claimed_again(db, smtp):
    mail = _mail()
    first = notify.claim(mail.id)
    assert first is not None
    assert notify.claim(mail.id) is None                 # a second worker
    assert notify.claim(mail.id, force=True) is None     # `send-mail` or a resend
    assert notify.deliver([mail.id], force=True)["skipped"] == 1
    assert smtp.messages == []


def test_a_worker_killed_mid_job_leaves_the_email_to_be_retried_after_its_lease(db, smtp):
    mail = _mail()
    assert notify.claim(mail.id) is not None  # ...and the worker dies before sending
    assert notify.deliver([mail.id])["skipped"] == 1  # its lease still holds
    with immediate():
        db.session.execute(update(OutboxEmail).where(OutboxEmail.id == mail.id)
                           .values(claimed_until=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert notify.deliver([mail.id])["sent"] == 1
    assert len(smtp.messages) == 1
    row = _row(mail.id)
    assert row.status == "sent" and row.attempts == 2 and row.claimed_until is None


def test_a_late_outcome_from_an_expired_claim_changes_nothing(db):
    mail = _mail()
    stale = notify.claim(mail.id)
    with immediate():
        db.session.execute(update(OutboxEmail).where(OutboxEmail.id == mail.id)
                           .values(claimed_by="someone-else", claimed_until=utcnow()
                                   + timedelta(minutes=5)))
        db.session.commit()
    assert notify._settle(mail.id, stale.claim, sent_at=utcnow()) is False
    assert _row(mail.id).sent_at is None


def test_send_mail_beside_the_worker_sends_each_email_once(app, db, smtp):
    """The reported fault: `flask send-mail` run while a request was sending delivered 6 emails
    for 3 and then failed with "database is locked". Four senders at once, one claim each."""
    ids = [_mail(to=f"p{i}@alpha.example.org").id for i in range(12)]
    errors = []

    def sender():
        try:
            with app.app_context():
                notify.send_unsent()
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    delivered = [m.rcpt_tos[0] for m in smtp.messages]
    assert sorted(delivered) == sorted(f"p{i}@alpha.example.org" for i in range(12))
    assert [_row(i).status for i in ids] == ["sent"] * 12


# -------------------------------------------------------------- retries and failure


def test_a_server_that_is_down_is_retried_with_growing_waits_then_failed(db, app, queued,
                                                                        nobody_listens,
                                                                        monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_MAX_ATTEMPTS", 4)
    mail = _mail()
    waits = []
    for attempt in range(1, 5):
        before = utcnow()
        outcome, wait = notify.deliver_one(mail.id)
        row = _row(mail.id)
        assert row.attempts == attempt and row.sent_at is None
        assert row.error.startswith("ConnectionRefusedError")
        if attempt < 4:
            assert outcome == "retry" and row.failed_at is None
            waits.append(round((row.next_attempt_at - before).total_seconds() / 60))
            assert notify.deliver_one(mail.id)[0] == "skipped"  # not due yet
            with immediate():
                db.session.execute(update(OutboxEmail).where(OutboxEmail.id == mail.id)
                                   .values(next_attempt_at=utcnow()))
                db.session.commit()
        else:
            assert outcome == "failed" and wait is None and row.failed_at is not None
    assert waits == [1, 4, 16]  # MAIL_RETRY_SECONDS=60, four times as long each time
    assert notify.due(utcnow() + timedelta(days=1)) == []  # failed: the sweep leaves it


def test_the_job_schedules_its_own_retry(db, queued, nobody_listens):
    mail = _mail()
    assert worker.deliver_email.call_local(mail.id) == "retry"
    (retry,) = queued.pending()  # the consumer holds it back until its eta
    assert retry.args[0] == mail.id
    assert retry.eta is not None and retry.eta > utcnow().replace(tzinfo=None)


def test_a_refused_recipient_fails_at_once_and_the_others_still_go(db, smtp):
    ids = _notify("first@alpha.example.org", "refused@alpha.example.org",
                  "last@alpha.example.org")
    assert sorted(m.rcpt_tos[0] for m in smtp.messages) == ["first@alpha.example.org",
                                                            "last@alpha.example.org"]
    refused = next(_row(i) for i in ids if _row(i).to.startswith("refused"))
    assert refused.status == "failed" and refused.attempts == 1
    assert "550" in refused.error and "No such mailbox" in refused.error
    assert notify.due(utcnow() + timedelta(days=1)) == []


def test_a_4xx_answer_is_tried_again(db, smtp, monkeypatch):
    mail = _mail()

    def busy(self, msg, *a, **kw):
        raise smtplib.SMTPRecipientsRefused({"head@alpha.example.org": (451, b"Try later")})

    monkeypatch.setattr(smtplib.SMTP, "send_message", busy)
    assert notify.deliver_one(mail.id)[0] == "retry"
    assert _row(mail.id).status == "pending"


def test_the_sweep_enqueues_what_was_missed_and_not_what_waits(db, queued):
    lost = _mail(to="lost@alpha.example.org")          # its enqueue was lost
    later = _mail(to="later@alpha.example.org", next_attempt_at=utcnow() + timedelta(hours=1))
    held = _mail(to="held@alpha.example.org", claimed_by="w",
                 claimed_until=utcnow() + timedelta(minutes=5))
    failed = _mail(to="failed@alpha.example.org", failed_at=utcnow())
    sent = _mail(to="sent@alpha.example.org", sent_at=utcnow())
    soon = utcnow() + timedelta(minutes=2)
    assert notify.due(soon) == [lost.id]
    assert {later.id, held.id, failed.id, sent.id}.isdisjoint(notify.due(soon))
    assert notify.due() == []  # queued a moment ago: its own job has it
    assert worker.send_pending.call_local() == 0


def test_send_mail_tries_failed_emails_too(app, db, smtp):
    mail = _mail(failed_at=utcnow(), attempts=6, error="ConnectionRefusedError: gone")
    result = app.test_cli_runner().invoke(args=["send-mail"])
    assert "Sent 1 email(s)." in result.output
    assert _row(mail.id).status == "sent"


def test_heartbeat_is_recorded(db):
    from portal.models import WorkerHeartbeat

    worker.heartbeat.call_local()
    worker.heartbeat.call_local()
    (beat,) = db.session.scalars(select(WorkerHeartbeat)).all()
    assert beat.name == worker.worker_name()
    assert (utcnow() - beat.beat_at) < timedelta(minutes=1)
    assert db.session.scalar(select(func.count(WorkerHeartbeat.name))) == 1


# ------------------------------------------------------------- the scheduled jobs (issue 17)


def test_the_worker_schedules_the_reminder_sweep_and_the_checkpoint():
    """The periodic jobs a worker runs: the sweeps every 15 minutes, the checkpoint hourly."""
    from datetime import datetime as dt

    hour = [dt(2026, 12, 2, 9, m) for m in range(60)]

    def minutes(job) -> list[int]:
        return [t.minute for t in hour if job.task_class().validate_datetime(t)]

    assert minutes(worker.remind) == [0, 15, 30, 45]
    assert minutes(worker.checkpoint) == [7]
    assert minutes(worker.send_pending) == list(range(60))


def test_the_remind_job_sends_each_due_reminder_once(db):
    """The job the worker runs is the idempotent sweep: a request unmatched for 40 hours
    reminds the co-ordinator once, however often the job runs."""
    from portal.models import Notification

    w = factories.world()
    req = factories.support_request(w.a.alliance, w.user("a", "headteacher"), [w.a.receiving],
                                    hours_ago=40, title="Waiting a while")
    db.session.commit()
    first = worker.remind.call_local()
    again = worker.remind.call_local()
    assert sum(first.values()) >= 1 and sum(again.values()) == 0
    admin = w.user("a", "admin")
    told = db.session.scalars(select(Notification).where(
        Notification.user_id == admin.id, Notification.message.contains(req.reference),
        Notification.message.contains("for a match"))).all()
    assert len(told) == 1


def test_the_checkpoint_job_signs_every_grown_log(db):
    from portal.domain import audit
    from portal.models import AuditCheckpoint

    w = factories.world()
    audit.record(w.user("a", "admin"), "demo.loaded", w.a.alliance)
    db.session.commit()
    before = db.session.scalar(select(func.count()).select_from(AuditCheckpoint))
    db.session.rollback()  # the job commits in its own session: read afresh
    assert worker.checkpoint.call_local() >= 1
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditCheckpoint)) > before
    assert worker.checkpoint.call_local() == 0  # nothing grew since
