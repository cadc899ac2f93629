"""Counting a request's SQL queries, and making per-row lazy loads raise, for query budgets.

``no_lazy_loads`` (a fixture in tests/web/conftest.py) is opt-in. While it is active, a
relationship lazy-loaded with SQL a second time in one request (``Deployment.leader`` for
row 2, row 3 ...) raises :class:`NPlusOne` naming the relationship: the rows' query should
have loaded it (``joinedload``/``selectinload``). One lazy load of a relationship per request is
allowed (the signed-in user's school), and a load answered from the identity map never counts.
The global default (``lazy="select"``) is untouched.
"""

from __future__ import annotations

from contextlib import contextmanager

from flask import current_app, has_request_context
from flask_sqlalchemy.record_queries import get_recorded_queries
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from portal.extensions import db

_NOT_COUNTED = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA")


def counted(statement: str) -> bool:
    return not statement.lstrip().upper().startswith(_NOT_COUNTED)


def request_queries(client, url: str, *, status: int = 200, htmx: bool = False,
                    data: dict | None = None) -> list[str]:
    """The SQL statements one GET (or, with ``data``, one POST) issues, in a fresh app context
    as in production: a new session with an empty identity map and a new ``g`` (no cached
    current user). ``htmx``: as htmx asks for a partial (``HX-Request: true``)."""
    db.session.commit()  # nothing of the test's own transaction leaks into the count
    with current_app._get_current_object().app_context():
        if data is not None:
            response = client.post(url, data, htmx=htmx)
        elif htmx:
            response = client.htmx_get(url)
        else:
            response = client.get(url)
        statements = [q.statement for q in get_recorded_queries()]
    assert response.status_code == status, (url, response.status_code, response.data[:300])
    return [s for s in statements if counted(s)]


class NPlusOne(AssertionError):
    """A relationship was lazy-loaded once per row."""


_SEEN = "no_lazy_loads_seen"


def _raise_on_repeat(state: ORMExecuteState) -> None:
    if not state.is_relationship_load or state.lazy_loaded_from is None:
        return  # top-level queries, and selectin/subquery eager loads, are fine
    if not has_request_context():
        return  # test set-up code may do as it likes
    path = state.loader_strategy_path
    key = str(path[-1]) if path is not None else str(state.statement)[:80]
    seen = state.session.info.setdefault(_SEEN, set())
    if key in seen:
        raise NPlusOne(f"{key} was lazy-loaded again (once per row?): load it with the rows' "
                       "query, e.g. joinedload() or selectinload()")
    seen.add(key)


@contextmanager
def lazy_loads_raise():
    event.listen(Session, "do_orm_execute", _raise_on_repeat)
    try:
        yield
    finally:
        event.remove(Session, "do_orm_execute", _raise_on_repeat)


def index_plan(stmt) -> str:
    """The database's plan for ``stmt``, to check which index a list walks. On PostgreSQL the
    test tables are tiny, so the planner would read them whole: sequential and bitmap scans and
    sorts are switched off for the transaction, leaving the index paths it has."""
    from sqlalchemy import text

    sql = str(stmt.compile(db.engine, compile_kwargs={"literal_binds": True}))
    if db.engine.dialect.name == "postgresql":
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
            db.session.execute(text(f"SET LOCAL {setting} = off"))
        return "\n".join(r[0] for r in db.session.execute(text("EXPLAIN " + sql)))
    return "\n".join(r[-1] for r in db.session.execute(text("EXPLAIN QUERY PLAN " + sql)))
