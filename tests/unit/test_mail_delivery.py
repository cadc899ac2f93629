"""Mail that never stops for good: a header is one line, one bad email never blocks the others,
and every failure is written on its outbox row (issue 13)."""

from __future__ import annotations

import smtplib
from email import message_from_bytes
from email.policy import default

import pytest
from sqlalchemy import select

from portal.domain import notify
from portal.extensions import db
from portal.models import OutboxEmail
from tests import factories

from ..conftest import Mailbox, serve_smtp

TWO_LINES = "Which year groups?\nAnd which classes?"


def _subjects(collector) -> list[str]:
    """The Subject of each message received, unfolded as a mail client reads it."""
    return [str(message_from_bytes(m.content, policy=default)["Subject"])
            for m in collector.messages]


class RefusingCollector(Mailbox):
    """Accepts mail, except for recipients whose address starts "refused" (550, as a real
    server answers a mailbox that does not exist)."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.startswith("refused"):
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def smtp(app, monkeypatch):
    """A real SMTP server that refuses recipients starting "refused" with 550."""
    yield from serve_smtp(app, monkeypatch, RefusingCollector())


def _outbox(**kw) -> OutboxEmail:
    mail = OutboxEmail(alliance_id=None, to=kw.pop("to", "head@alpha.example.org"),
                       subject=kw.pop("subject", "Hello"), body=kw.pop("body", "Body"), **kw)
    db.session.add(mail)
    db.session.commit()
    return mail


@pytest.mark.parametrize("typed", [TWO_LINES, "Line one\r\nLine two", "Tab\there\x0bthere",
                                   "Ends with a break\n"])
def test_header_text_is_one_line(typed):
    cleaned = notify.header_text(typed)
    assert "\n" not in cleaned and "\r" not in cleaned and "\x0b" not in cleaned
    assert cleaned == " ".join(typed.split())


def test_a_two_line_reason_becomes_a_one_line_subject_that_is_sent(db, smtp):
    head = factories.user(factories.alliance("Alpha"), "headteacher")
    db.session.commit()
    notify.notify([head], f"R-1 needs more information: {TWO_LINES}", "/requests/1")
    db.session.commit()
    mail = db.session.scalar(select(OutboxEmail))
    assert "\n" not in mail.subject  # and it went as the transaction committed
    assert _subjects(smtp) == ["R-1 needs more information: Which year groups? And which "
                               "classes?"]
    db.session.refresh(mail)
    assert mail.sent_at is not None and mail.error == ""


def test_a_subject_already_stored_with_a_line_break_is_still_sent(db, smtp):
    """Rows written before the fix hold two-line subjects: they go, on one line, too."""
    mail = _outbox(subject=TWO_LINES)
    assert notify.send_unsent() == 1
    assert _subjects(smtp) == ["Which year groups? And which classes?"]
    db.session.refresh(mail)
    assert mail.sent_at is not None


def test_one_email_that_cannot_be_sent_never_blocks_the_others(db, app, smtp, monkeypatch):
    first = _outbox(to="first@alpha.example.org")
    bad = _outbox(to="bad@alpha.example.org")
    last = _outbox(to="last@alpha.example.org")
    real = notify._message

    def build(mail, sender, body=None):
        if mail.id == bad.id:
            raise ValueError("Header values may not contain linefeed or carriage return")
        return real(mail, sender, body)

    monkeypatch.setattr(notify, "_message", build)
    assert notify.send_unsent() == 2  # and nothing raised
    assert sorted(m.rcpt_tos[0] for m in smtp.messages) == ["first@alpha.example.org",
                                                            "last@alpha.example.org"]
    db.session.expire_all()
    assert db.session.get(OutboxEmail, first.id).sent_at is not None
    assert db.session.get(OutboxEmail, last.id).sent_at is not None
    refused = db.session.get(OutboxEmail, bad.id)
    assert refused.sent_at is None and refused.error.startswith("ValueError: Header values")


def test_a_recipient_the_server_refuses_is_recorded_and_the_rest_go(db, smtp):
    refused = _outbox(to="refused@alpha.example.org")
    fine = _outbox(to="fine@alpha.example.org")
    assert notify.send_unsent() == 1
    db.session.expire_all()
    assert db.session.get(OutboxEmail, fine.id).sent_at is not None
    row = db.session.get(OutboxEmail, refused.id)
    assert row.sent_at is None and row.error  # the server's refusal, kept for the co-ordinator
    assert row.failed_at is not None and row.attempts == 1  # 550: failed at once, no retries


def test_a_connection_that_drops_records_the_error_on_every_email_left(db, app, smtp,
                                                                       monkeypatch):
    mails = [_outbox(to=f"p{i}@alpha.example.org") for i in range(3)]
    calls = []

    def flaky(self, msg, *a, **kw):
        calls.append(msg["To"])
        if len(calls) > 1:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return original(self, msg, *a, **kw)

    original = smtplib.SMTP.send_message
    monkeypatch.setattr(smtplib.SMTP, "send_message", flaky)
    assert notify.send_unsent() == 1
    db.session.expire_all()
    rows = [db.session.get(OutboxEmail, m.id) for m in mails]
    assert rows[0].sent_at is not None
    for row in rows[1:]:
        assert row.sent_at is None and row.error.startswith("SMTPServerDisconnected")


def test_retries_try_new_mail_before_mail_that_keeps_failing(db):
    old_failures = [_outbox(to=f"old{i}@alpha.example.org", error="SMTPRecipientsRefused: x",
                            attempts=3) for i in range(3)]
    fresh = _outbox(to="fresh@alpha.example.org")
    assert notify.unsent(limit=2) == [fresh.id, old_failures[0].id]


def test_send_mail_command_keeps_going_past_a_bad_email(app, db, smtp):
    """The reported bug: a two-line subject in the outbox made every run stop with ValueError."""
    bad = _outbox(subject=TWO_LINES)
    refused = _outbox(to="refused@alpha.example.org")
    good = _outbox(to="good@alpha.example.org")
    result = app.test_cli_runner().invoke(args=["send-mail"])
    assert result.exception is None, result.output
    assert "Sent 2 email(s). 1 not sent yet" in result.output
    db.session.expire_all()
    assert db.session.get(OutboxEmail, bad.id).sent_at is not None
    assert db.session.get(OutboxEmail, good.id).sent_at is not None
    assert db.session.get(OutboxEmail, refused.id).error


def test_a_two_line_triage_question_is_emailed_on_one_line(app, world, client_for, smtp):
    """The path of the report: "Ask for more information" with a reason over two lines."""
    req = world.a.request
    c = client_for(world.user("a", "admin"))
    r = c.post(f"/requests/{req.id}/triage", {"action": "more_info", "reason": TWO_LINES})
    assert r.status_code == 303
    mails = db.session.scalars(select(OutboxEmail)).all()
    assert mails and all("\n" not in m.subject for m in mails)
    assert all(m.sent_at is not None and m.error == "" for m in mails), \
        [(m.subject, m.error) for m in mails]
    assert any(s.endswith("Which year groups? And which classes?") for s in _subjects(smtp))
