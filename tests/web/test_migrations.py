"""The migrations build exactly the schema the models describe, on this test database engine."""

from __future__ import annotations

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, select, text, update

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
        upgrade()
        w = factories.world()  # made by today's models, then taken back to before 0010
        ids = [(side.deployment.id, side.leader.id, n) for side, n in ((w.a, 3), (w.b, 1))]
        db.session.remove()
        downgrade(revision="0009_auth")
        for deployment_id, leader_id, n in ids:
            for i in range(n):
                db.session.add(Variation(deployment_id=deployment_id, half_days=2 + i,
                                         reason=f"ask {i}", requested_by_id=leader_id,
                                         status="pending", decline_reason=""))
        db.session.commit()
        (a, *_), (b, *_) = ids
        db.session.remove()
        upgrade()
        rows = db.session.execute(text(
            "SELECT deployment_id, half_days, status, decline_reason, decided_at FROM variation "
            "ORDER BY id")).all()
        db.session.remove()
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (a, 2, "pending"), (a, 3, "declined"), (a, 4, "declined"), (b, 2, "pending")]
    assert all("same moment" in r[3] and r[4] is not None for r in rows if r[2] == "declined")


def test_board_migration_names_the_invoiced_board_and_keeps_agreed_deployments_approved(
        fresh_app):
    """Before 0014 a headteacher's "Board-targeted" request named no Board (yet the alliance's
    Board for the phase was invoiced) and no deployment waited for a Board: the upgrade names
    that Board and counts a deployment already past the proposal as approved."""
    from tests import factories

    with fresh_app.app_context():
        upgrade()
        w = factories.world()
        primary = factories.board(w.a.alliance, "Primary", phase="primary")
        factories.board(w.a.alliance, "Early", phase="secondary")
        factories.advance(w.b.deployment, "agreement")
        db.session.commit()
        ids = (w.a.request.id, w.b.request.id, w.a.deployment.id, w.b.deployment.id)
        primary_id = primary.id
        db.session.remove()
        downgrade(revision="0010_dupes")
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE support_request SET route = 'board', board_id = NULL"))
            conn.execute(text("UPDATE deployment SET targeted = :t"), {"t": True})
        upgrade()
        boards = dict(db.session.execute(text(
            "SELECT id, board_id FROM support_request WHERE id IN (:a, :b)"),
            {"a": ids[0], "b": ids[1]}).all())
        approved = dict(db.session.execute(text(
            "SELECT id, board_approved_at IS NOT NULL FROM deployment WHERE id IN (:a, :b)"),
            {"a": ids[2], "b": ids[3]}).all())
        db.session.remove()
    assert boards == {ids[0]: primary_id, ids[1]: None}  # side b's alliance has no Board
    assert approved == {ids[2]: False, ids[3]: True}  # still proposed; already agreed
def _old_chain(conn, rows):
    import sqlalchemy as sa

    from portal.models.base import UTCDateTime

    old_events = sa.table(
        "audit_event", sa.column("at", UTCDateTime()), sa.column("actor_id", sa.Integer),
        sa.column("alliance_id", sa.Integer), sa.column("action", sa.String),
        sa.column("object_type", sa.String), sa.column("object_id", sa.Integer),
        sa.column("detail", sa.JSON), sa.column("ip", sa.String),
        sa.column("prev_hash", sa.String), sa.column("hash", sa.String))
    """Insert audit events as the single chain before 0016 made them."""
    from datetime import UTC, datetime

    from portal.domain.signing import GENESIS, record_hash

    prev = GENESIS
    hashes = []
    for i, (alliance_id, action) in enumerate(rows):
        at = datetime(2026, 11, 1, 9, i, tzinfo=UTC)
        payload = {"at": at, "actor_id": None, "alliance_id": alliance_id, "action": action,
                   "object_type": "", "object_id": None, "detail": {"n": i}, "ip": ""}
        h = record_hash(prev, payload)
        conn.execute(old_events.insert().values(
            at=at, actor_id=None, alliance_id=alliance_id, action=action, object_type="",
            object_id=None, detail={"n": i}, ip="", prev_hash=prev, hash=h))
        prev = h
        hashes.append(h)
    return hashes


def test_the_single_audit_chain_is_carried_over_into_alliance_logs(fresh_app):
    """0016 verifies the old chain, closes it with a signed checkpoint, and continues every
    event in its alliance's log (keyed), nothing lost; a new event continues the right log."""
    from portal.domain import audit, checkpoints
    from portal.models import AuditCheckpoint, AuditEvent
    from tests import factories

    with fresh_app.app_context():
        upgrade(revision="0010_dupes")
        a, b = factories.alliance("Old A"), factories.alliance("Old B")
        db.session.commit()
        a, b = a.id, b.id
        plan = [(a, "x.one"), (None, "portal.thing"), (b, "y.one"), (a, "x.two"),
                (a, "x.three"), (b, "y.two")]
        old = _old_chain(db.session, plan)
        db.session.commit()
        db.session.remove()
        upgrade()
        rows = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        assert [(e.log, e.seq) for e in rows] == [
            (f"alliance:{a}", 1), ("portal", 1), (f"alliance:{b}", 1),
            (f"alliance:{a}", 2), (f"alliance:{a}", 3), (f"alliance:{b}", 2)]
        assert [e.legacy_hash for e in rows] == old  # the old hashes are kept
        assert [e.action for e in rows] == [action for _a, action in plan]
        assert audit.verify() == []
        cps = {cp.log: cp for cp in db.session.scalars(select(AuditCheckpoint))}
        assert set(cps) == {audit.LEGACY_LOG, "portal", f"alliance:{a}", f"alliance:{b}"}
        assert cps[audit.LEGACY_LOG].size == 6 and cps[audit.LEGACY_LOG].head_hash == old[-1]
        assert all(checkpoints.verify_signature(checkpoints.as_json(cp)) for cp in cps.values())
        head = rows[4].hash
        new = audit.record(None, "x.after", alliance_id=a)
        db.session.commit()
        assert (new.log, new.seq, new.prev_hash) == (f"alliance:{a}", 4, head)
        assert audit.verify() == []
        # the carried-over events cannot be edited unnoticed: the old order is checkpointed
        first = db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).first()
        db.session.execute(update(AuditEvent).where(AuditEvent.id == first)
                           .values(legacy_hash=old[1]))
        db.session.commit()
        assert audit.LOG_REWRITTEN in [f.forgery for f in audit.verify()]
        db.session.execute(update(AuditEvent).where(AuditEvent.id == first)
                           .values(legacy_hash=old[0]))
        db.session.commit()
        # and back: one unkeyed chain over every event, the one made since included
        db.session.remove()
        downgrade(revision="0010_dupes")
        back = db.session.execute(text(
            "SELECT prev_hash, hash FROM audit_event ORDER BY id")).all()
        assert [h for _p, h in back][:6] == old and len(back) == 7
        assert back[6][0] == old[-1]
        db.session.remove()


def test_a_broken_single_chain_stops_the_migration_and_changes_nothing(fresh_app, capfd):
    from tests import factories

    with fresh_app.app_context():
        upgrade(revision="0010_dupes")
        a = factories.alliance("Broken").id
        db.session.commit()
        old = _old_chain(db.session, [(a, "x.one"), (a, "x.two"), (a, "x.three")])
        db.session.execute(text("UPDATE audit_event SET action = 'x.forged' WHERE hash = :h"),
                           {"h": old[1]})
        db.session.commit()
        db.session.remove()
        with pytest.raises(SystemExit):  # flask-migrate exits after logging the reason
            upgrade()
        assert "audit chain is broken at event 2" in capfd.readouterr().err
        db.session.remove()
        with db.engine.connect() as conn:
            assert "legacy_hash" not in {c["name"] for c in inspect(conn).get_columns(
                "audit_event")}
            assert "audit_log_head" not in inspect(conn).get_table_names()
        hashes = db.session.execute(text("SELECT hash FROM audit_event ORDER BY id")).scalars()
        assert list(hashes) == old
        db.session.remove()
