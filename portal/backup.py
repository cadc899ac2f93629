"""Backups and restores: ``flask --app portal backup`` and ``flask --app portal restore``.

SQLite is copied with the sqlite3 online backup API, which reads one consistent snapshot even
while the portal keeps writing (WAL mode: writers are not blocked while the copy is taken).
PostgreSQL is dumped with ``pg_dump -Fc`` (custom format, restored with ``pg_restore``).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy.engine import URL, make_url

from .extensions import db

REQUIRED_TABLES = {"user_account", "alliance", "audit_event"}


class BackupError(RuntimeError):
    pass


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def default_dir() -> Path:
    return Path(current_app.instance_path) / "backups"


def _target(to: str | None, suffix: str) -> Path:
    name = f"portal-{_stamp()}{suffix}"
    if not to:
        path = default_dir() / name
    else:
        path = Path(to)
        if path.is_dir() or to.endswith(os.sep):
            path = path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        raise BackupError(f"{path} already exists; choose another name.")
    return path


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up.")
    return Path(url.database)


def backup_sqlite(source: Path, target: Path) -> None:
    """Copy a live SQLite database with the online backup API, then check the copy."""
    if not source.is_file():
        raise BackupError(f"No database at {source}.")
    src = sqlite3.connect(source, timeout=15)
    dst = sqlite3.connect(target)
    try:
        src.execute("PRAGMA busy_timeout=15000")
        with dst:
            src.backup(dst)  # one step: a consistent snapshot of the whole database
        dst.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
        check = dst.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"The backup failed its integrity check: {check}")
    finally:
        dst.close()
        src.close()


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection URL without the password, and an environment carrying it."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def backup_postgresql(url: URL, target: Path) -> None:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise BackupError("pg_dump is not installed (apt-get install postgresql-client); "
                          "nothing was backed up.")
    conninfo, env = _libpq(url)
    result = subprocess.run(  # noqa: S603 - fixed program, arguments from our own config
        [pg_dump, "-Fc", "--no-owner", "-f", str(target), "--dbname", conninfo],
        env=env, capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        target.unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed: {result.stderr.strip()}")


def backup(to: str | None = None) -> Path:
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    backend = url.get_backend_name()
    if backend == "sqlite":
        target = _target(to, ".db")
        try:
            backup_sqlite(_sqlite_path(url), target)
        except Exception:
            target.unlink(missing_ok=True)
            raise
        return target
    if backend == "postgresql":
        target = _target(to, ".dump")
        backup_postgresql(url, target)
        return target
    raise BackupError(f"Backups of {backend} databases are not supported.")


def _check_sqlite_backup(path: Path) -> None:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            check = conn.execute("PRAGMA integrity_check").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master "
                                                 "WHERE type = 'table'")}
        finally:
            conn.close()
    except sqlite3.DatabaseError as e:
        raise BackupError(f"{path} is not a SQLite database: {e}") from e
    if check != "ok":
        raise BackupError(f"{path} failed its integrity check: {check}")
    missing = REQUIRED_TABLES - tables
    if missing:
        raise BackupError(f"{path} is not a portal backup (no {', '.join(sorted(missing))}).")


def restore(path: Path) -> Path:
    """Replace the SQLite database with a backup; the current data is backed up first."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite":
        raise BackupError("restore handles SQLite only. For PostgreSQL use: "
                          "pg_restore --clean --if-exists --no-owner -d DATABASE_URL BACKUP.dump")
    if not path.is_file():
        raise BackupError(f"No backup at {path}.")
    _check_sqlite_backup(path)
    live = _sqlite_path(url)
    safety = backup(str(default_dir() / f"pre-restore-{_stamp()}.db"))
    db.session.remove()
    db.engine.dispose()
    src = sqlite3.connect(path)
    dst = sqlite3.connect(live, timeout=15)
    try:
        dst.execute("PRAGMA busy_timeout=15000")
        with dst:
            src.backup(dst)  # writes every page under the destination's write lock
    finally:
        src.close()
        dst.close()
    db.engine.dispose()
    return safety


def init_app(app: Flask) -> None:
    @app.cli.command("backup")
    @click.option("--to", "to", default=None, metavar="PATH",
                  help="A file or directory to write to (default: instance/backups/).")
    def backup_command(to: str | None) -> None:
        """Back up the database to a timestamped file.

        SQLite: an online copy with the sqlite3 backup API, consistent even while the portal
        writes, saved as instance/backups/portal-<UTC time>.db. PostgreSQL: runs
        `pg_dump -Fc` (needs the PostgreSQL client tools) and saves portal-<UTC time>.dump;
        restore that with `pg_restore --clean --if-exists --no-owner -d <database>`.
        """
        try:
            path = backup(to)
        except BackupError as e:
            raise click.ClickException(str(e)) from e
        click.echo(f"Backed up to {path} ({path.stat().st_size:,} bytes).")

    @app.cli.command("restore")
    @click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--yes", is_flag=True, help="Really replace the current database.")
    def restore_command(path: Path, yes: bool) -> None:
        """Replace the SQLite database with a backup made by `backup`.

        Stop the portal first. Refuses without --yes. The current database is backed up to
        instance/backups/pre-restore-<UTC time>.db before it is replaced. For PostgreSQL use
        pg_restore (see `backup --help`).
        """
        if not yes:
            raise click.ClickException(
                "restore replaces every record in the database with the backup's. "
                "Stop the portal, then run it again with --yes."
            )
        try:
            safety = restore(path)
        except BackupError as e:
            raise click.ClickException(str(e)) from e
        click.echo(f"Restored {path}. The data it replaced was saved to {safety}.")
