"""The migrations build exactly the schema the models describe, on this test database engine."""

from __future__ import annotations

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from portal import create_app
from portal.extensions import db


@pytest.fixture
def fresh_app(tmp_path):
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        # a separate schema, so the main test schema is left alone
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS migration_check CASCADE"))
            conn.execute(text("CREATE SCHEMA migration_check"))
        engine.dispose()
        uri = url.replace("postgresql://", "postgresql+psycopg://", 1)
        options = {"connect_args": {"options": "-csearch_path=migration_check"}}
    else:
        uri = f"sqlite:///{tmp_path / 'migrations.db'}"
        options = {"connect_args": {"timeout": 15}}
    app = create_app({"PORTAL_ENV": "testing", "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": uri,
                      "SQLALCHEMY_ENGINE_OPTIONS": options})
    yield app
    if url:
        with app.app_context():
            db.engine.dispose()
        engine = create_engine(uri)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS migration_check CASCADE"))
        engine.dispose()


def test_migrations_match_models_and_downgrade_cleanly(fresh_app):
    with fresh_app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        downgrade(revision="base")
        with db.engine.connect() as conn:
            left = set(inspect(conn).get_table_names()) - {"alembic_version"}
        assert left == set()


def test_one_pending_variation_migration_keeps_the_first_of_those_already_there(fresh_app):
    """Before the database allowed one, a race could leave several pending: the upgrade keeps
    the earliest pending and declines the others with a note, so its unique index builds."""
    from portal.models import Variation
    from tests import factories

    with fresh_app.app_context():
        upgrade(revision="0008_hardening")
        # the tables it fills are the same at 0008 but for columns added later, which are
        # there only while the world is built (the ORM writes them)
        later = [("user_account", "daily_digest BOOLEAN NOT NULL DEFAULT FALSE")]
        for table, column in later:
            db.session.execute(text(f"ALTER TABLE {table} ADD COLUMN {column}"))
        w = factories.world()
        for side, n in ((w.a, 3), (w.b, 1)):
            for i in range(n):
                db.session.add(Variation(deployment_id=side.deployment.id, half_days=2 + i,
                                         reason=f"ask {i}", requested_by_id=side.leader.id,
                                         status="pending", decline_reason=""))
        db.session.commit()
        a, b = w.a.deployment.id, w.b.deployment.id
        for table, column in later:
            db.session.execute(text(f"ALTER TABLE {table} DROP COLUMN {column.split()[0]}"))
        db.session.commit()
        db.session.remove()
        upgrade()
        rows = db.session.execute(text(
            "SELECT deployment_id, half_days, status, decline_reason, decided_at FROM variation "
            "ORDER BY id")).all()
        db.session.remove()
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (a, 2, "pending"), (a, 3, "declined"), (a, 4, "declined"), (b, 2, "pending")]
    assert all("same moment" in r[3] and r[4] is not None for r in rows if r[2] == "declined")
