"""The job worker: Huey tasks that deliver email and run the portal's periodic jobs.

Storage (where jobs wait), chosen from the environment when this module is imported:

* ``HUEY_REDIS_URL`` (or ``REDIS_URL``) set: ``RedisHuey`` — production, any number of workers
  on any number of machines;
* otherwise ``SqliteHuey`` in ``HUEY_SQLITE_PATH`` (default ``instance/huey.sqlite3``) — the
  embedded default for ``make run``, nothing to install.

Jobs run in the portal's app context (:func:`job_context`), each in its own session; a job
commits explicitly, like the CLI. Run workers with ``flask --app portal worker`` (``make
worker``); ``make run`` starts one beside the development server.

Jobs:

* :func:`deliver_email` — one outbox row, enqueued after the transaction that wrote it
  commits (:func:`_enqueue_committed`). A try that fails for a while schedules itself again
  after the back-off (``domain.notify.retry_delay``).
* :func:`send_pending` — every minute: enqueues every pending email that is due and not
  claimed (a lost enqueue, a crash, a restart, a retry whose scheduled job was lost).
* :func:`heartbeat` — every minute (and at start-up): ``worker_heartbeat``, read by
  ``/healthz``.

Duplicate jobs are harmless: delivery claims each row first (``domain.notify.claim``), so an
email goes once however many jobs, workers or sweeps ask for it.

* :func:`remind` — every 15 minutes: the reminder and escalation sweeps and the daily
  digests (``domain.reminders.sweep_all``), idempotent however many workers schedule it.
* :func:`checkpoint` — hourly: a signed checkpoint of every audit log that grew.

In tests Huey runs in immediate mode (``huey.immediate = True``, set by ``tests/conftest.py``):
a job runs at once, in the caller's thread, in its own app context and session.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import click
from flask import Flask, current_app, has_app_context, has_request_context, request
from huey import Huey, RedisHuey, SqliteHuey, crontab
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import logs
from .domain import notify
from .extensions import db
from .models import WorkerHeartbeat, utcnow

log = logging.getLogger("portal.worker")
ROOT = Path(__file__).resolve().parent.parent


def redis_url() -> str:
    return os.environ.get("HUEY_REDIS_URL") or os.environ.get("REDIS_URL") or ""


def sqlite_path() -> str:
    return os.environ.get("HUEY_SQLITE_PATH") or str(ROOT / "instance" / "huey.sqlite3")


def make_huey() -> Huey:
    """The queue: Redis when configured, else an embedded SQLite file. No result storage:
    nothing waits for a job's return value."""
    url = redis_url()
    if url:
        return RedisHuey("portal", url=url, results=False)
    path = Path(sqlite_path())
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("portal", filename=str(path), results=False)


huey = make_huey()
_app: Flask | None = None


def storage_name() -> str:
    return "redis" if redis_url() else f"sqlite ({sqlite_path()})"


@contextmanager
def job_context(job: str, rid: str = "") -> Iterator[None]:
    """Run a job inside the portal: its own app context (so its own database session, even in
    immediate mode inside a request) and the request id it logs with."""
    # the caller's app when there is one (immediate mode: a request, a test, the CLI), else
    # the one `flask worker` made
    app = current_app._get_current_object() if has_app_context() else _app  # type: ignore[attr-defined]
    if app is None:  # a consumer started without `flask worker` (huey_consumer)
        from . import create_app

        app = create_app()
    token = logs.request_id.set(rid or logs.new_id())
    try:
        with app.app_context():
            try:
                yield
            except Exception:
                log.exception("job %s failed", job)
                db.session.rollback()
                raise
    finally:
        logs.request_id.reset(token)


# ----------------------------------------------------------------------------- the jobs


@huey.task()
def deliver_email(mail_id: int, base: str = "", rid: str = "") -> str:
    """Deliver one outbox row (claim, send, settle); schedule the next try if it must wait."""
    with job_context("deliver_email", rid):
        outcome, wait = notify.deliver_one(mail_id, base=base)
        log.info("email %s: %s", mail_id, outcome, extra={"job": "deliver_email"})
    if wait is not None:
        deliver_email.schedule((mail_id, base, rid), delay=max(wait.total_seconds(), 1))
    return outcome


@huey.periodic_task(crontab(minute="*"))
def send_pending() -> int:
    """The sweep: enqueue every pending email that is due and not claimed."""
    with job_context("send_pending"):
        ids = notify.due()
        db.session.rollback()
    for mail_id in ids:
        deliver_email(mail_id)
    if ids:
        log.info("sweep: %s pending email(s) enqueued", len(ids), extra={"job": "send_pending"})
    return len(ids)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


def beat(name: str | None = None) -> None:
    """Record that this worker is alive (and forget workers silent for a day)."""
    name = name or worker_name()
    now = utcnow()
    updated = db.session.execute(
        update(WorkerHeartbeat).where(WorkerHeartbeat.name == name).values(beat_at=now))
    if updated.rowcount == 0:  # type: ignore[attr-defined]
        try:
            with db.session.begin_nested():
                db.session.add(WorkerHeartbeat(name=name, beat_at=now))
        except IntegrityError:  # another thread of this worker beat at the same moment
            pass
    db.session.execute(delete(WorkerHeartbeat)
                       .where(WorkerHeartbeat.beat_at < now - timedelta(days=1)))
    db.session.commit()


@huey.periodic_task(crontab(minute="*"))
def heartbeat() -> None:
    with job_context("heartbeat"):
        beat()


@huey.periodic_task(crontab(minute="*/15"))
@huey.lock_task("remind")
def remind() -> dict[str, int]:
    """Every reminder and escalation that is due, and the daily digests
    (``domain/reminders.sweep_all``: idempotent, so several workers' schedulers never send one
    twice; the lock only saves the duplicate work). One transaction per kind."""
    with job_context("remind"):
        from .domain.reminders import sweep_all

        return sweep_all(utcnow(), commit=db.session.commit)


@huey.periodic_task(crontab(minute="7"))
@huey.lock_task("checkpoint")
def checkpoint() -> int:
    """A signed checkpoint of every audit log that grew in the last hour (issue 19), emailed to
    each alliance's directors."""
    with job_context("checkpoint"):
        from .domain import checkpoints

        made = checkpoints.checkpoint_all()
        db.session.commit()
        return len(made)


@huey.on_startup()
def _started() -> None:
    try:
        with job_context("startup"):
            beat()
    except Exception:  # noqa: BLE001 - the database may be migrating; the next beat tells
        log.warning("could not record the first heartbeat")


# --------------------------------------------------------------- enqueueing after commit


def _enqueue_committed(session: Session) -> None:
    """After a commit that wrote outbox rows: a delivery job for each. The enqueue must never
    break the page that committed; a lost enqueue is caught by :func:`send_pending`."""
    ids = notify.committed_ids(session)
    if not ids:
        return
    base = request.host_url if has_request_context() else ""
    rid = logs.request_id.get()
    for mail_id in ids:
        try:
            deliver_email(mail_id, base, rid)
        except Exception:  # noqa: BLE001 - the sweep delivers it within a minute or two
            log.exception("could not enqueue email %s; the sweep will send it", mail_id)


notify.COMMITTED.append(_enqueue_committed)


# ------------------------------------------------------------------------------ wiring


def init_app(app: Flask) -> None:
    global _app
    _app = app

    @app.cli.command("worker")
    @click.option("--threads", "-w", type=int,
                  default=lambda: int(os.environ.get("WORKER_THREADS", "4")),
                  show_default="4 (WORKER_THREADS)", help="Jobs run at once by this worker.")
    @click.option("--no-periodic", is_flag=True,
                  help="Do not enqueue the periodic jobs (another worker does).")
    def worker(threads: int, no_periodic: bool) -> None:
        """Run a job worker: delivers email and runs the periodic jobs until stopped (Ctrl-C or
        SIGTERM finish the jobs in hand first)."""
        if app.config.get("LOG_FORMAT") == "json":
            logs.configure("json")
        huey.immediate = False
        log.info("worker starting: %s thread(s), storage %s", threads, storage_name())
        consumer = huey.create_consumer(workers=threads, worker_type="thread",
                                        periodic=not no_periodic, graceful_signal="TERM",
                                        max_delay=1.0)
        consumer.run()
