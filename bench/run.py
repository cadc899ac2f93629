"""Run the whole benchmark and write bench/results.md: ``make bench BENCH_ARGS="..."``.

For each database (SQLite, and PostgreSQL when ``--postgresql-url`` is given): generate the
small data set, count queries per page, generate the large data set, count again (any page whose
count changed is an N+1, and the run exits non-zero), then load-test the main pages under
gunicorn next to a bare Flask+Jinja app, on the large data set.

    python -m bench.run --small 0.1 --large 1 \\
        --postgresql-url postgresql://postgres@127.0.0.1:5432/bench
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from . import load, queries
from .generate import DATA, ROOT, generate, sizes

RESULTS = ROOT / "bench" / "results.md"
TABLES = ("school", "user_account", "leader_profile", "support_request", "deployment",
          "outcome", "action")


def _loadavg() -> str:
    try:
        return " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover
        return "n/a"


def _counts_line(counts: dict[str, int]) -> str:
    return ", ".join(f"{t} {counts.get(t, 0):,}" for t in TABLES) + \
        f" (generated in {counts['seconds']} s)"


def run_backend(name: str, small_url: str, large_url: str, args, out: list[str]) -> bool:
    """Returns True when every page's query count is the same at both sizes."""
    print(f"[{name}] generating scale {args.small:g}")
    small_counts = generate(small_url, args.small, log=print)
    print(f"[{name}] counting queries per page (scale {args.small:g})")
    small = queries.count_pages(small_url)
    print(f"[{name}] generating scale {args.large:g}")
    large_counts = generate(large_url, args.large, log=print)
    print(f"[{name}] counting queries per page (scale {args.large:g})")
    large = queries.count_pages(large_url)
    diffs = queries.compare(small, large)

    out.append(f"## {name}\n")
    out.append(f"- scale {args.small:g}: {_counts_line(small_counts)}")
    out.append(f"- scale {args.large:g}: {_counts_line(large_counts)}\n")
    out.append(f"### SQL queries per page, scale {args.small:g} and {args.large:g}\n")
    out.append("Signed in as the benchmark alliance's users. The ms column is one in-process "
               "request (cold caches for the first page of each role), not a load figure.\n")
    out.append(queries.table(small, large, f"{args.small:g}", f"{args.large:g}"))
    if diffs:
        out.append("\n**Query counts that differ between the sizes (N+1):**\n")
        out.extend(f"- {role} `{page}`: {a} → {b}" for role, page, a, b in diffs)
    else:
        out.append(f"\nEvery page issues the same number of queries at both sizes "
                   f"({len(large)} pages checked).")

    if not args.no_load:
        print(f"[{name}] load test on scale {args.large:g} "
              f"({args.duration:g} s a page, {args.concurrency} users)")
        before = _loadavg()
        results = load.run(large_url, duration=args.duration, concurrency=args.concurrency,
                           workers=args.workers)
        out.append(f"\n### Load: gunicorn, {args.workers} sync workers, {args.concurrency} "
                   f"concurrent users, {args.duration:g} s a page, scale {args.large:g}\n")
        out.append(load.markdown(results))
        out.append(f"\nLoad average before / after: {before} → {_loadavg()}.\n")
    out.append("")
    return not diffs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=float, default=0.1, help="scale of the small data set")
    parser.add_argument("--large", type=float, default=1.0, help="scale of the large data set")
    parser.add_argument("--postgresql-url", default=os.environ.get("BENCH_POSTGRESQL_URL"),
                        help="a database the benchmark may wipe (default $BENCH_POSTGRESQL_URL)")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-load", action="store_true", help="query counts only")
    parser.add_argument("--duration", type=float, default=10, help="seconds of load per page")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    DATA.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    n = sizes(args.large)
    out = [
        "# Benchmark results\n",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node() or 'this machine'}: "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, load average at start "
        f"{_loadavg()}.\n",
        f"Command: `python -m bench.run {' '.join(argv if argv is not None else sys.argv[1:])}`"
        "\n",
        f"Scales: small {args.small:g}, large {args.large:g} (scale 1 = national: 25,000 "
        "schools, 10,000 system leaders, 100,000 deployments, 1,000,000 actions, "
        f"300 alliances). The large set here has {n['alliances']} alliances.\n",
    ]
    ok = True
    if not args.no_sqlite:
        ok &= run_backend("SQLite", f"sqlite:///{DATA / 'bench-small.db'}",
                          f"sqlite:///{DATA / 'bench-large.db'}", args, out)
    if args.postgresql_url:
        # one database, reused: the small set is counted before the large one replaces it
        ok &= run_backend("PostgreSQL", args.postgresql_url, args.postgresql_url, args, out)
    out.append(f"Total run time {time.perf_counter() - started:.0f} s.")
    args.output.write_text("\n".join(out) + "\n")
    print(f"Wrote {args.output}")
    if not ok:
        print("Some pages' query counts grow with the data (see the results).", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
