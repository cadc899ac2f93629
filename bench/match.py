"""The match page's ranking at 333 system leaders in one alliance (10x national scale).

    python -m bench.match [--database-url URL] [--leaders 333] [--runs 50] [--profile]

Builds one alliance (in bulk, SQLAlchemy Core) with ``--leaders`` system leaders with realistic
profiles: every designation, one to three phases, three to six Teachers' Standards, one to
three of 17 specialisms, 5-30 days a year (some with fewer days approved for release), one in
three accepting no work, up to three unavailable ranges each (half of them inside the request's
time frame), and two live deployments (plus one completed) each; then a Board-routed request
for three receiving schools in two local authorities. It times ``brokering.ranking`` (what the
match page calls: the request's need, the candidates, the ranking and the commission rule),
in a fresh session each run, the median of ``--runs`` after two warm-up runs, and prints the
SQL query count (without BEGIN/COMMIT), the median wall time and CPU time and the p90 in ms,
how many leaders were ranked and excluded, and the load average (on a shared machine the wall
time is the CPU time stretched by the load; the CPU time is the ranking's own cost).
``--profile`` prints the top of a cProfile of 20 runs.

The default URL is ``sqlite:///bench/data/match.db``. **With a PostgreSQL URL it drops and
recreates the public schema of that database**: give it one of its own.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import time
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import event

from bench.generate import DATA, _fix_sequences, _insert, _reset_schema, make_app
from portal.domain import brokering
from portal.extensions import db
from portal.models import (
    Alliance,
    Deployment,
    LeaderProfile,
    LocalAuthority,
    RequestSchool,
    School,
    Specialism,
    SupportRequest,
    Unavailability,
    User,
    leader_specialism,
)

DESIGNATIONS = ("sle", "sle", "sle", "nle", "lle", "slt", "non_sle")
PHASES = ("primary", "secondary", "special", "all_through", "early_years", "post_16")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
START, END = date(2027, 1, 11), date(2027, 3, 26)


def build(url: str, leaders: int = 333) -> int:
    """Rebuild the schema at ``url`` with one alliance of ``leaders`` leaders; the request id."""
    app = make_app(url)
    with app.app_context():
        _reset_schema()
        with db.engine.begin() as conn:
            def put(model, rows):
                _insert(conn, getattr(model, "__table__", model), rows)

            put(Specialism, [{"id": i + 1, "code": f"spec{i}", "name": f"Specialism {i}"}
                             for i in range(17)])
            put(LocalAuthority, [{"id": i + 1, "name": f"Authority {i}", "code": f"{800 + i}"}
                                 for i in range(12)])
            put(Alliance, [{"id": 1, "name": "Match Bench Teaching School Network",
                            "short_name": "MBN", "charging_model": "sefton",
                            "email": "office@mbn.example.org", "created_at": NOW}])
            schools = max(400, leaders + 50)
            put(School, [{"id": s, "urn": str(200000 + s), "name": f"School {s}",
                          "phase": PHASES[s % 6], "postcode": f"MB{s % 99} 1CD",
                          "local_authority_id": 1 + s % 12, "alliance_id": 1, "eip_id": None}
                         for s in range(1, schools + 1)])
            users = [{"id": 1, "email": "head@mbn.example.org", "name": "Bench Head",
                      "job_title": "", "password_hash": "x", "role": "headteacher",
                      "school_id": 1, "alliance_id": 1, "board_id": None, "active": True,
                      "session_version": 1, "created_at": NOW}]
            profiles, links, away = [], [], []
            for i in range(leaders):
                uid = i + 2
                users.append({"id": uid, "email": f"leader{i}@mbn.example.org",
                              "name": f"Leader {i:03d} {'Smith' if i % 3 else 'Jones'}",
                              "job_title": "", "password_hash": "x", "role": "sle",
                              "school_id": 4 + i, "alliance_id": 1, "board_id": None,
                              "active": i % 29 != 0, "session_version": 1, "created_at": NOW})
                phases = ",".join(PHASES[(i + k * 2) % 6] for k in range(1 + i % 3))
                capacity = 5 + (i * 7) % 26
                profiles.append({
                    "id": i + 1, "user_id": uid, "alliance_id": 1, "home_school_id": 4 + i,
                    "designation": DESIGNATIONS[i % len(DESIGNATIONS)], "phases": phases,
                    "standards_mask": sum(1 << ((i + k * 3) % 9) for k in range(3 + i % 4)),
                    "bio": "Twenty years in the classroom.", "capacity_days": capacity,
                    "autumn_days": 0, "spring_days": 0, "summer_days": 0,
                    "release_approved_days": capacity - 3 if i % 4 == 0 else None,
                    "accepting": i % 3 != 0, "updated_at": NOW, "version": 1})
                links += [{"profile_id": i + 1, "specialism_id": 1 + (i + k * 5) % 17}
                          for k in range(1 + i % 3)]
                for k in range(i % 4):
                    first = START + timedelta(days=(i * 11 + k * 40) % 150 - 40)
                    away.append({"profile_id": i + 1, "start": first,
                                 "end": first + timedelta(days=2 + (i + k) % 9), "note": ""})
            requests, request_schools, deployments = [], [], []
            for i in range(3 * leaders):
                r = i + 2
                requests.append(_request(r, status="matched"))
                request_schools.append({"request_id": r, "school_id": 1 + r % 3,
                                        "position": 0, **_copies("matched")})
                deployments.append({
                    "id": i + 1, "reference": f"D-M-{i + 1:06d}", "request_id": r,
                    "alliance_id": 1, "leader_id": 2 + i % leaders,
                    "home_school_id": 4 + i % leaders, "commissioning_leader_id": None,
                    "proposed_by_id": None, "rate_card_id": None,
                    "status": ("proposed", "active", "completed")[i // leaders % 3],
                    "designation": "sle", "half_days_agreed": 6 + i % 7,
                    "half_days_delivered": i % 5, "targeted": False,
                    "concession_day_pence": 0, "proposed_at": NOW - timedelta(days=i % 90),
                    "confirmed_at": None, "active_at": None, "first_contact_at": None,
                    "closed_at": None, "end_reason": "", "last_day_delivered": None,
                    # the ORM's copies of the request's date, Board and status
                    "request_created_at": REQUESTED, "request_board_id": None,
                    "request_status": "matched", "version": 1})
            requests.append(_request(1, status="matching"))
            request_schools += [{"request_id": 1, "school_id": s, "position": k,
                                 **_copies("matching")} for k, s in enumerate((1, 2, 14))]
            put(User, users)
            put(LeaderProfile, profiles)
            put(leader_specialism, links)
            put(Unavailability, away)
            put(SupportRequest, requests)
            put(RequestSchool, request_schools)
            put(Deployment, deployments)
            _fix_sequences(conn)
    return 1


REQUESTED = NOW - timedelta(hours=3)


def _copies(status: str) -> dict:
    """What the ORM writes on a request_school row from its request (bulk inserts bypass it)."""
    return {"requested_at": REQUESTED, "status": status}


def _request(r: int, *, status: str) -> dict:
    return {"id": r, "reference": f"R-M-{r:06d}", "alliance_id": 1, "requested_by_id": 1,
            "board_id": None, "status": status, "kind": "sle_deployment", "route": "school",
            "title": f"Support request {r}", "standards_mask": 0b100110,
            "phase": "primary", "specialism_id": 3, "staff_involved": "Two class teachers.",
            "priorities": "Reasoning.", "desired_outcomes": "Better reasoning.",
            "measures_of_success": "Data.", "start_date": START, "end_date": END,
            "half_days_wanted": 8, "triage_note": "", "created_at": REQUESTED,
            "submitted_at": NOW - timedelta(hours=2),
            "matched_at": NOW - timedelta(hours=1) if status == "matched" else None,
            "version": 1}


NOT_COUNTED = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA")


def _once(request_id: int) -> tuple[brokering.Ranking, float, float, int]:
    """One ranking as the match page asks for it, in a fresh session (nothing answered from
    the identity map): the request, its need and the ranking. Wall and CPU ms, and queries."""
    db.session.remove()
    queries = []

    def count(_conn, _cursor, statement, *_a):
        if not statement.lstrip().upper().startswith(NOT_COUNTED):
            queries.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        started, cpu = time.perf_counter(), time.process_time()
        req = db.session.get(SupportRequest, request_id)
        result = brokering.ranking(req)
        elapsed = (time.perf_counter() - started) * 1000
        cpu_ms = (time.process_time() - cpu) * 1000
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return result, elapsed, cpu_ms, len(queries)


def measure(url: str, request_id: int, runs: int, profile: bool = False) -> dict:
    app = make_app(url)
    with app.app_context(), app.test_request_context("/"):
        for _ in range(2):
            _once(request_id)
        times, cpu, counts = [], [], set()
        for _ in range(runs):
            result, ms, cpu_ms, n = _once(request_id)
            times.append(ms)
            cpu.append(cpu_ms)
            counts.add(n)
        if profile:
            prof = cProfile.Profile()
            prof.enable()
            for _ in range(20):
                _once(request_id)
            prof.disable()
            pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
        times.sort()
        return {"database": db.engine.dialect.name, "queries": sorted(counts),
                "median_ms": statistics.median(times), "cpu_ms": statistics.median(cpu),
                "p90_ms": times[int(0.9 * (len(times) - 1))],
                "ranked": len(result.matches), "excluded": len(result.exclusions)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--leaders", type=int, default=333)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    if args.database_url is None:
        DATA.mkdir(parents=True, exist_ok=True)
        args.database_url = f"sqlite:///{DATA / 'match.db'}"
    request_id = build(args.database_url, args.leaders)
    r = measure(args.database_url, request_id, args.runs, args.profile)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{r['database']}: {args.leaders} leaders, ranking in {r['queries']} queries, "
          f"median {r['median_ms']:.1f} ms (CPU {r['cpu_ms']:.1f} ms), p90 {r['p90_ms']:.1f} ms "
          f"over {args.runs} runs ({r['ranked']} ranked, {r['excluded']} excluded; "
          f"load average {load:.2f})")


if __name__ == "__main__":
    main()
