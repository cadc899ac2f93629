"""Backups and restores: the restore drill, a backup taken while the portal writes, pg_dump."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal import create_app
from portal.domain import audit
from portal.extensions import db
from portal.models import Alliance
from portal.transactions import immediate


@pytest.fixture
def sqlite_app(tmp_path):
    """A portal on its own SQLite file (whatever TEST_DATABASE_URL says), instance in tmp."""
    app = create_app({
        "PORTAL_ENV": "testing", "SECRET_KEY": "backup-tests",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'live.db'}",
        "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"timeout": 15}},
    })
    app.instance_path = str(tmp_path / "instance")
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.engine.dispose()


def _names(app) -> set[str]:
    with app.app_context():
        names = set(db.session.scalars(select(Alliance.short_name)))
        db.session.remove()
        return names


def _add(app, *names: str) -> None:
    with app.app_context():
        for name in names:
            db.session.add(Alliance(name=f"{name} TSA", short_name=name, charging_model="sefton"))
        db.session.commit()
        db.session.remove()


def _count(path: Path, table: str) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # noqa: S608
    finally:
        conn.close()


def test_restore_drill_brings_the_data_back(sqlite_app, tmp_path):
    runner = sqlite_app.test_cli_runner()
    _add(sqlite_app, "Alpha", "Beta")

    made = runner.invoke(args=["backup"])
    assert made.exit_code == 0, made.output
    backups = list((tmp_path / "instance" / "backups").glob("portal-*.db"))
    assert len(backups) == 1 and backups[0].name in made.output

    _add(sqlite_app, "Gamma")
    with sqlite_app.app_context():
        db.session.delete(db.session.scalar(select(Alliance).where(Alliance.short_name == "Alpha")))
        db.session.commit()
        db.session.remove()
    assert _names(sqlite_app) == {"Beta", "Gamma"}

    refused = runner.invoke(args=["restore", str(backups[0])])
    assert refused.exit_code != 0 and "--yes" in refused.output
    assert _names(sqlite_app) == {"Beta", "Gamma"}

    done = runner.invoke(args=["restore", str(backups[0]), "--yes"])
    assert done.exit_code == 0, done.output
    assert _names(sqlite_app) == {"Alpha", "Beta"}
    # what the restore replaced was kept, in case the wrong file was restored
    safety = list((tmp_path / "instance" / "backups").glob("pre-restore-*.db"))
    assert len(safety) == 1 and _count(safety[0], "alliance") == 2
    # and the portal still writes to the restored database
    _add(sqlite_app, "Delta")
    assert _names(sqlite_app) == {"Alpha", "Beta", "Delta"}


def test_backup_to_a_chosen_file_or_directory(sqlite_app, tmp_path):
    _add(sqlite_app, "Alpha")
    runner = sqlite_app.test_cli_runner()
    target = tmp_path / "elsewhere" / "nightly.db"
    assert runner.invoke(args=["backup", "--to", str(target)]).exit_code == 0
    assert _count(target, "alliance") == 1
    again = runner.invoke(args=["backup", "--to", str(target)])
    assert again.exit_code != 0 and "already exists" in again.output
    folder = tmp_path / "folder"
    folder.mkdir()
    assert runner.invoke(args=["backup", "--to", str(folder)]).exit_code == 0
    (copy,) = folder.glob("portal-*.db")
    assert _count(copy, "alliance") == 1
    # the copy is one self-contained file, not a WAL database needing its -wal file
    conn = sqlite3.connect(copy)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()


def test_restore_refuses_a_file_that_is_not_a_portal_backup(sqlite_app, tmp_path):
    _add(sqlite_app, "Alpha")
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database" * 100)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    runner = sqlite_app.test_cli_runner()
    for bad, message in ((junk, "not a SQLite database"), (other, "not a portal backup"),
                         (tmp_path / "missing.db", "No backup")):
        result = runner.invoke(args=["restore", str(bad), "--yes"])
        assert result.exit_code != 0 and message in result.output, result.output
    assert _names(sqlite_app) == {"Alpha"}


def test_backup_is_consistent_while_another_thread_writes(sqlite_app, tmp_path):
    """Each write adds an alliance and its audit event together; a torn copy would differ."""
    stop = threading.Event()
    written = []
    errors = []

    def writer():
        with sqlite_app.app_context():
            n = 0
            while not stop.is_set() or n < 20:
                n += 1
                try:
                    with immediate():
                        a = Alliance(name=f"Writer {n} TSA", short_name=f"W{n}",
                                     charging_model="sefton")
                        db.session.add(a)
                        db.session.flush()
                        # through the log, as every audited write goes (issue 19)
                        audit.record(None, "alliance.created", a, alliance_id=a.id)
                        db.session.commit()
                    written.append(n)
                except Exception as e:  # pragma: no cover - the assertion below reports it
                    errors.append(repr(e))
                    db.session.rollback()
            db.session.remove()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        runner = sqlite_app.test_cli_runner()
        copies = []
        for i in range(5):
            target = tmp_path / f"during-{i}.db"
            result = runner.invoke(args=["backup", "--to", str(target)])
            assert result.exit_code == 0, result.output
            copies.append(target)
    finally:
        stop.set()
        thread.join(timeout=60)
    assert not errors, errors
    assert len(written) >= 20
    for copy in copies:
        alliances = _count(copy, "alliance")
        assert alliances == _count(copy, "audit_event")
        assert alliances <= len(written)
    assert _count(tmp_path / "live.db", "alliance") == len(written)


@pytest.mark.skipif(not (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgresql"),
                    reason="pg_dump backups are tested when TEST_DATABASE_URL is PostgreSQL")
def test_postgresql_backup_runs_pg_dump(app, db, world, tmp_path):
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    runner = app.test_cli_runner()
    target = tmp_path / "pg.dump"
    result = runner.invoke(args=["backup", "--to", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
    listing = subprocess.run(
        ["pg_restore", "--list", str(target)], capture_output=True, text=True, check=True
    ).stdout
    assert "TABLE DATA public alliance" in listing
    assert db.session.scalar(select(func.count()).select_from(Alliance)) == 2
    refused = runner.invoke(args=["restore", str(target), "--yes"])
    assert refused.exit_code != 0 and "pg_restore" in refused.output
