"""Hardening: sign-in rate limits (per account at an address, per address, shared through
Redis), sessions that die on sign-out, and concurrent writers that never see "database is
locked"."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal import create_app
from portal.domain import audit
from portal.extensions import db as _db
from portal.extensions import limiter
from portal.models import AuditEvent, Deployment, LoginSession, User
from portal.transactions import immediate
from tests.conftest import PortalClient
from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
REDIS_URI = "redis://127.0.0.1:6379/15"


@pytest.fixture
def strict_login_limit(app, monkeypatch):
    """Three sign-in attempts a minute at one account from one address, five from one address
    at any accounts, on clean counters."""
    monkeypatch.setitem(app.config, "LOGIN_LIMIT", "3 per minute")
    monkeypatch.setitem(app.config, "LOGIN_ADDRESS_LIMIT", "5 per minute")
    limiter.reset()
    yield
    limiter.reset()


WRONG = "not the password"


def _attempt(client, email, ip, password=WRONG):
    return client.post("/login", {"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": ip})


def test_login_is_limited_per_account_at_one_address(world, client_for, strict_login_limit):
    """Issue 13: counting per account from *any* address let anyone lock anyone out. Now the
    guesser's address is stopped at that account, and only there."""
    anon = client_for(None)
    email = world.user("a", "admin").email
    for _ in range(3):
        assert _attempt(anon, email, "10.1.0.1").status_code == 422
    blocked = _attempt(anon, email, "10.1.0.1", password=PASSWORD)  # even the right password
    assert blocked.status_code == 429
    assert b"Too many attempts" in blocked.data
    assert "Retry-After" in blocked.headers
    assert anon.get("/").status_code == 302  # not signed in
    # another account from that same address is not affected
    other = world.user("a", "director").email
    assert _attempt(anon, other, "10.1.0.1").status_code == 422
    # and the owner, elsewhere, signs in
    owner = client_for(None)
    assert _attempt(owner, email, "10.1.0.99", password=PASSWORD).status_code == 302


def test_login_is_limited_per_address_across_accounts(world, anon, strict_login_limit):
    emails = [world.user("a", r).email for r in ("admin", "director", "headteacher", "board",
                                                  "sle", "home_school")]
    for email in emails[:5]:
        assert _attempt(anon, email, "10.2.0.1").status_code == 422
    assert _attempt(anon, emails[5], "10.2.0.1").status_code == 429
    assert _attempt(anon, emails[5], "10.2.0.2").status_code == 422


def test_failed_attempts_are_not_limited_on_get(world, anon, strict_login_limit):
    for _ in range(6):
        assert anon.get("/login", environ_base={"REMOTE_ADDR": "10.3.0.1"}).status_code == 200


# ------------------------------------------------------------------ shared limit through Redis

def _redis():
    try:
        import redis
    except ImportError:  # pragma: no cover
        pytest.skip("the redis client library is not installed")
    client = redis.Redis.from_url(REDIS_URI, socket_connect_timeout=1)
    try:
        client.ping()
    except Exception as e:
        pytest.skip(f"Redis is not reachable at {REDIS_URI} ({e}); the shared rate-limit "
                    "test needs a Redis server (apt-get install redis-server)")
    return client


@pytest.fixture
def limiter_snapshot():
    """The Limiter is a module global: an app created here re-points its storage, so put the
    test session's storage (and key prefix) back afterwards."""
    saved = dict(limiter.__dict__)
    yield
    limiter.__dict__.clear()
    limiter.__dict__.update(saved)


def _limit_config(tmp_path, storage: str, prefix: str) -> dict:
    return {
        "PORTAL_ENV": "testing", "SECRET_KEY": "redis-limit-test",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'shared.db'}",
        "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"timeout": 15}},
        "LOGIN_LIMIT": "3 per minute", "RATELIMIT_STORAGE_URI": storage,
        "RATELIMIT_KEY_PREFIX": prefix, "WTF_CSRF_ENABLED": False,
    }


# A second, separate app instance in its own process (as another gunicorn worker or server
# would be): it makes the attempts given and prints the status codes.
_OTHER_INSTANCE = """
import json, sys
from portal import create_app
config, attempts = json.loads(sys.argv[1]), json.loads(sys.argv[2])
client = create_app(config).test_client()
print(json.dumps([client.post("/login", data={"email": e, "password": "wrong"},
                              environ_base={"REMOTE_ADDR": ip}).status_code
                  for e, ip in attempts]))
"""


def _other_instance(config: dict, attempts: list[tuple[str, str]]) -> list[int]:
    done = subprocess.run(
        [sys.executable, "-c", _OTHER_INSTANCE, json.dumps(config), json.dumps(attempts)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_login_limit_is_shared_between_instances_through_redis(tmp_path, limiter_snapshot):
    redis = _redis()
    prefix = f"portal-test-{uuid.uuid4().hex}"
    config = _limit_config(tmp_path, REDIS_URI, prefix)
    first = create_app(config)
    try:
        with first.app_context():
            _db.create_all()
        client = first.test_client()
        for _ in range(3):
            r = client.post("/login", data={"email": "target@a.example.org", "password": "x"},
                            environ_base={"REMOTE_ADDR": "10.4.0.1"})
            assert r.status_code == 422
        assert any(redis.scan_iter(match=f"*{prefix}*"))  # the counters live in Redis

        # the other instance has made no attempts itself, yet that address is already limited
        # at that account (and only there: the owner elsewhere is not locked out)
        statuses = _other_instance(config, [("target@a.example.org", "10.4.0.1"),
                                            ("target@a.example.org", "10.4.0.50")])
        assert statuses == [429, 422]
        # control: with per-process memory counters the other instance would not know
        alone = _other_instance(_limit_config(tmp_path, "memory://", prefix),
                                [("target@a.example.org", "10.4.0.1")])
        assert alone == [422]
    finally:
        keys = list(redis.scan_iter(match=f"*{prefix}*"))
        if keys:
            redis.delete(*keys)
        with first.app_context():
            _db.engine.dispose()


# ------------------------------------------------------------------ sessions

def test_sign_out_makes_the_old_session_cookie_useless(world, app, anon):
    user = world.user("a", "headteacher")
    r = anon.post("/login", {"email": user.email, "password": PASSWORD})
    assert r.status_code == 302
    assert anon.get("/").status_code == 200
    stolen = anon.http.get_cookie("session").value

    assert anon.post("/logout").status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    r = replay.get("/")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")
    assert replay.get(f"/requests/{world.a.request.id}").status_code == 302
    # a fresh sign-in works again and gets a new session version
    fresh = PortalClient(app)
    assert fresh.post("/login", {"email": user.email, "password": PASSWORD}).status_code == 302
    assert fresh.get("/").status_code == 200
    # signing out ended that browser's session only (issue 13), not the account's others
    _db.session.expire_all()
    assert _db.session.get(User, user.id).session_version == 1
    assert [s.ended_at is not None for s in _db.session.scalars(
        select(LoginSession).where(LoginSession.user_id == user.id)
        .order_by(LoginSession.id))] == [True, False]


# ------------------------------------------------------------------ concurrent writers

THREADS = 6


def _run_threads(target, n=THREADS):
    errors: list[str] = []
    barrier = threading.Barrier(n)

    def wrapped(i):
        try:
            barrier.wait(timeout=30)
            target(i)
        except Exception as e:
            errors.append(f"{type(e).__name__}: {e}")

    threads = [threading.Thread(target=wrapped, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return errors


def test_concurrent_read_then_write_transactions_never_lock_or_lose_updates(world, app):
    """Each thread reads a deployment and writes it back, many times, all at once. With
    BEGIN IMMEDIATE (SQLite) the writers queue; nobody sees "database is locked", nobody's
    version check fails and no increment is lost."""
    deployment_id = world.a.deployment.id
    rounds = 10

    def work(_i):
        with app.app_context():
            for _ in range(rounds):
                with immediate():
                    d = _db.session.get(Deployment, deployment_id, with_for_update=True)
                    d.half_days_delivered += 1
                    audit.record(None, "deployment.tested", d)
                    _db.session.commit()
            _db.session.remove()

    errors = _run_threads(work)
    assert errors == []
    _db.session.rollback()  # end this thread's read snapshot (SQLite WAL) before looking
    d = _db.session.get(Deployment, deployment_id)
    assert d.half_days_delivered == THREADS * rounds
    assert d.version == 1 + THREADS * rounds
    assert audit.verify() == []  # the hash chain stayed a chain


def test_concurrent_sign_ins_all_succeed_and_keep_the_audit_chain(world, app):
    """Real POSTs at once: each sign-in writes last_login_at and an audit event."""
    emails = [world.user(side, role).email for side in ("a", "b")
             for role in ("admin", "director", "headteacher")]
    statuses: list[int] = []

    def sign_in(i):
        client = PortalClient(app)
        r = client.post("/login", {"email": emails[i], "password": PASSWORD},
                        environ_base={"REMOTE_ADDR": f"10.5.0.{i + 1}"})
        statuses.append(r.status_code)
        if r.status_code == 302:
            statuses.append(client.post("/logout").status_code)

    errors = _run_threads(sign_in, n=len(emails))
    assert errors == []
    assert statuses == [302] * (2 * len(emails))
    _db.session.rollback()
    events = _db.session.scalar(select(func.count()).select_from(AuditEvent)
                                .where(AuditEvent.action.in_(("auth.login", "auth.logout"))))
    assert events == 2 * len(emails)
    assert audit.verify() == []
