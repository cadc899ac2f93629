"""Changing your own password: the current one is checked, every other session ends, this one
carries on, and it is audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.models import AuditEvent, User
from tests import factories

NEW = "a much longer new password"


def _change(client, **over):
    data = {"current": factories.PASSWORD, "password": NEW, "confirm": NEW, **over}
    return client.post("/account/password", data=data)


@pytest.mark.parametrize("role", ["headteacher", "sle", "home_school", "director", "admin",
                                  "board"])
def test_every_role_can_open_the_form(world, client_for, role):
    page = client_for(world.user("a", role)).get("/account/password")
    assert page.status_code == 200
    assert 'autocomplete="current-password"' in page.get_data(as_text=True)


def test_strangers_are_sent_to_sign_in(db, anon):
    assert anon.get("/account/password").status_code == 302


def test_a_change_ends_every_other_session_and_keeps_this_one(db, world, client_for):
    user = world.user("a", "headteacher")
    here, elsewhere = client_for(user), client_for(user)
    assert elsewhere.get("/").status_code == 200
    r = _change(here)
    assert r.status_code == 303
    assert here.get("/").status_code == 200          # this browser carries on
    assert elsewhere.get("/").status_code == 302     # the other is signed out
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password(NEW)
    assert db.session.scalar(select(AuditEvent.action).where(
        AuditEvent.object_id == user.id, AuditEvent.action == "account.password_changed"))


@pytest.mark.parametrize(("over", "field", "message"), [
    ({"current": "not my password"}, "current", "That is not your current password."),
    ({"confirm": "something else entirely"}, "confirm", "The two passwords are not the same"),
    ({"password": "short", "confirm": "short"}, "password", "Use at least 12 characters"),
])
def test_bad_input_is_explained_beside_the_field_and_changes_nothing(db, world, client_for,
                                                                    over, field, message):
    user = world.user("a", "sle")
    before = (user.password_hash, user.session_version)
    r = _change(client_for(user), **over)
    assert r.status_code == 422
    assert f'id="{field}-error"' in r.get_data(as_text=True)
    assert message in r.get_data(as_text=True)
    db.session.expire_all()
    fresh = db.session.get(User, user.id)
    assert (fresh.password_hash, fresh.session_version) == before


def test_guessing_the_current_password_is_rate_limited(app, db, world, client_for, monkeypatch):
    from portal.extensions import limiter

    monkeypatch.setitem(app.config, "LOGIN_LIMIT", "3 per minute")
    limiter.reset()
    try:
        client = client_for(world.user("a", "director"))
        codes = [_change(client, current=f"guess {i}").status_code for i in range(4)]
        assert codes == [422, 422, 422, 429]
    finally:
        limiter.reset()


def test_a_change_is_announced_to_the_account_email(db, world, client_for, smtp):
    user = world.user("a", "headteacher")
    assert _change(client_for(user)).status_code == 303
    (text,) = smtp.texts(user.email)
    assert "Your password was changed" in text
    assert "signed out on every other device" in text
