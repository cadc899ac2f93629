"""Two real worker processes (``flask worker``) against the test database (PostgreSQL when
``TEST_DATABASE_URL`` says so) and a real SMTP server (aiosmtpd): N emails queued, each job
enqueued twice, ``flask send-mail``'s path running beside them — exactly N arrive, none twice.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from huey.storage import SqliteStorage
from sqlalchemy import func, select

from portal import transactions, worker
from portal.domain import notify
from portal.models import OutboxEmail, WorkerHeartbeat
from tests import factories
from tests.conftest import Mailbox, free_port

ROOT = Path(__file__).resolve().parents[2]
N = 60


@pytest.fixture
def mailbox(app, monkeypatch):
    """A real SMTP server; this process (its `send-mail` path) and the workers send to it."""
    from aiosmtpd.controller import Controller

    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    box.port = port
    for key, value in {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port, "MAIL_USE_TLS": False,
                       "MAIL_USE_SSL": False, "MAIL_USERNAME": ""}.items():
        monkeypatch.setitem(app.config, key, value)
    yield box
    controller.stop()


@pytest.fixture
def shared_queue(tmp_path):
    """The test enqueues into the same SQLite queue file the worker processes read."""
    path = tmp_path / "huey.sqlite3"
    worker.huey.immediate = False
    worker.huey.storage = SqliteStorage(name="portal", filename=str(path))
    yield path
    worker.huey.immediate = True


def _start_workers(app, queue: Path, port: int, tmp_path: Path, count: int = 2):
    env = {**os.environ,
           "PORTAL_ENV": "testing", "SECRET_KEY": "tests-only-secret-key",
           "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "HUEY_SQLITE_PATH": str(queue), "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(port),
           "PUBLIC_URL": "http://portal.test", "LOG_FORMAT": "json",
           "RATELIMIT_STORAGE_URI": "memory://"}
    for key in ("HUEY_REDIS_URL", "REDIS_URL"):
        env.pop(key, None)
    procs = []
    for i in range(count):
        log = open(tmp_path / f"worker-{i}.log", "w")  # noqa: SIM115 - closed with the process
        procs.append((subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "portal", "worker", "--threads", "4"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT), log))
    return procs


def _stop(procs):
    for proc, _log in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc, log in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _wait(predicate, timeout: float = 90.0, every: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return predicate()


def test_two_workers_deliver_each_email_exactly_once(app, db, mailbox, shared_queue, tmp_path):
    alliance = factories.alliance("Alpha")
    users = [factories.user(alliance, "headteacher", email=f"head{i}@alpha.example.org")
             for i in range(N)]
    db.session.commit()
    procs = _start_workers(app, shared_queue, mailbox.port, tmp_path)
    try:
        def both_up() -> bool:
            db.session.rollback()
            return db.session.scalar(select(func.count(WorkerHeartbeat.name))) >= 2

        assert _wait(both_up, timeout=60), f"the workers did not start: see {tmp_path}"
        # each job twice: once after the commit, once more by hand (as a sweep would). The
        # read above left a deferred transaction open and the workers write heartbeats, so
        # (as a request that writes does) take SQLite's write lock up front.
        db.session.rollback()
        with transactions.immediate():
            notify.notify(users, "Request R-1 needs you", "/requests/1")
            db.session.commit()
        ids = db.session.scalars(select(OutboxEmail.id)).all()
        assert len(ids) == N
        for mail_id in ids:
            worker.deliver_email(mail_id)
        # and `flask send-mail`'s path at the same time, from this process
        with app.app_context():
            sent_here = notify.send_unsent()

        def all_sent() -> bool:
            dead = [p.returncode for p, _log in procs if p.poll() is not None]
            assert not dead, f"a worker exited: see the logs in {tmp_path}"
            db.session.rollback()
            return db.session.scalar(select(func.count(OutboxEmail.id))
                                     .where(OutboxEmail.sent_at.is_(None))) == 0

        assert _wait(all_sent), "not every email was sent: see the worker logs in " + str(
            tmp_path)
        # let both workers drain the duplicate jobs still queued
        assert _wait(lambda: worker.huey.pending_count() == 0, timeout=60)
        time.sleep(1.0)
    finally:
        _stop(procs)
    counts = Counter(rcpt for env in mailbox.messages for rcpt in env.rcpt_tos)
    assert sorted(counts) == sorted(u.email for u in users)
    assert set(counts.values()) == {1}, [a for a, n in counts.items() if n > 1]
    assert len(mailbox.messages) == N
    db.session.rollback()
    assert db.session.scalar(select(func.max(OutboxEmail.attempts))) == 1
    workers_seen = db.session.scalars(select(WorkerHeartbeat.name)).all()
    assert len(workers_seen) >= 2  # both started and beat (on_startup)
    by_worker = []
    for i in range(2):
        log = (tmp_path / f"worker-{i}.log").read_text()
        assert "database is locked" not in log and "Traceback" not in log, log[-3000:]
        by_worker.append(log.count(': sent"'))
    assert sum(by_worker) + sent_here == N and sum(by_worker) > 0
