"""The in-process cost ratio of every main page against the bare Flask+Jinja floor (issue 20).

For each role and page (home, lists, detail pages, plan page, agreement, match, Money, reports,
the htmx partials, a plan-row save and the plan's poll) the page and the floor
(``bench/bare.py``, rendering 25 deployment rows from memory) are requested in the same
process, *alternately*, ``--rounds`` times; the cost ratio is the floor's median time divided
by the page's (1.0: as cheap as the floor; 0.5: twice its cost). Alternating means a busy
machine slows both alike, so the ratio holds where absolute times do not. Each page's SQL
statements (without BEGIN/COMMIT) and response bytes are counted too, with the median time its
statements took in the database driver ("SQL ms", from the statements' recorded durations).

Where a page misses its target, ``--profile-rounds`` more requests run under ``cProfile`` and
its own time is shared out by where the code lives (:data:`AREAS`): the database driver and
server, SQLAlchemy, the templates, Flask and its extensions, the portal's own code. That is the
benchmark's answer to *why*. (A profiler inflates code that makes many small calls, so read the
shares as proportions, not as times.)

Objects are like for like at every size: the newest *active* deployment the user may see, its
plan and first action, the newest *matched* request, the newest invoice the user may see.

    python -m bench.ratio --database-url sqlite:///bench/data/bench-0.1.db [--rounds 30]
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import os
import pstats
import re
import statistics
import time
from dataclasses import dataclass

from flask_sqlalchemy.record_queries import get_recorded_queries
from sqlalchemy import select

from portal.domain import access, sessions
from portal.extensions import db
from portal.models import (
    Action,
    ActionPlan,
    Agreement,
    Deployment,
    Invoice,
    SupportRequest,
    User,
)

from .generate import BENCH_ROLES, bench_email, make_app
from .queries import NOT_COUNTED

HX = {"HX-Request": "true"}


@dataclass
class Ratio:
    role: str
    page: str
    status: int
    queries: int
    bytes: int
    page_ms: float  # median
    floor_ms: float  # median, measured alternately with the page
    sql_ms: float = 0.0  # median time of the page's statements in the driver (with BEGIN/COMMIT)
    areas: dict[str, float] | None = None  # share of the profiled time by area, when profiled

    @property
    def ratio(self) -> float:
        return self.floor_ms / self.page_ms if self.page_ms else 0.0

    @property
    def target(self) -> float:
        return 0.8 if "poll" in self.page else 0.5

    @property
    def missed(self) -> bool:
        return self.status < 400 and self.ratio < self.target


# Where the profiled time of a page goes: the first area whose marker is in a function's file
# (or, for a C function, its name) takes the function's own time.
AREAS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Database", ("/psycopg/", "psycopg_binary", "/sqlite3/", "sqlite3.", "_sqlite3", "socket")),
    ("SQLAlchemy", ("/sqlalchemy/", "flask_sqlalchemy", "sqlalchemy.")),
    ("Templates", ("/jinja2/", "/markupsafe/", "jinja2_fragments", "/templates/", "markupsafe.")),
    ("Flask & extensions", ("/flask/", "/werkzeug/", "flask_login", "flask_wtf", "/wtforms/",
                            "itsdangerous", "/blinker/", "werkzeug.")),
    ("Portal", ("/portal/",)),
)
OTHER = "Python & stdlib"


def _area(func: tuple[str, int, str]) -> str:
    filename, _line, name = func
    where = filename if filename not in ("~", "") else name
    for area, markers in AREAS:
        if any(m in where for m in markers):
            return area
    return OTHER


def profile_areas(request_once, rounds: int) -> dict[str, float]:
    """Run ``request_once`` ``rounds`` times under cProfile and share its own time by area."""
    profiler = cProfile.Profile()
    profiler.enable()
    for n in range(rounds):
        request_once(n)
    profiler.disable()
    totals: dict[str, float] = {}
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    for func, (_cc, _nc, tottime, _ct, _callers) in stats.items():
        area = _area(func)
        totals[area] = totals.get(area, 0.0) + tottime
    whole = sum(totals.values()) or 1.0
    return {area: t / whole for area, t in totals.items()}


def _ids(user: User) -> dict[str, int | None]:
    def newest(model, where, status=None):
        q = select(model.id).where(where)
        if status is not None:
            found = db.session.scalar(q.where(model.status == status)
                                      .order_by(model.id.desc()).limit(1))
            if found is not None:
                return found
        return db.session.scalar(q.order_by(model.id.desc()).limit(1))

    d = newest(Deployment, access.deployments_visible_to(user), "active")
    plan = db.session.scalar(select(ActionPlan).where(ActionPlan.deployment_id == d)) if d else None
    row = db.session.scalar(select(Action.id).where(Action.plan_id == plan.id)
                            .order_by(Action.position, Action.id).limit(1)) if plan else None
    # the agreement page: the same active deployment's (signed) agreement, else the newest
    signed = db.session.scalar(select(Agreement.deployment_id).where(
        Agreement.deployment_id == d).limit(1)) if d else None
    signed = signed or db.session.scalar(
        select(Agreement.deployment_id).join(Deployment, Deployment.id == Agreement.deployment_id)
        .where(access.deployments_visible_to(user))
        .order_by(Agreement.deployment_id.desc()).limit(1))
    return {"deployment": d, "agreement": signed or d,
            "request": newest(SupportRequest, access.requests_visible_to(user),
                                               "matched"),
            "plan": plan.id if plan else None, "revision": plan.revision if plan else None,
            "action": row, "invoice": newest(Invoice, access.invoices_visible_to(user))}


def pages(role: str, ids: dict[str, int | None]) -> list[tuple[str, str, dict | None]]:
    """(label, url, headers) of the main pages and partials this role has."""
    d, r, plan, row, inv = (ids["deployment"], ids["request"], ids["plan"], ids["action"],
                            ids["invoice"])
    out: list[tuple[str, str, dict | None]] = [
        ("home", "/", None), ("requests", "/requests/", None),
        ("deployments", "/deployments/", None), ("notifications", "/notifications/", None),
        ("directory", "/directory/", None),
        ("requests (htmx results)", "/requests/?status=submitted", HX),
        ("deployments (htmx results)", "/deployments/?status=active", HX),
    ]
    if r:
        out.append(("request", f"/requests/{r}", None))
        if role == "admin":
            out.append(("match", f"/requests/{r}/match", None))
    if d:
        out += [("deployment", f"/deployments/{d}", None),
                ("agreement", f"/deployments/{ids['agreement']}/agreement", None)]
    if plan and role in access.PLAN_ROLES:
        out += [("plan", f"/deployments/{d}/plan", None),
                ("plan poll (unchanged)", f"/plans/{plan}/poll?since={ids['revision']}", HX)]
        if row:
            out.append(("plan row (htmx)", f"/plans/action/{row}", HX))
    if role in access.FINANCE_ROLES:
        out.append(("Money", "/finance/", None))
        if inv:
            out.append(("invoice", f"/finance/invoices/{inv}", None))
    if role in access.OVERSEERS:  # the co-ordinator's and director's money pages and export
        out += [("aged debt", "/finance/aged-debt", None),
                ("invoices CSV", "/finance/invoices.csv", None)]
    if role in ("admin", "director", "board"):
        out += [("reports", "/reports/", None), ("report CSV", "/reports/export.csv", None)]
    return out


def _timed(client, method: str, url: str, **kw) -> tuple[float, object, bytes]:
    started = time.perf_counter()
    response = getattr(client, method)(url, **kw)
    body = response.get_data()
    response.close()
    return (time.perf_counter() - started) * 1000, response, body


def _row_form(body: bytes, row_id: int, n: int) -> dict[str, str]:
    version = re.search(rb'data-version="(\d+)"', body)
    return {f"a{row_id}-description": f"Model reasoning talk, take {n}",
            f"a{row_id}-owner": "Class teacher", f"a{row_id}-status": "on_track",
            f"a{row_id}-due_date": "", f"a{row_id}-success_criteria": "",
            f"a{row_id}-outcome_id": "",
            f"a{row_id}-version": version.group(1).decode() if version else "1"}


def _request(app, client, page_url: str, headers: dict | None, saving: bool,
             action: int | None, n: int) -> tuple[float, object, bytes, list]:
    """One request of a page: (ms, response, body, recorded queries). A save posts a real
    change each time, on the version the row last drew."""
    drawn = b""
    if saving:
        with app.app_context():
            _ms, _r, drawn = _timed(client, "get", f"/plans/action/{action}", headers=HX)
    with app.app_context():
        if saving:
            ms, response, body = _timed(client, "post", page_url,
                                        data=_row_form(drawn, action or 0, n), headers=HX)
        else:
            ms, response, body = _timed(client, "get", page_url, headers=headers or {})
        return ms, response, body, get_recorded_queries()


def measure(url: str, *, rounds: int = 30, roles=BENCH_ROLES, profile_rounds: int = 0
            ) -> list[Ratio]:
    """``profile_rounds`` (0: none): profile each page that misses its target that many
    times more, after its timed rounds (:func:`profile_areas`)."""
    from . import bare

    os.environ["DATABASE_URL"] = url
    bare.ROWS[:] = bare.load_rows()
    floor = bare.app.test_client()
    app = make_app(url, SQLALCHEMY_RECORD_QUERIES=True, WTF_CSRF_ENABLED=False)
    out: list[Ratio] = []
    for role in roles:
        with app.app_context():
            user = db.session.scalar(select(User).where(User.email == bench_email(role)))
            if user is None:
                raise SystemExit(f"No {bench_email(role)} in {url}: run bench.generate first.")
            ids, uid, sid = _ids(user), user.get_id(), sessions.start(user)
            db.session.commit()
        client = app.test_client()
        with client.session_transaction() as sess:
            sess.update(sid=sid, _user_id=uid, _fresh=True, auth_at=int(time.time()),
                        seen=int(time.time()))
        todo = pages(role, ids)
        if role == "sle" and ids["action"]:
            todo.append(("plan row save (htmx)", f"/plans/action/{ids['action']}", None))
        for label, page_url, headers in todo:
            saving = label.startswith("plan row save")

            request = functools.partial(_request, app, client, page_url, headers, saving,
                                        ids["action"])
            page_times, floor_times, sql_times = [], [], []
            body, status, statements = b"", 0, 0
            for n in range(rounds + 1):
                floor_ms, _r, _b = _timed(floor, "get", "/bare")
                ms, response, body, recorded = request(n)
                if n == 0:  # the first round warms caches; it is counted, not timed
                    status = response.status_code  # type: ignore[attr-defined]
                    statements = sum(1 for q in recorded if not q.statement.lstrip().upper()
                                     .startswith(NOT_COUNTED))
                    continue
                page_times.append(ms)
                floor_times.append(floor_ms)
                sql_times.append(sum(q.duration for q in recorded) * 1000)
            result = Ratio(role, label, status, statements, len(body),
                           statistics.median(page_times), statistics.median(floor_times),
                           statistics.median(sql_times))
            if profile_rounds and result.missed:
                result.areas = profile_areas(lambda n, r=request: r(rounds + 1 + n),
                                             profile_rounds)
            out.append(result)
    with app.app_context():
        db.engine.dispose()
    return out


def markdown(results: list[Ratio], label: str = "") -> str:
    lines = [f"Cost ratio{(' — ' + label) if label else ''}: floor time ÷ page time, medians "
             "of requests alternated with the floor in one process (1.0 = as cheap as the "
             "bare Flask+Jinja page; target ≥ 0.5, unchanged poll ≥ 0.8).", "",
             "| Role | Page | Status | Queries | Bytes | Page ms | SQL ms | Floor ms | Ratio |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r.role} | {r.page} | {r.status} | {r.queries} | {r.bytes:,} "
                     f"| {r.page_ms:.1f} | {r.sql_ms:.1f} | {r.floor_ms:.2f} | {r.ratio:.2f}"
                     f"{'' if not r.missed else ' ✗'} |")
    missed = [r for r in results if r.missed]
    lines += ["", f"✗: below its target ({len(missed)} of {len(results)} pages)."]
    profiled = [r for r in missed if r.areas]
    if profiled:
        lines += ["", why_markdown(profiled)]
    return "\n".join(lines)


def why_markdown(results: list[Ratio]) -> str:
    """Why each page missed its target: what it costs beyond the floor, and where its profiled
    time goes."""
    names = [a for a, _m in AREAS] + [OTHER]
    lines = ["Why the pages below their target miss it: the page's cost beyond the floor "
             "(page ms − floor ms), how much of the page's time its SQL statements took in the "
             "database driver, and the share of its profiled time by where the code lives.", "",
             "Ceiling: the ratio the page would reach if everything but its SQL cost nothing "
             "(floor ms ÷ SQL ms); below the target, no Python work alone can meet it.", "",
             "| Role | Page | Beyond floor ms | SQL share | Ceiling | " + " | ".join(names)
             + " |",
             "|---|---|---:|---:|---:|" + "---:|" * len(names)]
    for r in results:
        areas = r.areas or {}
        ceiling = f"{r.floor_ms / r.sql_ms:.2f}" if r.sql_ms else "–"
        lines.append(f"| {r.role} | {r.page} | {r.page_ms - r.floor_ms:.1f} "
                     f"| {r.sql_ms / r.page_ms if r.page_ms else 0:.0%} | {ceiling} | "
                     + " | ".join(f"{areas.get(a, 0.0):.0%}" for a in names) + " |")
    return "\n".join(lines)


def flat_markdown(small: list[Ratio], large: list[Ratio], small_label: str,
                  large_label: str) -> str:
    """Each page's time at two sizes, to show whether it stays flat as the data grows: the
    median page time and its ratio to the floor measured alongside at each size (the ratio
    is the fairer comparison: the two runs may meet a differently loaded machine)."""
    at_small = {(r.role, r.page): r for r in small}
    lines = [f"Each page at scale {small_label} and {large_label}: median time, queries and cost "
             "ratio (floor time ÷ page time, the floor measured alternately at each size). "
             "Growth is the large page's cost relative to the floor over the small one's "
             "(1.0 = flat).", "",
             f"| Role | Page | Queries ({small_label}) | Queries ({large_label}) "
             f"| ms ({small_label}) | ms ({large_label}) | Ratio ({small_label}) "
             f"| Ratio ({large_label}) | Growth |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in large:
        s = at_small.get((r.role, r.page))
        if s is None:
            continue
        growth = s.ratio / r.ratio if r.ratio else 0.0
        lines.append(f"| {r.role} | {r.page} | {s.queries} | {r.queries} | {s.page_ms:.1f} "
                     f"| {r.page_ms:.1f} | {s.ratio:.2f} | {r.ratio:.2f} | {growth:.2f} |")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--roles", default=",".join(BENCH_ROLES))
    parser.add_argument("--profile-rounds", type=int, default=5,
                        help="profile each page below its target this many times (0: none)")
    args = parser.parse_args(argv)
    print(markdown(measure(args.database_url, rounds=args.rounds,
                           roles=tuple(args.roles.split(",")),
                           profile_rounds=args.profile_rounds)))


if __name__ == "__main__":
    main()
