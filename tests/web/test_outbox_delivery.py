"""The outbox shows each email's delivery, and the co-ordinator sends a failed one again
(issue 17): a CSRF POST, audited, the policy's decision; /healthz; logs with a request id."""

from __future__ import annotations

import io
import json
import logging

import pytest
from sqlalchemy import select, text

from portal import logs, worker
from portal.domain.health import code_heads
from portal.domain.policy import outbox as policy
from portal.extensions import db
from portal.models import AuditEvent, OutboxEmail, WorkerHeartbeat, utcnow


@pytest.fixture
def failed(world):
    mail = OutboxEmail(alliance_id=world.a.alliance.id, to=world.user("a", "headteacher").email,
                       subject="Request R-1 needs you", body="Dear Alpha Head",
                       attempts=6, failed_at=utcnow(),
                       error="SMTPRecipientsRefused: 550 5.1.1 No such mailbox")
    db.session.add(mail)
    db.session.commit()
    return mail


def test_the_outbox_says_which_failed_and_why(world, client_for, failed):
    c = client_for(world.user("a", "admin"))
    page = c.get("/coordinator/outbox").data.decode()
    assert "Failed" in page and "No such mailbox" in page
    one = c.get(f"/coordinator/outbox/{failed.id}").data.decode()
    assert "Why it was not sent" in one and "No such mailbox" in one
    assert "Send it again" in one


def test_the_coordinator_sends_a_failed_email_again(world, client_for, failed, smtp):
    c = client_for(world.user("a", "admin"))
    r = c.post(f"/coordinator/outbox/{failed.id}/resend")
    assert r.status_code == 303
    db.session.rollback()
    mail = db.session.get(OutboxEmail, failed.id)
    assert mail.status == "sent" and mail.attempts == 1  # a fresh set of tries; it went
    assert [m.rcpt_tos for m in smtp.messages] == [[mail.to]]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "email.resent"))
    assert event.object_id == mail.id and event.actor_id == world.user("a", "admin").id
    # sent now: no second resend (409 with the reason), and no button
    assert c.post(f"/coordinator/outbox/{failed.id}/resend").status_code == 409
    assert "Send it again" not in c.get(f"/coordinator/outbox/{failed.id}").data.decode()
    assert len(smtp.messages) == 1


def test_resend_is_the_coordinators_and_needs_a_csrf_token(world, client_for, failed):
    director = client_for(world.user("a", "director"))
    assert director.post(f"/coordinator/outbox/{failed.id}/resend").status_code == 403
    assert "Send it again" not in director.get(f"/coordinator/outbox/{failed.id}").data.decode()
    other = client_for(world.user("b", "admin"))
    assert other.post(f"/coordinator/outbox/{failed.id}/resend").status_code == 404
    admin = client_for(world.user("a", "admin"))
    assert admin.post(f"/coordinator/outbox/{failed.id}/resend", csrf=False).status_code == 400
    db.session.rollback()
    assert db.session.get(OutboxEmail, failed.id).status == "failed"
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "email.resent")) \
        is None


def test_a_pending_email_is_not_resent_it_goes_by_itself(world, failed):
    failed.failed_at = None
    db.session.commit()
    decision = policy.actions(failed, world.user("a", "admin"))["resend"]
    assert not decision.allowed and not decision.forbidden and "queued" in decision.reason


# ----------------------------------------------------------------------------- /healthz


@pytest.fixture
def migrated(db):
    """The database stamped at the code's head, as `flask db upgrade` leaves it."""
    db.session.rollback()
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS alembic_version "
                          "(version_num VARCHAR(32) NOT NULL)"))
        conn.execute(text("DELETE FROM alembic_version"))
        for head in code_heads():
            conn.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": head})
    yield
    db.session.rollback()  # PostgreSQL: the test's reads hold a lock DROP TABLE would wait for
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))


def _health(anon):
    r = anon.get("/healthz")
    return r.status_code, r.get_json()


def test_healthz_is_200_when_all_is_well(db, anon, migrated):
    worker.heartbeat.call_local()
    status, body = _health(anon)
    assert status == 200 and body["status"] == "ok"
    assert body["checks"]["worker"]["heartbeat_age_seconds"] < 60
    assert body["checks"]["mail"]["oldest_unsent_age_seconds"] is None


def test_healthz_is_503_without_a_worker_heartbeat(db, anon, migrated):
    status, body = _health(anon)
    assert status == 503 and not body["checks"]["worker"]["ok"]
    assert body["checks"]["database"]["ok"] and body["checks"]["migrations"]["ok"]


def test_healthz_is_503_when_the_heartbeat_is_old(db, anon, migrated, app, monkeypatch):
    worker.heartbeat.call_local()
    monkeypatch.setitem(app.config, "HEALTH_MAX_HEARTBEAT_SECONDS", -1)
    assert _health(anon)[0] == 503


def test_healthz_is_503_when_migrations_are_not_at_head(db, anon, migrated):
    worker.heartbeat.call_local()
    db.session.execute(text("UPDATE alembic_version SET version_num = '0001_initial'"))
    db.session.commit()
    status, body = _health(anon)
    assert status == 503 and body["checks"]["migrations"]["database"] == ["0001_initial"]


def test_healthz_is_503_when_mail_waits_too_long(world, anon, migrated, app, monkeypatch):
    worker.heartbeat.call_local()
    mail = OutboxEmail(alliance_id=world.a.alliance.id, to="x@alpha.example.org",
                       subject="Waiting", body="B")
    db.session.add(mail)
    db.session.commit()
    assert _health(anon)[0] == 200  # fresh
    monkeypatch.setitem(app.config, "HEALTH_MAX_UNSENT_SECONDS", -1)
    status, body = _health(anon)
    assert status == 503 and body["checks"]["mail"]["unsent"] == 1
    mail.failed_at = utcnow()  # failed mail is the co-ordinator's: counted, not judged
    db.session.commit()
    status, body = _health(anon)
    assert status == 200 and body["checks"]["mail"]["failed"] == 1


def test_healthz_gives_away_nothing(db, anon, app):
    r = anon.get("/healthz")
    raw = r.data.decode()
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    assert url not in raw and "sqlite" not in raw and "postgres" not in raw
    assert r.headers["Cache-Control"] == "no-store"
    assert WorkerHeartbeat.__tablename__ not in raw


# ---------------------------------------------------------------------------- the logs


def test_a_request_id_is_echoed_or_made(anon):
    assert anon.get("/login", headers={"X-Request-ID": "lb-1234.abc"}) \
        .headers["X-Request-ID"] == "lb-1234.abc"
    made = anon.get("/login", headers={"X-Request-ID": "bad id {\"forged\": 1}"})
    assert made.headers["X-Request-ID"] != "bad id {\"forged\": 1}"
    assert len(made.headers["X-Request-ID"]) == 32


@pytest.fixture
def json_lines(app, monkeypatch):
    stream = io.StringIO()
    handler = logs.handler("json")
    handler.setStream(stream)
    root = logging.getLogger()
    # whatever an earlier test's app set up (a production config, dictConfig) leaves these
    # loggers reaching the root at INFO for this test
    for name in ("portal", "portal.access", "portal.worker", "portal.mail"):
        logger = logging.getLogger(name)
        monkeypatch.setattr(logger, "disabled", False)
        monkeypatch.setattr(logger, "propagate", True)
        monkeypatch.setattr(logger, "level", logging.NOTSET)
    root.addHandler(handler)
    old = root.level
    root.setLevel(logging.INFO)
    monkeypatch.setitem(app.config, "LOG_FORMAT", "json")
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(old)


def test_logs_are_json_lines_and_the_worker_logs_with_the_request_id(world, client_for, smtp,
                                                                    json_lines):
    c = client_for(world.user("a", "admin"))
    r = c.post(f"/requests/{world.a.request.id}/triage",
               {"action": "more_info", "reason": "Which year groups?"},
               headers={"X-Request-ID": "req-42"})
    assert r.status_code == 303 and smtp.messages
    lines = json_lines()
    access = [e for e in lines if e["logger"] == "portal.access"]
    assert access and access[-1]["request_id"] == "req-42" and access[-1]["status"] == 303
    delivered = [e for e in lines if e["logger"] == "portal.worker"]
    assert delivered and all(e["request_id"] == "req-42" for e in delivered)
    assert all({"time", "level", "message"} <= e.keys() for e in lines)


def test_json_logs_redact_set_password_links(json_lines):
    logging.getLogger("anything.at.all").warning(
        "GET /account/set-password/abcDEF123-secret HTTP/1.1")
    (line,) = [e for e in json_lines() if e["logger"] == "anything.at.all"]
    assert "abcDEF123" not in line["message"] and "[redacted]" in line["message"]


def test_the_worker_command_exists(app):
    result = app.test_cli_runner().invoke(args=["worker", "--help"])
    assert result.exit_code == 0 and "--threads" in result.output

