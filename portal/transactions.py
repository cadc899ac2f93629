"""Transactions: SQLite writes take the write lock up front (BEGIN IMMEDIATE).

In WAL mode a deferred transaction that read first and writes later fails with "database is
locked" if another writer committed in between. A request that may write (any method but GET,
HEAD or OPTIONS) therefore starts its transaction with BEGIN IMMEDIATE, so concurrent writers
queue on the busy timeout instead. PostgreSQL needs none of this.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from contextvars import ContextVar

from flask import Flask, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

_immediate: ContextVar[bool] = ContextVar("sqlite_immediate", default=False)


@event.listens_for(Engine, "connect")
def _sqlite_manual_transactions(dbapi_connection, _record) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _immediate.get() else "BEGIN")


@contextmanager
def immediate():
    """For code outside a request (CLI, tests) that reads then writes on SQLite."""
    token = _immediate.set(True)
    try:
        yield
    finally:
        _immediate.reset(token)


def init_app(app: Flask) -> None:
    @app.before_request
    def _flag_writes() -> None:
        # Sets a flag only; no database work happens here.
        _immediate.set(request.method not in ("GET", "HEAD", "OPTIONS"))

    @app.teardown_request
    def _clear(_exc=None) -> None:
        _immediate.set(False)
