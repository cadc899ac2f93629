"""SQL queries per page, for every main page and role, at two data sizes.

Every GET route in ``app.url_map`` is visited that takes no arguments, or only ids this script
can fill with an object the signed-in user may see (``request_id``, ``deployment_id`` ...).
A page whose query count differs between the two sizes has an N+1: the script exits non-zero.

    python -m bench.queries --small sqlite:///bench/data/bench-0.01.db \\
                            --large sqlite:///bench/data/bench-0.1.db
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass

from flask_sqlalchemy.record_queries import get_recorded_queries
from sqlalchemy import select

from portal.domain import access, sessions
from portal.extensions import db
from portal.models import Deployment, SupportRequest, User

from .generate import BENCH_ROLES, bench_email, make_app

SKIP_ENDPOINTS = {"static", "auth.login", "auth.logout"}
NOT_COUNTED = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA")


@dataclass
class PageCount:
    role: str
    page: str  # endpoint, or endpoint?query
    url: str
    status: int
    queries: int
    ms: float


def _ids_for(user: User) -> dict[str, int | None]:
    """An id of each kind of object this user may see (the newest), to fill URL arguments."""
    def first(model, where, order):
        return db.session.scalar(select(model.id).where(where).order_by(order.desc()).limit(1))

    def newest_live(model, where, status):
        # the same kind of page at both sizes: a deployment's page shows different sections in
        # each status, so comparing a cancelled one with a completed one proves nothing
        return first(model, where & (model.status == status), model.id) or first(
            model, where, model.id)

    return {
        "request_id": newest_live(SupportRequest, access.requests_visible_to(user), "matched"),
        "deployment_id": newest_live(Deployment, access.deployments_visible_to(user), "active"),
        "user_id": user.id,
    }


def _pages(app, ids: dict[str, int | None]) -> list[tuple[str, str]]:
    """(label, url) for every GET route we can fill."""
    out = []
    with app.test_request_context():
        from flask import url_for

        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            if "GET" not in (rule.methods or ()) or rule.endpoint in SKIP_ENDPOINTS:
                continue
            args = {}
            for name in rule.arguments:
                if ids.get(name) is None:
                    break
                args[name] = ids[name]
            else:
                out.append((rule.endpoint, url_for(rule.endpoint, **args)))
    extra = [("requests.index?status=submitted", "/requests/?status=submitted"),
             ("deployments.index?status=active", "/deployments/?status=active"),
             ("requests.index?page=2", "/requests/?page=2")]
    return out + extra


def count_pages(url: str) -> list[PageCount]:
    app = make_app(url, SQLALCHEMY_RECORD_QUERIES=True, WTF_CSRF_ENABLED=False)
    results: list[PageCount] = []
    for role in BENCH_ROLES:
        with app.app_context():
            user = db.session.scalar(select(User).where(User.email == bench_email(role)))
            if user is None:
                raise SystemExit(f"No {bench_email(role)} in {url}: run bench.generate first.")
            ids = _ids_for(user)
            session_id = user.get_id()
            sid = sessions.start(user)  # a real sign-in session row
            db.session.commit()
            db.session.remove()
        client = app.test_client()
        with client.session_transaction() as sess:
            sess["sid"] = sid
            sess["_user_id"] = session_id
            sess["_fresh"] = True
            sess["auth_at"] = int(time.time())
        for label, page_url in _pages(app, ids):
            with app.app_context():  # a fresh session and g per request, as in production
                started = time.perf_counter()
                response = client.get(page_url)
                response.get_data()  # a streamed body (CSV) runs, and is counted, in here
                response.close()
                ms = (time.perf_counter() - started) * 1000
                statements = [q.statement for q in get_recorded_queries()]
            queries = sum(1 for s in statements if not s.lstrip().upper().startswith(NOT_COUNTED))
            results.append(PageCount(role, label, page_url, response.status_code, queries, ms))
    with app.app_context():
        db.engine.dispose()
    return results


def compare(small: list[PageCount], large: list[PageCount]) -> list[tuple[str, str, int, int]]:
    """(role, page, small count, large count) for every page whose count differs."""
    by_key = {(p.role, p.page): p for p in small}
    diffs = []
    for p in large:
        other = by_key.get((p.role, p.page))
        if other is not None and other.queries != p.queries:
            diffs.append((p.role, p.page, other.queries, p.queries))
    return diffs


def table(small: list[PageCount], large: list[PageCount], small_label: str,
          large_label: str) -> str:
    by_key = {(p.role, p.page): p for p in small}
    lines = [f"| Role | Page | Status | Queries ({small_label}) | Queries ({large_label}) "
             f"| ms ({large_label}, in-process) |", "|---|---|---|---:|---:|---:|"]
    for p in large:
        s = by_key.get((p.role, p.page))
        flag = "" if s is None or s.queries == p.queries else " **differs**"
        lines.append(f"| {p.role} | `{p.page}` | {p.status} | {s.queries if s else '-'} "
                     f"| {p.queries}{flag} | {p.ms:.1f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", required=True, help="database URL of the smaller data set")
    parser.add_argument("--large", required=True, help="database URL of the larger data set")
    args = parser.parse_args(argv)
    small, large = count_pages(args.small), count_pages(args.large)
    print(table(small, large, "small", "large"))
    diffs = compare(small, large)
    for role, page, a, b in diffs:
        print(f"DIFFERS: {role} {page}: {a} queries small, {b} large", file=sys.stderr)
    return 1 if diffs else 0


if __name__ == "__main__":
    raise SystemExit(main())
