"""Synthetic national-scale data, inserted in bulk with SQLAlchemy Core (executemany).

At ``--scale 1``: 300 alliances, 25,000 schools, 10,000 system leaders, 100,000 deployments
(and 114,285 requests: one in eight still open), an action plan per deployment with 3 outcomes
and 10 actions (1,000,000 action rows), and a headteacher per school. Every count scales with
``--scale``; the number of alliances stops growing at 300, so at ``--scale 10`` each alliance
holds ten times the data.

Alliance 1 is the benchmark alliance: its first users (``bench-<role>@bench.example.org``,
password ``BENCH_PASSWORD``) are the ones the query counts and the load test sign in as, and
they get a fixed share (1 %, and at least 60) of all requests and deployments, so their pages
grow with the scale.

    python -m bench.generate --scale 0.1 --database-url sqlite:///bench/data/bench.db
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, text

from portal import create_app
from portal.extensions import db
from portal.models import (
    Action,
    ActionPlan,
    Alliance,
    Board,
    Deployment,
    DeploymentSchool,
    LeaderProfile,
    LocalAuthority,
    Notification,
    Outcome,
    RequestSchool,
    School,
    SchoolNetwork,
    Signature,
    Specialism,
    SupportRequest,
    User,
    leader_specialism,
)

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
BENCH_PASSWORD = "bench-Portal-2026"
BENCH_ROLES = ("admin", "director", "headteacher", "sle", "home_school", "board")
BASE = {"schools": 25_000, "leaders": 10_000, "deployments": 100_000, "alliances": 300}
OUTCOMES_PER_PLAN = 3
ACTIONS_PER_PLAN = 10
CHUNK = 10_000
DEPLOYMENT_STATUSES = ("proposed", "agreement", "active", "active", "evaluation", "completed",
                       "completed", "declined", "ended_early", "cancelled")
REQUEST_STATUS_FOR = {"proposed": "matched", "declined": "matching"}
OPEN_REQUEST_STATUSES = ("submitted", "submitted", "more_info", "matching", "draft")
PHASES = ("primary", "primary", "primary", "secondary", "special", "early_years")


def bench_email(role: str) -> str:
    return f"bench-{role}@bench.example.org"


def sizes(scale: float) -> dict[str, int]:
    n = {k: max(1, round(v * scale)) for k, v in BASE.items()}
    n["alliances"] = max(2, min(BASE["alliances"], n["alliances"]))
    n["schools"] = max(n["schools"], 3 * n["alliances"])
    n["leaders"] = max(n["leaders"], 2 * n["alliances"])
    # one request in eight is still open (no deployment yet), so 8/7 requests per deployment
    n["requests"] = max(n["deployments"] * 8 // 7, 40)
    return n


def default_url(scale: float) -> str:
    DATA.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DATA / f'bench-{scale:g}.db'}"


def absolute(url: str) -> str:
    """Flask-SQLAlchemy would put a relative SQLite path under instance/; we mean the cwd."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        return "sqlite:///" + str(Path(url[len("sqlite:///"):]).resolve())
    return url


def make_app(url: str, **extra):
    url = absolute(url)
    config = {"PORTAL_ENV": "testing", "SECRET_KEY": "bench-only-secret",
              "SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False}
    config.update(extra)
    if url.startswith("postgresql://"):
        config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + url[len("postgresql://"):]
    return create_app(config)


def _insert(conn, table, rows: list[dict]) -> None:
    for i in range(0, len(rows), CHUNK):
        conn.execute(table.insert(), rows[i:i + CHUNK])


def _reset_schema() -> None:
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    else:
        db.drop_all()
    db.create_all()


def _fix_sequences(conn) -> None:
    if conn.dialect.name != "postgresql":
        return
    for table in db.metadata.sorted_tables:
        if "id" in table.c and table.c.id.primary_key:
            conn.execute(text(
                f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "  # noqa: S608
                f"COALESCE((SELECT max(id) FROM \"{table.name}\"), 0) + 1, false)"
            ))


AGREED = ("active", "evaluation", "completed", "ended_early")


def _milestones(status: str, proposed: datetime, n: int) -> dict[str, datetime | None]:
    """When a deployment in ``status`` was confirmed, began, was first contacted and closed, as
    the workflow stamps them: confirmed a day after the proposal, active two days later, first
    contact on the third day for nine in ten (the tenth still waits: the "Waiting for first
    contact" lists and the 7-day clocks have rows to show), closed when finished."""
    confirmed = active = contacted = closed = None
    if status in ("agreement", *AGREED):
        confirmed = proposed + timedelta(days=1)
        contacted = None if n % 10 == 0 else confirmed + timedelta(days=3)
    if status in AGREED:
        active = confirmed + timedelta(days=2) if confirmed else None
    if status in ("completed", "ended_early"):
        closed = proposed + timedelta(days=60)
    return {"confirmed_at": confirmed, "active_at": active, "first_contact_at": contacted,
            "closed_at": closed}


def _agreements(bench: dict[str, int], log) -> int:
    """Agreements for the bench alliance's deployments past the proposal, drafted by the real
    domain code (so the agreement page reads what it would in use); those whose work began are
    signed by every party. Other alliances get none: their pages are not measured, and the
    bench alliance's lookups go by ``deployment_id``."""
    from portal.domain import agreements, signing

    started = time.perf_counter()
    alliance_id = db.session.get(User, bench["director"]).alliance_id
    made = 0
    for d in db.session.scalars(
            select(Deployment).where(Deployment.alliance_id == alliance_id,
                                     Deployment.status.in_(("agreement", *AGREED)))
            .order_by(Deployment.id)):
        agreement = agreements.draft(d, None)
        made += 1
        if d.status in AGREED:
            for slot in agreements.slots(d, None):
                who = d.leader_id if slot.kind == "leader" else bench["director"]
                db.session.add(Signature(
                    agreement=agreement, user_id=who, capacity=slot.capacity, party=slot.party,
                    school_id=slot.school.id if slot.school else None,
                    typed_name="Bench Signer", consent_text=signing.consent_statement(
                        "Bench Signer", slot.capacity, d.reference, agreement.version,
                        agreement.content_hash),
                    content_hash=agreement.content_hash, signed_at=d.proposed_at))
            agreement.status = "signed"
            agreement.signed_at = d.proposed_at
        if made % 500 == 0:
            db.session.commit()
    db.session.commit()
    log(f"  {made} agreements in {time.perf_counter() - started:.1f}s")
    return made


def _invoices(bench: dict[str, int], log) -> int:
    """Invoices for the bench alliance's finished deployments, raised by the real domain code
    at the alliance's rate card (the demo's, for its charging model), two in three sent and
    one in three of those part paid, so Money, an invoice page and the finance exports read
    what they would in use. Other alliances get none, as with agreements."""
    from datetime import date

    from portal.demo import _rate_card
    from portal.domain import finance
    from portal.models import Alliance

    started = time.perf_counter()
    admin = db.session.get_one(User, bench["admin"])
    alliance = db.session.get_one(Alliance, admin.alliance_id)
    db.session.add(_rate_card(alliance))
    db.session.flush()
    raised = 0
    finished = db.session.scalars(
        select(Deployment).where(Deployment.alliance_id == alliance.id,
                                 Deployment.status.in_(("completed", "ended_early")))
        .order_by(Deployment.id)).all()
    for i, d in enumerate(finished):
        for inv in finance.raise_invoices(d, None, today=date(2026, 11, 2)):
            raised += 1
            if i % 3:
                finance.mark_sent(inv, admin)
            if i % 3 == 2 and inv.balance_pence > 1:
                finance.record_payment(inv, inv.balance_pence // 2, admin,
                                       received_on=date(2026, 11, 16), reference="BACS")
        if i % 100 == 99:
            db.session.commit()
    db.session.commit()
    log(f"  {raised} invoices in {time.perf_counter() - started:.1f}s")
    return raised


def generate(url: str, scale: float, log=print) -> dict[str, int]:
    """Rebuild the schema at ``url`` and fill it; return the row counts."""
    n = sizes(scale)
    app = make_app(url)
    started = time.perf_counter()
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    today = now.date()
    hasher = User()
    hasher.set_password(BENCH_PASSWORD)
    pw = hasher.password_hash
    counts: dict[str, int] = {}

    with app.app_context():
        _reset_schema()
        with db.engine.begin() as conn:
            def put(model_or_table, rows):
                table = getattr(model_or_table, "__table__", model_or_table)
                _insert(conn, table, rows)
                counts[table.name] = counts.get(table.name, 0) + len(rows)

            put(Specialism, [{"id": i + 1, "code": f"spec{i}", "name": f"Specialism {i}"}
                             for i in range(17)])
            put(LocalAuthority, [{"id": i + 1, "name": f"Authority {i}", "code": f"{800 + i}"}
                                 for i in range(150)])
            alliances = n["alliances"]
            put(Alliance, [{"id": a, "name": f"Alliance {a} Teaching School Network",
                            "short_name": f"TSN{a}", "charging_model":
                            "east_sussex" if a % 5 == 0 else "sefton", "email":
                            f"office@tsn{a}.example.org", "created_at": now}
                           for a in range(1, alliances + 1)])
            put(Board, [{"id": a, "alliance_id": a, "name": f"TSN{a} Primary Board",
                         "phase": "primary", "budget_pence": 2_000_000}
                        for a in range(1, alliances + 1)])

            schools = n["schools"]
            school_alliance = {s: 1 + (s - 1) % alliances for s in range(1, schools + 1)}
            put(School, [{"id": s, "urn": str(100000 + s), "name": f"School {s} Primary",
                          "phase": PHASES[s % len(PHASES)], "postcode": f"AB{s % 99} 1CD",
                          "local_authority_id": 1 + s % 150, "alliance_id": school_alliance[s],
                          "eip_id": None} for s in range(1, schools + 1)])
            # every school in its home network, and one in 50 in the next network too
            put(SchoolNetwork, [{"school_id": s, "alliance_id": school_alliance[s]}
                                for s in range(1, schools + 1)]
                + [{"school_id": s, "alliance_id": 1 + school_alliance[s] % alliances}
                   for s in range(1, schools + 1) if s % 50 == 0 and alliances > 1])

            users: list[dict] = []
            uid = 0

            def user(role, alliance, school=None, board=None, email=None, name=None):
                nonlocal uid
                uid += 1
                users.append({"id": uid, "email": email or f"{role}{uid}@bench.example.org",
                              "name": name or f"{role.title()} {uid}", "job_title": "",
                              "password_hash": pw, "role": role, "school_id": school,
                              "alliance_id": alliance, "board_id": board, "active": True,
                              "session_version": 1, "created_at": now})
                return uid

            bench = {}
            # alliance 1's bench users: school 1 receives support, school 1 + alliances is home
            home_school = 1 + alliances
            bench["admin"] = user("admin", 1, email=bench_email("admin"), name="Bench Admin")
            bench["director"] = user("director", 1, email=bench_email("director"),
                                     name="Bench Director")
            bench["headteacher"] = user("headteacher", 1, 1, email=bench_email("headteacher"),
                                        name="Bench Head")
            bench["home_school"] = user("home_school", 1, home_school,
                                        email=bench_email("home_school"), name="Bench Home Head")
            bench["board"] = user("board", 1, board=1, email=bench_email("board"),
                                  name="Bench Board Member")
            for a in range(2, alliances + 1):
                user("admin", a)
                user("director", a)
            for s in range(2, schools + 1):
                user("headteacher", school_alliance[s], s)

            leaders: list[int] = []
            profiles: list[dict] = []
            links: list[dict] = []
            for i in range(n["leaders"]):
                home = home_school if i == 0 else 1 + (i * 7) % schools
                a = school_alliance[home]
                lid = user("sle", a, home, email=bench_email("sle") if i == 0 else None,
                           name="Bench Leader" if i == 0 else None)
                bench.setdefault("sle", lid)
                leaders.append(lid)
                profiles.append({"id": i + 1, "user_id": lid, "alliance_id": a,
                                 "home_school_id": home, "designation":
                                 ("sle", "lle", "nle", "non_sle", "slt")[i % 5],
                                 "phases": "primary,secondary", "standards_mask": 0b101101,
                                 "bio": "Experienced system leader.", "capacity_days": 10 + i % 20,
                                 "accepting": True, "updated_at": now})
                for k in range(2):
                    links.append({"profile_id": i + 1, "specialism_id": 1 + (i + k * 5) % 17})
            put(User, users)
            put(LeaderProfile, profiles)
            put(leader_specialism, links)
            leader_home = {p["user_id"]: p["home_school_id"] for p in profiles}
            leader_alliance = {p["user_id"]: p["alliance_id"] for p in profiles}
            by_alliance: dict[int, list[int]] = {}
            for lid in leaders:
                by_alliance.setdefault(leader_alliance[lid], []).append(lid)
            heads = {u["school_id"]: u["id"] for u in users if u["role"] == "headteacher"}
            log(f"  base rows in {time.perf_counter() - started:.1f}s")

            requests, request_schools, deployments, deployment_schools = [], [], [], []
            plans, outcomes, actions = [], [], []
            outcome_id = action_id = dep_id = 0
            for r in range(1, n["requests"] + 1):
                # 1 % of everything (and the first 60) lands on the bench users, so even the
                # smallest data set fills two pages of every list they see
                featured = r % 100 == 1 or r <= 60
                school = 1 if featured else 1 + (r * 13) % schools
                a = school_alliance[school]
                status = DEPLOYMENT_STATUSES[(r * 7 + r // 100) % len(DEPLOYMENT_STATUSES)]
                has_deployment = r % 8 != 0
                submitted = now - timedelta(hours=1 + (r * 37) % 5000)
                req_status = (REQUEST_STATUS_FOR.get(status, "matched") if has_deployment
                              else OPEN_REQUEST_STATUSES[r % len(OPEN_REQUEST_STATUSES)])
                board = a if (featured or r % 10 == 0) else None
                requests.append({
                    "id": r, "reference": f"R-B-{r:07d}", "alliance_id": a,
                    "requested_by_id": heads[school],
                    "board_id": board,
                    "status": req_status, "kind": "sle_deployment", "route": "school",
                    "title": f"Support request {r}", "standards_mask": 0b110,
                    "phase": "primary", "specialism_id": 1 + r % 17,
                    "staff_involved": "Two class teachers.", "priorities": "Reasoning.",
                    "desired_outcomes": "Better reasoning.", "measures_of_success": "Data.",
                    "start_date": today + timedelta(days=7), "end_date": today + timedelta(90),
                    "half_days_wanted": 8, "triage_note": "",
                    "created_at": submitted - timedelta(hours=1),
                    "submitted_at": None if req_status == "draft" else submitted,
                    "matched_at": submitted + timedelta(hours=20) if has_deployment else None,
                    "version": 1,
                })
                request_schools.append({"request_id": r, "school_id": school, "position": 0,
                                        "requested_at": submitted - timedelta(hours=1),
                                        "status": req_status})
                if not has_deployment:
                    continue
                pool = by_alliance.get(a) or leaders
                leader = leaders[0] if featured else pool[r % len(pool)]
                dep_id += 1
                d = dep_id
                deployments.append({
                    "id": d, "reference": f"D-B-{d:07d}", "request_id": r, "alliance_id": a,
                    "leader_id": leader, "home_school_id": leader_home[leader],
                    "commissioning_leader_id": None, "proposed_by_id": None,
                    "rate_card_id": None, "status": status, "designation": "sle",
                    "half_days_agreed": 8, "half_days_delivered": r % 9,
                    "targeted": False, "concession_day_pence": 0,
                    "proposed_at": submitted + timedelta(hours=20),
                    # the ORM's copies of the request's date and Board
                    "request_created_at": submitted - timedelta(hours=1), "request_board_id": board,
                    "request_status": req_status,
                    **_milestones(status, submitted + timedelta(hours=20), r),
                    "end_reason": "", "last_day_delivered": None,
                    "version": 1,
                })
                # the copy the ORM writes with every deployment (DeploymentSchool)
                deployment_schools.append({"deployment_id": d, "school_id": school,
                                           "proposed_at": submitted + timedelta(hours=20),
                                           "status": status})
                plans.append({"id": d, "deployment_id": d, "next_steps": "", "notes": "",
                              "revision": 1, "version": 1, "updated_at": now})
                first_outcome = outcome_id + 1
                for o in range(OUTCOMES_PER_PLAN):
                    outcome_id += 1
                    outcomes.append({"id": outcome_id, "plan_id": d, "position": o,
                                     "text": f"Outcome {o + 1}", "standard": "TS2",
                                     "version": 1})
                for k in range(ACTIONS_PER_PLAN):
                    action_id += 1
                    actions.append({
                        "id": action_id, "plan_id": d,
                        "outcome_id": first_outcome + k % OUTCOMES_PER_PLAN, "position": k,
                        "description": f"Action {k + 1}", "owner": "Class teacher",
                        "due_date": today + timedelta(days=7 * k),
                        "status": ("not_started", "on_track", "at_risk", "done")[k % 4],
                        "success_criteria": "", "between_visits": k % 3 == 0, "version": 1,
                        "updated_at": now,
                    })
                if len(actions) >= 5 * CHUNK:
                    put(SupportRequest, requests)
                    put(RequestSchool, request_schools)
                    put(Deployment, deployments)
                    put(DeploymentSchool, deployment_schools)
                    put(ActionPlan, plans)
                    put(Outcome, outcomes)
                    put(Action, actions)
                    requests, request_schools, deployments, deployment_schools = [], [], [], []
                    plans, outcomes, actions = [], [], []
            put(SupportRequest, requests)
            put(RequestSchool, request_schools)
            put(Deployment, deployments)
            put(DeploymentSchool, deployment_schools)
            put(ActionPlan, plans)
            put(Outcome, outcomes)
            put(Action, actions)
            put(Notification, [{"user_id": uid_, "message": f"Something happened ({i})",
                                "url": "/", "at": now - timedelta(minutes=i), "read_at": None}
                               for uid_ in bench.values() for i in range(40)])
            _fix_sequences(conn)
        counts["agreements"] = _agreements(bench, log)
        counts["invoices"] = _invoices(bench, log)
        if db.engine.dialect.name == "postgresql":
            # VACUUM too, as autovacuum would have by now: it sets the visibility map that
            # index-only scans need (after a bulk load without it they visit every heap row)
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(text("VACUUM ANALYZE"))
        else:
            with db.engine.begin() as c:
                c.execute(text("ANALYZE"))
        db.engine.dispose()
    counts["seconds"] = round(time.perf_counter() - started, 1)
    return counts


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0,
                        help="1 = national scale (1,000,000 actions); 0.1, 10 ...")
    parser.add_argument("--database-url", default=None,
                        help="default: sqlite:///bench/data/bench-<scale>.db")
    args = parser.parse_args(argv)
    url = args.database_url or default_url(args.scale)
    print(f"Generating scale {args.scale:g} into {url}")
    counts = generate(url, args.scale)
    for table, count in counts.items():
        print(f"  {table:<20} {count:>10,}")


if __name__ == "__main__":
    main()
