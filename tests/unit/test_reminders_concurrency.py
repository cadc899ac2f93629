"""The same reminder never goes twice, however many schedulers run at once (issue 17).

Two threads (each its own session and transaction) and then two ``flask remind`` processes run
the sweeps at the same moment. On PostgreSQL (``TEST_DATABASE_URL``) they really overlap: the
second INSERT of a (kind, object, step, recipient) waits on the unique index for the first and
then inserts nothing, so it tells nobody. On SQLite they queue behind the write lock.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from portal.domain import reminders
from portal.extensions import db
from portal.models import Notification, OutboxEmail, ReminderSent, utcnow
from portal.unit_of_work import commit_or_conflict
from tests import factories

ROOT = Path(__file__).resolve().parents[2]


def _world_with_due_reminders(world):
    for side in (world.a, world.b):
        side.request.status, side.request.matched_at = "matched", utcnow()
    r = factories.support_request(world.a.alliance, world.a.users["headteacher"],
                                  [world.a.receiving], hours_ago=49)
    d = factories.advance(world.b.deployment, "agreement")
    world.a.deployment.proposed_at = utcnow() + timedelta(days=30)  # not due here
    factories.commit()
    return r, d


def _counts(message_like: str):
    db.session.commit()
    notes = db.session.scalar(select(func.count()).select_from(Notification)
                              .where(Notification.message.like(message_like)))
    mails = db.session.scalar(select(func.count()).select_from(OutboxEmail)
                              .where(OutboxEmail.subject.like(message_like)))
    return notes, mails


def test_two_threads_sweeping_at_once_send_each_reminder_once(world, app):
    r, d = _world_with_due_reminders(world)
    now = utcnow() + timedelta(days=3, hours=1)
    barrier = threading.Barrier(2)
    results: list[dict] = []
    errors: list[BaseException] = []

    def run():
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                results.append(reminders.sweep_all(now, commit=commit_or_conflict))
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    # the overdue request: its co-ordinator and director, once each
    assert sum(res["matching"] for res in results) == 2
    assert _counts(f"Request {r.reference} is overdue%") == (2, 2)
    # the agreement: its four awaited signatories, once each
    assert sum(res["signature"] for res in results) == 4
    assert _counts(f"Reminder: the agreement for {d.reference}%") == (4, 4)
    # and once more later the same moment: nothing
    assert sum(reminders.sweep_all(now).values()) == 0


def test_two_flask_remind_processes_at_once_send_each_reminder_once(world):
    r, d = _world_with_due_reminders(world)
    now = (utcnow() + timedelta(days=3, hours=1)).isoformat()
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    env = {**os.environ, "DATABASE_URL": url, "PORTAL_ENV": "development",
           "SECRET_KEY": "tests-only"}
    cmd = [str(Path(sys.executable).with_name("flask")), "--app", "portal", "remind",
           "--now", now]
    procs = [subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert _counts(f"Request {r.reference} is overdue%") == (2, 2)
    assert _counts(f"Reminder: the agreement for {d.reference}%") == (4, 4)
    assert db.session.scalar(select(func.count()).select_from(ReminderSent)) == 6
    assert "matching: " in outs[0][0]


def test_flask_remind_refuses_a_moment_it_cannot_read(app):
    result = app.test_cli_runner().invoke(args=["remind", "--now", "next Tuesday"])
    assert result.exit_code == 2
    assert "use an ISO date and time" in result.output
