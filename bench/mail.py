"""Emails per second through the job worker: two ``flask worker`` processes, a local SMTP sink.

``python -m bench.mail --database-url URL [--emails 500] [--workers 2] [--threads 4]``: writes
N outbox rows, starts the workers (a shared SQLite queue file in ``bench/data/``), enqueues one
delivery job per row, and times from the first enqueue until every row is marked sent. The sink
(aiosmtpd, in this process) counts what arrives, so duplicates would show. The rows are deleted
afterwards; the database is otherwise left alone.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"


@dataclass
class MailResult:
    emails: int
    workers: int
    threads: int
    seconds: float
    arrived: int
    duplicates: int

    @property
    def per_second(self) -> float:
        return self.emails / self.seconds if self.seconds else 0.0


class Sink:
    def __init__(self):
        self.count: Counter[str] = Counter()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        for rcpt in envelope.rcpt_tos:
            self.count[rcpt] += 1
        return "250 OK"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(database_url: str, emails: int = 500, workers: int = 2, threads: int = 4,
        timeout: float = 600) -> MailResult:
    from aiosmtpd.controller import Controller
    from huey.storage import SqliteStorage
    from sqlalchemy import delete, func, insert, select

    from portal import create_app, worker
    from portal.extensions import db
    from portal.models import OutboxEmail, WorkerHeartbeat, utcnow

    DATA.mkdir(parents=True, exist_ok=True)
    queue = DATA / "mail-queue.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{queue}{suffix}").unlink(missing_ok=True)
    sink = Sink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    url = database_url
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    app = create_app({"PORTAL_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url,
                      "SECRET_KEY": "bench-only", "RATELIMIT_STORAGE_URI": "memory://"})
    env = {**os.environ, "PORTAL_ENV": "testing", "SECRET_KEY": "bench-only",
           "DATABASE_URL": url, "HUEY_SQLITE_PATH": str(queue), "MAIL_SERVER": "127.0.0.1",
           "MAIL_PORT": str(port), "LOG_FORMAT": "json", "RATELIMIT_STORAGE_URI": "memory://"}
    for key in ("HUEY_REDIS_URL", "REDIS_URL"):
        env.pop(key, None)
    procs = []
    with app.app_context():
        db.create_all()
        db.session.execute(delete(WorkerHeartbeat))
        now = utcnow()
        first = (db.session.scalar(select(func.max(OutboxEmail.id))) or 0) + 1
        db.session.execute(insert(OutboxEmail), [
            {"alliance_id": None, "to": f"bench{i}@bench.example.org", "subject": f"Bench {i}",
             "body": "A benchmark email.\n", "created_at": now, "error": "", "link_kind": ""}
            for i in range(emails)])
        db.session.commit()
        ids = db.session.scalars(select(OutboxEmail.id).where(OutboxEmail.id >= first)).all()
        try:
            logs = open(DATA / "mail-workers.log", "w")  # noqa: SIM115 - closed below
            for _ in range(workers):
                procs.append(subprocess.Popen(
                    [sys.executable, "-m", "flask", "--app", "portal", "worker",
                     "--threads", str(threads), "--no-periodic"],
                    cwd=ROOT, env=env, stdout=logs, stderr=subprocess.STDOUT))
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                db.session.rollback()
                if db.session.scalar(select(func.count(WorkerHeartbeat.name))) >= workers:
                    break
                time.sleep(0.2)
            worker.huey.immediate = False
            worker.huey.storage = SqliteStorage(name="portal", filename=str(queue))
            started = time.perf_counter()
            for mail_id in ids:
                worker.deliver_email(mail_id)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                db.session.rollback()
                left = db.session.scalar(select(func.count(OutboxEmail.id)).where(
                    OutboxEmail.id >= first, OutboxEmail.sent_at.is_(None)))
                if not left:
                    break
                time.sleep(0.05)
            seconds = time.perf_counter() - started
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
            for proc in procs:
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
            controller.stop()
            db.session.rollback()
            db.session.execute(delete(OutboxEmail).where(OutboxEmail.id >= first))
            db.session.commit()
    return MailResult(emails=emails, workers=workers, threads=threads, seconds=seconds,
                      arrived=sum(sink.count.values()),
                      duplicates=sum(n - 1 for n in sink.count.values() if n > 1))


def markdown(r: MailResult) -> str:
    return "\n".join([
        "| Emails | Workers × threads | Seconds | Emails/s | Arrived | Duplicates |",
        "|---:|---|---:|---:|---:|---:|",
        f"| {r.emails} | {r.workers} × {r.threads} | {r.seconds:.1f} | {r.per_second:.1f} "
        f"| {r.arrived} | {r.duplicates} |",
    ])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=f"sqlite:///{DATA / 'mail.db'}")
    parser.add_argument("--emails", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args(argv)
    print(markdown(run(args.database_url, args.emails, args.workers, args.threads)))


if __name__ == "__main__":
    main()
