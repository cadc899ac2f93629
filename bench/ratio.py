"""The in-process cost ratio of every main page against the bare Flask+Jinja floor (issue 20).

For each role and page (home, lists, detail pages, plan page, agreement, match, Money, reports,
the htmx partials, a plan-row save and the plan's poll) the page and the floor
(``bench/bare.py``, rendering 25 deployment rows from memory) are requested in the same
process, *alternately*, ``--rounds`` times; the cost ratio is the floor's median time divided
by the page's (1.0: as cheap as the floor; 0.5: twice its cost). Alternating means a busy
machine slows both alike, so the ratio holds where absolute times do not. Each page's SQL
statements (without BEGIN/COMMIT) and response bytes are counted too.

Objects are like for like at every size: the newest *active* deployment the user may see, its
plan and first action, the newest *matched* request, the newest invoice the user may see.

    python -m bench.ratio --database-url sqlite:///bench/data/bench-0.1.db [--rounds 30]
"""

from __future__ import annotations

import argparse
import os
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

    @property
    def ratio(self) -> float:
        return self.floor_ms / self.page_ms if self.page_ms else 0.0


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


def measure(url: str, *, rounds: int = 30, roles=BENCH_ROLES) -> list[Ratio]:
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
            page_times, floor_times = [], []
            body, status, statements = b"", 0, 0
            for n in range(rounds + 1):
                floor_ms, _r, _b = _timed(floor, "get", "/bare")
                drawn = b""
                if saving:  # a real change each time, on the version the row last drew
                    with app.app_context():
                        _ms, _r, drawn = _timed(client, "get", f"/plans/action/{ids['action']}",
                                                headers=HX)
                with app.app_context():
                    if saving:
                        ms, response, body = _timed(client, "post", page_url,
                                                    data=_row_form(drawn, ids["action"], n),
                                                    headers=HX)
                    else:
                        ms, response, body = _timed(client, "get", page_url,
                                                    headers=headers or {})
                    recorded = [q.statement for q in get_recorded_queries()]
                if n == 0:  # the first round warms caches; it is counted, not timed
                    status = response.status_code  # type: ignore[attr-defined]
                    statements = sum(1 for s in recorded
                                     if not s.lstrip().upper().startswith(NOT_COUNTED))
                    continue
                page_times.append(ms)
                floor_times.append(floor_ms)
            out.append(Ratio(role, label, status, statements, len(body),
                             statistics.median(page_times), statistics.median(floor_times)))
    with app.app_context():
        db.engine.dispose()
    return out


def markdown(results: list[Ratio], label: str = "") -> str:
    lines = [f"Cost ratio{(' — ' + label) if label else ''}: floor time ÷ page time, medians "
             "of requests alternated with the floor in one process (1.0 = as cheap as the "
             "bare Flask+Jinja page; target ≥ 0.5, unchanged poll ≥ 0.8).", "",
             "| Role | Page | Status | Queries | Bytes | Page ms | Floor ms | Ratio |",
             "|---|---|---|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r.role} | {r.page} | {r.status} | {r.queries} | {r.bytes:,} "
                     f"| {r.page_ms:.1f} | {r.floor_ms:.2f} | {r.ratio:.2f} |")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--roles", default=",".join(BENCH_ROLES))
    args = parser.parse_args(argv)
    print(markdown(measure(args.database_url, rounds=args.rounds,
                           roles=tuple(args.roles.split(",")))))


if __name__ == "__main__":
    main()
