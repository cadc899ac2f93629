"""One transaction per request: the view runs the command, the request commits once.

Modelled on indico's ``RH._process`` (``indico/web/rh.py``): a view loads, validates, calls one
domain command and answers; it never calls ``commit()`` or ``rollback()`` itself (a test fails if
a module of a feature package does). :class:`PortalFlask` routes every view through
:func:`run`, which for a write request (any method but GET, HEAD, OPTIONS)

* commits once, after the view returned a response below 400;
* rolls back when the view answered 400 or more, or raised anything at all;
* turns a stale row (``StaleDataError``: someone else changed the same versioned row) or a
  duplicate (``IntegrityError``), raised by an autoflush anywhere in the view or by the commit,
  into :class:`~portal.domain.errors.Conflict`, which ``error_pages`` answers with 409 and a
  link to the current state.

A read request (GET, HEAD, OPTIONS) never commits: what it may have flushed is rolled back when
the session is removed at the end of the request.

A view that shows its own answer to a failed command (the plan's merge view, a form re-shown
with the message beside the field) wraps the command in :func:`command`: on any error the
request's changes are rolled back there, so the view reads and shows the current state, and a
stale row or duplicate is raised as ``Conflict`` where the view can catch it.

Code outside a request (CLI commands, the demo loader, the mail sender) commits explicitly with
:func:`commit_or_conflict`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app, g, request
from flask.typing import ResponseReturnValue
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from .domain.errors import Conflict
from .extensions import db

READS = frozenset({"GET", "HEAD", "OPTIONS"})
STALE = (StaleDataError, IntegrityError)


def _marked(mark: str) -> bool:
    """The request's view carries ``mark`` (:func:`writes_on_get`, :func:`reads_only`)."""
    return bool(getattr(current_app.view_functions.get(request.endpoint or ""), mark, False))


def is_write() -> bool:
    return request.method not in READS or _marked("writes_on_get")


def writes_on_get(view: Callable) -> Callable:
    """Mark a GET view that is a write all the same and so commits like a POST: the OpenID
    Connect callback, which the school's account provider reaches by redirecting the browser
    (``state``, bound to this browser's session, is what stops a forged one)."""
    view.writes_on_get = True  # type: ignore[attr-defined]
    return view


def reads_only(view: Callable) -> Callable:
    """Mark a GET view that only ever reads, and is asked for often (the plan's poll, every few
    seconds from every open plan; one row of the plan, drawn again). On PostgreSQL it runs
    outside a transaction (autocommit): each statement sees what was committed before it, as
    it would under READ COMMITTED inside one, and the BEGIN and ROLLBACK round trips are saved
    (two of the poll's five, issue 20).
    Should such a view ever flush a change, the flush raises: nothing is written half-way."""
    view.reads_only = True  # type: ignore[attr-defined]
    return view


_READS_ONLY = "reads_only"  # in Session.info while such a view runs outside a transaction


def _outside_a_transaction() -> bool:
    session = db.session()
    if session.in_transaction() or session.get_bind().dialect.name != "postgresql":
        return False  # SQLite: transactions.py emits BEGIN itself, and a read there costs no trip
    session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    session.info[_READS_ONLY] = True
    return True


def _back_in_transactions() -> None:
    """Hand the autocommit connection back (its isolation level is reset as it returns to the
    pool), so nothing after the view, nor a later request on the same session (a test's), runs
    outside a transaction."""
    session = db.session()
    session.info.pop(_READS_ONLY, None)
    session.rollback()


@event.listens_for(Session, "before_flush")
def _refuse_writes_outside_a_transaction(session: Session, _context, _instances) -> None:
    if session.info.get(_READS_ONLY) and (
            session.new or session.deleted or any(session.is_modified(o) for o in session.dirty)):
        raise RuntimeError("a view marked reads_only tried to write")


def run(view: Callable[[], ResponseReturnValue]) -> ResponseReturnValue:
    """Call the view inside the request's unit of work (see the module docstring)."""
    if not is_write():
        outside = _marked("reads_only") and _outside_a_transaction()
        try:
            return view()
        except STALE as exc:  # a read that flushed (it should not): never a 500
            db.session.rollback()
            raise Conflict() from exc
        finally:
            if outside:
                _back_in_transactions()
    try:
        response = current_app.make_response(view())
    except STALE as exc:
        db.session.rollback()
        raise Conflict() from exc
    except BaseException:
        db.session.rollback()
        raise
    if response.status_code >= 400 and not g.get("keep_on_refusal"):
        db.session.rollback()
        return response
    commit_or_conflict()
    return response


def keep_on_refusal() -> None:
    """The view answers 4xx but what it wrote is the record of that refusal (an audit event),
    which must outlive it: commit all the same. Only for a view whose refusal writes nothing
    else."""
    g.keep_on_refusal = True


def commit_or_conflict() -> None:
    """Commit; a concurrent change to the same row (or a duplicate) becomes :class:`Conflict`.

    For code outside a request; inside one the unit of work commits.
    """
    try:
        db.session.commit()
    except STALE as exc:
        db.session.rollback()
        raise Conflict() from exc


@contextmanager
def command(*, fresh: bool = True) -> Iterator[None]:
    """Run a domain command so its failure can be answered by the view itself.

    Flushes at the end, so a stale row or a duplicate surfaces here (as ``Conflict``) rather
    than at the commit, then expires the session so the view reads what it shows afresh; on any
    error rolls the request's changes back before re-raising, so the view can read the current
    state to show it. ``fresh=False`` keeps the session as flushed, for a view that shows only
    the row the command wrote (a plan row's save: reloading the user, deployment, plan and its
    outcomes to draw one row cost five queries, issue 20).
    """
    try:
        yield
        db.session.flush()
    except STALE as exc:
        db.session.rollback()
        raise Conflict() from exc
    except BaseException:
        db.session.rollback()
        raise
    # what the view shows next is read afresh, as it would be after a commit
    if fresh:
        db.session.expire_all()


class PortalFlask(Flask):
    """Flask, with every view run inside :func:`run` (one commit or rollback per request)."""

    def dispatch_request(self) -> Any:
        return run(super().dispatch_request)
