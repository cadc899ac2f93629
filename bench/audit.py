"""Audited writes per second, and the time to verify a national-scale audit log.

    python -m bench.audit --database-url postgresql://postgres@127.0.0.1:5432/bench \\
        [--writers 1,4,8] [--duration 5] [--work-ms 0,20] [--events 1000000] [--output FILE]

**It drops and recreates the public schema of that database**: give it one of its own.

Writes: W threads, each with its own connection, write on W different alliances back to back
for ``--duration`` seconds; each transaction records one audit event (``audit.record``) and
commits, optionally after ``--work-ms`` of other work inside the transaction (a real request
does its own reads and writes while it holds the log's head). Two modes on the same database:

- *per-alliance log* (the portal since migration 0016): each write locks its alliance's head;
- *one global lock* (as before 0016, emulated): the same write after taking one
  ``pg_advisory_xact_lock`` for the whole country first, the old ``_CHAIN_LOCK``.

Verification: ``--events`` audit events spread over 300 alliances (scale 1: 1,000,000, about one
per action row of the national data set) are generated in bulk with their chains, Merkle
frontiers and a signed checkpoint per log, then ``audit.verify()`` is timed.
"""

from __future__ import annotations

import argparse
import platform
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from bench.generate import make_app
from portal.domain import audit, checkpoints, merkle
from portal.domain.signing import GENESIS
from portal.extensions import db
from portal.models import Alliance, AuditEvent, AuditLogHead

CHAIN_LOCK = 7_301_911


def _fresh(app) -> None:
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        db.create_all()


def _alliances(app, n: int) -> list[int]:
    with app.app_context():
        rows = [Alliance(name=f"Bench alliance {i}", short_name=f"B{i}",
                         charging_model="sefton") for i in range(n)]
        db.session.add_all(rows)
        db.session.commit()
        return [a.id for a in rows]


def writes_per_second(app, alliance_ids: list[int], writers: int, duration: float,
                      work_ms: float, global_lock: bool) -> float:
    stop = time.perf_counter() + duration
    counts = [0] * writers
    errors: list[BaseException] = []
    start = threading.Barrier(writers)

    def run(i: int) -> None:
        with app.app_context():
            start.wait()
            try:
                while time.perf_counter() < stop:
                    if global_lock:
                        db.session.execute(text("SELECT pg_advisory_xact_lock(:k)"),
                                           {"k": CHAIN_LOCK})
                    audit.record(None, "bench.write", alliance_id=alliance_ids[i],
                                 detail={"writer": i})
                    if work_ms:
                        time.sleep(work_ms / 1000)
                    db.session.commit()
                    counts[i] += 1
            except BaseException as exc:  # noqa: BLE001 - reported after the run
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(writers)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return sum(counts) / (time.perf_counter() - began)


def generate_log(app, events: int, alliances: int = 300) -> float:
    """Bulk-insert ``events`` chained events over ``alliances`` logs; returns seconds."""
    began = time.perf_counter()
    with app.app_context():
        ids = _alliances(app, alliances)
        key = audit.audit_key()
        at = datetime(2026, 1, 5, 9, tzinfo=UTC)
        state = {a: (0, GENESIS, merkle.Frontier()) for a in ids}
        rows: list[dict] = []

        def flush() -> None:
            if rows:
                db.session.execute(AuditEvent.__table__.insert(), rows)
                rows.clear()

        for n in range(events):
            alliance_id = ids[n % len(ids)]
            size, prev, frontier = state[alliance_id]
            event = AuditEvent(log=audit.log_name(alliance_id), seq=size + 1,
                               at=at + timedelta(seconds=n), actor_id=None,
                               alliance_id=alliance_id, action="bench.generated",
                               object_type="Deployment", object_id=n, detail={"n": n},
                               ip="192.0.2.1", legacy_hash="")
            event.digest = audit.event_digest(audit.payload(event))
            event.prev_hash = prev
            event.hash = audit.chain_hash(key, prev, event.digest)
            frontier.append(bytes.fromhex(event.digest))
            state[alliance_id] = (size + 1, event.hash, frontier)
            rows.append({c.name: getattr(event, c.key) for c in AuditEvent.__table__.columns
                         if c.name != "id"})
            if len(rows) >= 10_000:
                flush()
        flush()
        for alliance_id, (size, head, frontier) in state.items():
            log = audit.log_name(alliance_id)
            db.session.add(AuditLogHead(log=log, size=size, head_hash=head,
                                        frontier=frontier.to_json()))
            checkpoints.sign(log, size, frontier.root().hex(), head, reason="bench")
        db.session.commit()
    return time.perf_counter() - began


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--writers", default="1,4,8")
    parser.add_argument("--duration", type=float, default=5)
    parser.add_argument("--work-ms", default="0,20")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--output", type=Path, default=None,
                        help="append the Markdown section to this file")
    args = parser.parse_args(argv)
    app = make_app(args.database_url)
    writers = [int(w) for w in args.writers.split(",")]
    works = [float(w) for w in args.work_ms.split(",")]
    out = ["## Audit log (issue 19), PostgreSQL",
           "",
           f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node()}: Python "
           f"{platform.python_version()}, load average at start "
           f"{' / '.join(f'{x:.1f}' for x in __import__('os').getloadavg())}.",
           "",
           f"Command: `python -m bench.audit --writers {args.writers} --duration "
           f"{args.duration:g} --work-ms {args.work_ms} --events {args.events}`",
           "",
           "### Audited writes per second, each writer on its own alliance",
           "",
           "One transaction = one `audit.record` + commit, after the given other work inside "
           "the transaction. *One global lock* emulates the chain before 0016 (one advisory "
           "lock for the country, held to commit).",
           "",
           "| Other work in the transaction | Writers | One global lock (before) | "
           "Per-alliance log (after) |",
           "|---|---:|---:|---:|"]
    _fresh(app)
    ids = _alliances(app, max(writers))
    for lock in (True, False):  # warm the pool, the compiled statements and the heads up
        writes_per_second(app, ids, max(writers), 1, 0, global_lock=lock)
    for work in works:
        for w in writers:
            before = writes_per_second(app, ids, w, args.duration, work, global_lock=True)
            after = writes_per_second(app, ids, w, args.duration, work, global_lock=False)
            out.append(f"| {work:g} ms | {w} | {before:,.0f}/s | {after:,.0f}/s |")
            print(out[-1], flush=True)
    _fresh(app)
    made = generate_log(app, args.events)
    with app.app_context():
        began = time.perf_counter()
        findings = audit.verify()
        took = time.perf_counter() - began
    assert findings == [], findings[:3]
    out += ["", "### Verifying the audit logs", "",
            f"{args.events:,} events over 300 alliance logs, each with a signed checkpoint "
            f"(generated in {made:.1f} s): `audit.verify()` (every digest, keyed hash, link, "
            f"head and checkpoint root) took **{took:.1f} s** "
            f"({args.events / took:,.0f} events/s).", ""]
    print("\n".join(out[-3:]), flush=True)
    text_out = "\n".join(out) + "\n"
    if args.output:
        with args.output.open("a") as fh:
            fh.write("\n" + text_out)
    else:
        print(text_out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
