"""Issue 13, sign-in: guessing from one address does not lock the owner out elsewhere, known and
unknown accounts cost the same, the session and CSRF token are new after sign-in, and signing
out ends this session only unless you ask for every one."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.extensions import db, limiter
from portal.models import AuditEvent, User

from .. import factories
from ..factories import PASSWORD

ATTACKER = {"REMOTE_ADDR": "198.51.100.7"}
OWNER = {"REMOTE_ADDR": "203.0.113.5"}


@pytest.fixture
def strict_limit(app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT", "10 per minute")
    monkeypatch.setitem(app.config, "LOGIN_ADDRESS_LIMIT", "10 per minute")
    limiter.reset()
    yield
    limiter.reset()


def _login(client, email, password, environ=None):
    return client.post("/login", {"email": email, "password": password},
                       environ_base=environ or {})


def test_ten_wrong_passwords_from_one_address_do_not_lock_out_the_owner(
        world, client_for, strict_limit):
    head = world.user("a", "headteacher")
    attacker, owner = client_for(None), client_for(None)
    codes = [_login(attacker, head.email, f"guess {i}", ATTACKER).status_code for i in range(11)]
    assert codes == [422] * 10 + [429]            # the guesser is stopped...
    r = _login(owner, head.email, PASSWORD, OWNER)
    assert r.status_code == 302                   # ...the owner elsewhere signs in
    assert owner.get("/").status_code == 200


def test_guessing_many_accounts_from_one_address_is_still_limited(world, client_for,
                                                                  strict_limit):
    attacker = client_for(None)
    emails = [world.user("a", r).email for r in ("headteacher", "sle", "director", "admin")]
    codes = [_login(attacker, emails[i % 4], "wrong", ATTACKER).status_code for i in range(11)]
    assert codes[-1] == 429


@pytest.fixture
def hash_checks(monkeypatch):
    """Record every password-hash check the sign-in page makes."""
    import werkzeug.security

    from portal import security
    from portal.models import people

    seen = []
    real = werkzeug.security.check_password_hash

    def spy(pwhash, password):
        seen.append(pwhash.split("$", 1)[0])
        return real(pwhash, password)

    monkeypatch.setattr(security, "check_password_hash", spy, raising=False)
    monkeypatch.setattr(people, "check_password_hash", spy)
    return seen


@pytest.mark.parametrize("who", ["known", "unknown", "deactivated", "no password yet"])
def test_every_failed_sign_in_costs_one_scrypt_check(world, anon, hash_checks, who):
    """A known account answered in ~116 ms and an unknown one in ~10 ms: now each wrong sign-in
    checks exactly one hash with the same scrypt parameters as a real password."""
    head = world.user("a", "headteacher")
    email = head.email
    if who == "unknown":
        email = "nobody@alpha.example.org"
    elif who == "deactivated":
        head.active = False
    elif who == "no password yet":
        head.password_hash = ""
    db.session.commit()
    password = "wrong password" if who == "known" else PASSWORD
    r = _login(anon, email, password)
    assert r.status_code == 422
    real_method = factories.people._password_hash().split("$", 1)[0]
    assert real_method.startswith("scrypt:")
    assert hash_checks == [real_method]


def _csrf_from(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_sign_in_gives_a_new_session_and_a_new_csrf_token(world, anon):
    """Session fixation: a session (and its CSRF token) planted before sign-in must be worth
    nothing after it."""
    head = world.user("a", "headteacher")
    before_token = _csrf_from(anon.get("/login").get_data(as_text=True))
    with anon.http.session_transaction() as sess:
        before = dict(sess)
    r = anon.http.post("/login", data={"email": head.email, "password": PASSWORD,
                                       "csrf_token": before_token})
    assert r.status_code == 302
    with anon.http.session_transaction() as sess:
        after = dict(sess)
    assert after.get("csrf_token") != before["csrf_token"]
    # the token from before sign-in no longer works for a change
    stale = anon.http.post("/notifications/read", data={"csrf_token": before_token})
    assert stale.status_code == 400
    fresh = _csrf_from(anon.get("/account/password").get_data(as_text=True))
    assert fresh != before_token


def test_signing_out_ends_this_session_only(world, client_for):
    head = world.user("a", "headteacher")
    here, there = client_for(None), client_for(None)
    assert _login(here, head.email, PASSWORD).status_code == 302
    assert _login(there, head.email, PASSWORD).status_code == 302
    with here.http.session_transaction() as sess:
        stolen = dict(sess)
    assert here.post("/logout").status_code == 302
    assert here.get("/").status_code == 302       # this browser is signed out
    assert there.get("/").status_code == 200      # the other carries on
    replay = client_for(None)
    with replay.http.session_transaction() as sess:
        sess.update(stolen)
    assert replay.get("/").status_code == 302     # a copy of the ended session is worthless


def test_sign_out_everywhere_ends_every_session(world, client_for):
    head = world.user("a", "headteacher")
    here, there = client_for(None), client_for(None)
    assert _login(here, head.email, PASSWORD).status_code == 302
    assert _login(there, head.email, PASSWORD).status_code == 302
    page = here.get("/account/data").get_data(as_text=True)
    assert 'action="/logout/everywhere"' in page
    r = here.post("/logout/everywhere")
    assert r.status_code == 302 and r.headers["Location"] == "/login"
    assert here.get("/").status_code == 302 and there.get("/").status_code == 302
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "auth.logout_everywhere", AuditEvent.actor_id == head.id))
    db.session.expire_all()
    assert _login(client_for(None), head.email, PASSWORD).status_code == 302  # can sign in again
    assert db.session.get(User, head.id).active


def test_sign_out_everywhere_needs_the_csrf_token(world, client_for):
    c = client_for(world.user("a", "sle"))
    assert c.get("/logout/everywhere").status_code == 405
    assert c.post("/logout/everywhere", csrf=False).status_code == 400
    assert c.get("/").status_code == 200


def test_a_session_older_than_its_lifetime_no_longer_signs_in(world, client_for, app,
                                                              monkeypatch):
    """The user loader's statement is built once; the oldest live moment is worked out on each
    request, so a session past its lifetime stops at once, whole page or htmx partial."""
    from datetime import timedelta

    from portal.domain import sessions
    from portal.models import utcnow

    head = world.user("a", "headteacher")
    client = client_for(head)
    assert client.get("/").status_code == 200  # both statements built and used
    assert client.htmx_get("/requests/").status_code == 200
    lifetime = app.config["PERMANENT_SESSION_LIFETIME"]
    started = utcnow()
    monkeypatch.setattr(sessions, "utcnow", lambda: started + lifetime - timedelta(minutes=1))
    assert client.get("/").status_code == 200  # a minute left
    monkeypatch.setattr(sessions, "utcnow", lambda: started + lifetime + timedelta(minutes=1))
    assert client.get("/").status_code == 302  # a minute too old
    partial = client.htmx_get("/requests/")
    assert partial.status_code == 401 and partial.headers["HX-Redirect"].startswith("/login")
