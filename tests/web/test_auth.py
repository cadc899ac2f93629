"""Sign in and out, sessions, safe redirects, CSRF and unauthenticated htmx requests."""

from __future__ import annotations

import pytest

from portal.extensions import db
from portal.models import AuditEvent, User

from ..factories import PASSWORD

ROLES = ["headteacher", "sle", "home_school", "director", "admin", "board"]


@pytest.mark.parametrize("role", ROLES)
def test_each_role_signs_in_and_reaches_its_home(world, anon, role):
    user = world.user("a", role)
    r = anon.post("/login", {"email": user.email, "password": PASSWORD})
    assert r.status_code == 302 and r.headers["Location"] == "/"
    home = anon.get("/")
    assert home.status_code == 200
    assert f"{user.role_label} home".encode() in home.data
    assert user.name.encode() in home.data


def test_email_is_matched_without_regard_to_case(world, anon):
    user = world.user("a", "admin")
    r = anon.post("/login", {"email": user.email.upper(), "password": PASSWORD})
    assert r.status_code == 302


def test_wrong_password_says_so_beside_the_field_and_signs_nobody_in(world, anon):
    user = world.user("a", "admin")
    r = anon.post("/login", {"email": user.email, "password": "not the password"})
    assert r.status_code == 422
    assert b"The email address or password is not right" in r.data
    assert b'id="password-error"' in r.data and b'aria-invalid="true"' in r.data
    assert anon.get("/").status_code == 302


def test_unknown_email_gets_the_same_message(world, anon):
    r = anon.post("/login", {"email": "nobody@example.org", "password": PASSWORD})
    assert r.status_code == 422
    assert b"The email address or password is not right" in r.data


def test_missing_fields_get_their_own_messages(world, anon):
    r = anon.post("/login", {"email": "", "password": ""})
    assert r.status_code == 422
    assert b"Enter your email address" in r.data and b"Enter your password" in r.data


def test_deactivated_user_cannot_sign_in(world, anon):
    user = world.user("a", "admin")
    user.active = False
    db.session.commit()
    r = anon.post("/login", {"email": user.email, "password": PASSWORD})
    assert r.status_code == 422


def test_login_without_csrf_token_is_rejected_and_changes_nothing(world, anon):
    user = world.user("a", "admin")
    r = anon.post("/login", {"email": user.email, "password": PASSWORD}, csrf=False)
    assert r.status_code == 400
    assert b"Your form expired" in r.data
    assert anon.get("/").status_code == 302


def test_logout_is_a_post_and_needs_the_token(world, client_for):
    c = client_for(world.user("a", "director"))
    assert c.get("/logout").status_code == 405
    assert c.post("/logout", csrf=False).status_code == 400
    assert c.get("/").status_code == 200  # still signed in


def test_logout_makes_the_old_session_cookie_worthless(world, client_for, app):
    user = world.user("a", "director")
    c = client_for(user)
    with c.http.session_transaction() as sess:
        stolen = dict(sess)
    r = c.post("/logout")
    assert r.status_code == 302 and r.headers["Location"] == "/login"
    replay = client_for(None)
    with replay.http.session_transaction() as sess:
        sess.update(stolen)
    assert replay.get("/").status_code == 302


@pytest.mark.parametrize("target", ["/requests/", "/deployments/?status=active"])
def test_next_takes_you_back_to_a_page_of_this_site(world, anon, target):
    user = world.user("a", "admin")
    r = anon.post("/login", {"email": user.email, "password": PASSWORD, "next": target})
    assert r.headers["Location"] == target


@pytest.mark.parametrize("target", ["https://evil.example", "//evil.example/x",
                                    "/\\evil.example", "javascript:alert(1)", "requests"])
def test_next_never_leaves_the_site(world, anon, target):
    user = world.user("a", "admin")
    r = anon.post("/login", {"email": user.email, "password": PASSWORD, "next": target})
    assert r.headers["Location"] == "/"


def test_anonymous_page_request_goes_to_login_with_next(db, anon):
    r = anon.get("/requests/?status=submitted")
    assert r.status_code == 302
    assert r.headers["Location"].startswith("/login?next=")
    assert "requests" in r.headers["Location"]


def test_anonymous_htmx_request_gets_hx_redirect_not_a_fragment(db, anon):
    r = anon.htmx_get("/requests/")
    assert r.status_code == 401
    assert r.headers["HX-Redirect"].startswith("/login?next=")
    assert r.data == b""


def test_sign_in_and_out_are_audited(world, anon):
    user = world.user("a", "admin")
    anon.post("/login", {"email": user.email, "password": PASSWORD})
    anon.post("/logout")
    actions = [e.action for e in db.session.query(AuditEvent).filter_by(actor_id=user.id)]
    assert actions == ["auth.login", "auth.logout"]


def test_passwords_are_stored_as_scrypt_hashes(world):
    user = db.session.get(User, world.user("a", "admin").id)
    assert user.password_hash.startswith("scrypt:")
    assert PASSWORD not in user.password_hash


def test_session_cookie_is_httponly_and_lax(world, anon):
    user = world.user("a", "admin")
    r = anon.post("/login", {"email": user.email, "password": PASSWORD})
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_login_rate_limit_answers_429(world, app, anon):
    from portal.extensions import limiter

    app.config["LOGIN_LIMIT"] = "10 per minute"
    limiter.reset()
    try:
        user = world.user("a", "admin")
        codes = [anon.post("/login", {"email": user.email, "password": "wrong"}).status_code
                 for _ in range(11)]
        assert codes[:10] == [422] * 10
        assert codes[10] == 429
        assert b"Too many attempts" in anon.post(
            "/login", {"email": user.email, "password": PASSWORD}).data
    finally:
        app.config["LOGIN_LIMIT"] = "1000 per minute"
        limiter.reset()


def test_a_nul_byte_anywhere_is_refused_whole_and_nothing_is_saved(db, world, client_for):
    from sqlalchemy import func, select

    from portal.models import Notification

    user = world.user("a", "headteacher")
    db.session.add(Notification(user_id=user.id, message="Hello"))
    db.session.commit()
    client = client_for(user)
    r = client.post("/notifications/read", data={"id": "\x00"})
    assert r.status_code == 400
    assert "NUL byte" in r.get_data(as_text=True)
    assert client.get("/requests/?status=draft%00").status_code == 400
    unread = select(func.count()).select_from(Notification).where(Notification.read_at.is_(None))
    assert db.session.scalar(unread) == 1  # "mark all read" did not happen
