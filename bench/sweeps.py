"""How long each reminder sweep takes, and how many SQL statements it runs, at two scales.

    python -m bench.sweeps --small 0.1 --large 1 [--postgresql-url URL] [--reuse]

For each scale: the synthetic data of ``bench/generate.py``, then (in bulk SQL) what the sweeps
look at: confirmations, open agreements, delivered days, forwarded evaluations and sent invoices,
so every kind has objects due. Each sweep runs twice at the generator's ``now``: the first run
issues the reminders, the second must issue none (idempotent). Writes
``bench/results-sweeps.md`` and exits 1 if a sweep's query count differs between the scales by
more than its bulk INSERT pages (1,000 rows each, ``domain/notify.PAGE``).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import event, func, select, text

from .generate import ROOT, default_url, generate, make_app

OUTPUT = ROOT / "bench" / "results-sweeps.md"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # the generator's "now"


def _prepare(url: str) -> dict[str, int]:
    """Give the generated deployments what each reminder kind reads, set-based."""
    from portal.extensions import db
    from portal.models import Agreement, Deployment, Invoice

    app = make_app(url)
    with app.app_context():
        now = NOW
        with db.engine.begin() as conn:
            conn.execute(Deployment.__table__.update()
                         .where(Deployment.status.in_(("agreement", "active", "evaluation",
                                                       "completed")))
                         .values(confirmed_at=now - timedelta(days=8)))
            # a third of the active ones have used their agreed days 11 days ago
            conn.execute(Deployment.__table__.update()
                         .where(Deployment.status == "active", Deployment.id % 3 == 0)
                         .values(half_days_delivered=Deployment.half_days_agreed,
                                 last_day_delivered=(now - timedelta(days=11)).date()))
            dialect = conn.dialect.name
            token = ("'t' || deployment.id" if dialect == "postgresql"
                     else "'t' || deployment.id")
            conn.execute(text(
                "INSERT INTO agreement (deployment_id, version, status, content, content_hash, "
                "verify_token, void_reason, created_at, lock_version) "
                f"SELECT id, 1, 'signing', '{{}}', '', {token}, '', :at, 1 FROM deployment "
                "WHERE status = 'agreement'"), {"at": now - timedelta(days=4)})
            conn.execute(text(
                "INSERT INTO invoice (number, alliance_id, deployment_id, payer, "
                "payer_school_id, status, issued_on, due_on, total_pence, paid_pence, "
                "credited_pence, note, created_at, version, sequence, academic_year, sent_at) "
                "SELECT 'INV-B-' || d.id, d.alliance_id, d.id, 'school', rs.school_id, 'sent', "
                ":issued, :due, 198000, 0, 0, '', :at, 1, d.id, 2026, :at "
                "FROM deployment d JOIN request_school rs ON rs.request_id = d.request_id "
                "WHERE d.status = 'completed'"),
                {"issued": (now - timedelta(days=44)).date(),
                 "due": (now - timedelta(days=14)).date(), "at": now - timedelta(days=44)})
        with db.engine.connect() as conn:
            counts = {
                "agreements": conn.scalar(select(func.count()).select_from(Agreement)) or 0,
                "invoices": conn.scalar(select(func.count()).select_from(Invoice)) or 0,
            }
        db.engine.dispose()
    return counts


def _run_sweeps(url: str) -> list[tuple[str, int, int, float, int, float]]:
    """(kind, issued, queries, seconds, queries of the second run, its seconds) per sweep."""
    from portal.domain import reminders
    from portal.extensions import db
    from portal.unit_of_work import commit_or_conflict

    app = make_app(url)
    out = []
    with app.app_context():
        db.session.execute(text("DELETE FROM reminder_sent"))
        db.session.commit()
        for kind, sweep in reminders.SWEEPS.items():
            now = NOW + timedelta(hours=1) if kind != "digest" else NOW + timedelta(hours=1)
            row: list = [kind]
            for _ in range(2):
                seen = [0]

                def count(*_a, seen=seen, **_k):
                    seen[0] += 1

                event.listen(db.engine, "before_cursor_execute", count)
                started = time.perf_counter()
                issued = sweep(now)
                commit_or_conflict()
                took = time.perf_counter() - started
                event.remove(db.engine, "before_cursor_execute", count)
                row += ([issued] if len(row) == 1 else []) + [seen[0], took]
            out.append((row[0], row[1], row[2], row[3], row[4], row[5]))
        db.session.remove()
        db.engine.dispose()
    return out


def _table(small, large, s_label, l_label) -> str:
    lines = [f"| Sweep | Reminders ({s_label}) | Queries ({s_label}) | s ({s_label}) "
             f"| Reminders ({l_label}) | Queries ({l_label}) | s ({l_label}) "
             f"| Second run: reminders, queries ({l_label}) |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    for a, b in zip(small, large, strict=True):
        lines.append(f"| `{a[0]}` | {a[1]:,} | {a[2]} | {a[3]:.2f} | {b[1]:,} | {b[2]} "
                     f"| {b[3]:.2f} | 0, {b[4]} |")
    return "\n".join(lines)


def _pages(issued: int, statements: int = 3) -> int:
    """Pages beyond the first that ``issued`` rows may take in each bulk INSERT with RETURNING
    (``domain/notify.PAGE`` rows a page): the claims, the notifications, the emails."""
    from portal.domain.notify import PAGE

    return max(0, -(-issued // PAGE) - 1) * statements


def run_backend(name, small_url, large_url, args, out) -> bool:
    results = []
    for scale, url in ((args.small, small_url), (args.large, large_url)):
        if not (args.reuse and url.startswith("sqlite:///")
                and Path(url.removeprefix("sqlite:///")).exists()):
            print(f"[{name}] generating scale {scale:g}")
            generate(url, scale, log=print)
            made = _prepare(url)
            print(f"[{name}]   {made}")
        print(f"[{name}] sweeping scale {scale:g}")
        results.append(_run_sweeps(url))
    small, large = results
    out.append(f"## {name}\n")
    out.append(_table(small, large, f"{args.small:g}", f"{args.large:g}"))
    ok = True
    for a, b in zip(small, large, strict=True):
        allowed = _pages(b[1]) - _pages(a[1])
        again = _pages(b[1], 1) - _pages(a[1], 1)  # the second run only claims
        if b[2] - a[2] > allowed or b[4] - a[4] > again:
            out.append(f"\n**`{a[0]}`: {a[2]} → {b[2]} queries (more than its INSERT pages, "
                       f"{allowed})**")
            ok = False
    out.append("")
    return ok


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=float, default=0.1)
    parser.add_argument("--large", type=float, default=1.0)
    parser.add_argument("--postgresql-url", default=os.environ.get("BENCH_POSTGRESQL_URL"))
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--reuse", action="store_true",
                        help="SQLite: reuse bench/data files generated by an earlier run")
    parser.add_argument("--output", default=str(OUTPUT))
    args = parser.parse_args(argv)
    out = ["# Reminder sweep benchmark\n",
           f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node()}: Python "
           f"{platform.python_version()}, {os.cpu_count()} CPUs, load average at start "
           f"{' / '.join(f'{x:.1f}' for x in os.getloadavg())}.\n",
           f"Command: `python -m bench.sweeps {' '.join(argv or sys.argv[1:])}`\n",
           "Each sweep runs at the generator's moment, once to issue its reminders (each a "
           "`reminder_sent` row, a notification and, for users on immediate emails, an outbox "
           "email, all in one transaction), then again, which issues none. Queries are SQL "
           "statements (BEGIN/COMMIT included). They stay the same whatever the number of "
           "objects, except that a bulk INSERT with RETURNING goes in pages of 1,000 rows.\n"]
    ok = True
    if not args.no_sqlite:
        ok &= run_backend("SQLite", default_url(args.small).replace(".db", "-sweeps.db"),
                          default_url(args.large).replace(".db", "-sweeps.db"), args, out)
    if args.postgresql_url:
        ok &= run_backend("PostgreSQL", args.postgresql_url, args.postgresql_url, args, out)
    Path(args.output).write_text("\n".join(out) + "\n")
    print(f"wrote {args.output}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
