"""Forgot your password: the same answer for every address, a single-use link that works for an
hour and exists only in the email sent, every session ended, and a limit on asking."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.domain import invites
from portal.extensions import db, limiter
from portal.models import AuditEvent, InviteToken, OutboxEmail, User, utcnow

from ..factories import PASSWORD

NEW = "my new and long password"


def _ask(client, email, environ=None):
    return client.post("/account/forgot", {"email": email}, environ_base=environ or {})


def _page_text(response) -> str:
    """The page without its per-session CSRF token, to compare two answers."""
    text = re.sub(r'value="[^"]*"', 'value=""', response.get_data(as_text=True))
    return re.sub(r'"X-CSRFToken": "[^"]*"', '"X-CSRFToken": ""', text)


def test_the_sign_in_page_offers_it(db, anon):
    page = anon.get("/login").get_data(as_text=True)
    assert 'href="/account/forgot"' in page and "Forgot your password?" in page
    form = anon.get("/account/forgot").get_data(as_text=True)
    assert 'for="email"' in form and 'autocomplete="username"' in form


def test_known_and_unknown_addresses_get_the_same_answer(world, client_for, smtp):
    head = world.user("a", "headteacher")
    known = _ask(client_for(None), head.email)
    unknown = _ask(client_for(None), "nobody@alpha.example.org")
    assert known.status_code == unknown.status_code == 200
    assert _page_text(known) == _page_text(unknown)
    assert "If an account uses that address" in known.get_data(as_text=True)
    assert [m.rcpt_tos for m in smtp.messages] == [[head.email]]


def test_the_link_sets_a_password_once_and_is_only_in_the_sent_email(world, anon, smtp):
    head = world.user("a", "headteacher")
    _ask(anon, head.email.upper())
    link = smtp.link(head.email)
    token = link.rsplit("/", 1)[1]
    mail = db.session.scalar(select(OutboxEmail).where(OutboxEmail.to == head.email))
    assert token not in mail.body and "set-password/" not in mail.body
    stored = db.session.scalar(select(InviteToken).where(InviteToken.user_id == head.id))
    assert stored.token_hash == invites.token_hash(token) and stored.purpose == "reset"
    assert stored.expires_at - stored.created_at == timedelta(hours=1)
    page = anon.get(link)
    assert page.status_code == 200 and "Choose a new password" in page.get_data(as_text=True)
    assert anon.post(link, {"password": NEW, "confirm": NEW}).status_code == 303
    db.session.expire_all()
    assert db.session.get(User, head.id).check_password(NEW)
    assert anon.post(link, {"password": "yet another long one",
                            "confirm": "yet another long one"}).status_code == 410
    assert db.session.get(User, head.id).check_password(NEW)
    ev = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "account.password_set"))
    assert ev.detail == {"via": "reset"} and token not in repr(ev.detail)


def test_the_link_expires_after_an_hour(world, anon, smtp):
    head = world.user("a", "headteacher")
    _ask(anon, head.email)
    token = smtp.link(head.email).rsplit("/", 1)[1]
    assert invites.find(token, now=utcnow() + timedelta(minutes=59)).user_id == head.id
    with pytest.raises(invites.InviteError, match="expired"):
        invites.find(token, now=utcnow() + timedelta(minutes=61))


def test_asking_again_voids_the_earlier_link(world, client_for, anon, smtp):
    head = world.user("a", "headteacher")
    _ask(client_for(None), head.email)
    first = smtp.link(head.email)
    _ask(client_for(None), head.email)
    second = smtp.link(head.email)
    assert anon.get(first).status_code == 410 and anon.get(second).status_code == 200


def test_deactivated_accounts_get_no_email(world, anon, smtp):
    head = world.user("a", "headteacher")
    head.active = False
    db.session.commit()
    assert _ask(anon, head.email).status_code == 200
    assert smtp.messages == [] and db.session.scalar(select(func.count(InviteToken.id))) == 0


def test_a_bad_address_is_explained_beside_the_field(db, anon):
    r = _ask(anon, "not an address")
    assert r.status_code == 422
    assert 'id="email-error"' in r.get_data(as_text=True)


def test_asking_is_rate_limited_like_sign_in(world, app, anon, smtp, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT", "3 per minute")
    limiter.reset()
    try:
        codes = [_ask(anon, "nobody@alpha.example.org").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
    finally:
        limiter.reset()


def test_emails_to_one_account_are_capped_whoever_asks(world, client_for, app, smtp,
                                                       monkeypatch):
    """Nobody can flood a colleague's inbox from many addresses; the answer does not change."""
    monkeypatch.setitem(app.config, "RESET_EMAIL_LIMIT", "2 per hour")
    limiter.reset()
    head = world.user("a", "headteacher")
    try:
        codes = [_ask(client_for(None), head.email, {"REMOTE_ADDR": f"192.0.2.{i}"}).status_code
                 for i in range(1, 5)]
        assert codes == [200] * 4
        assert len(smtp.messages) == 2
    finally:
        limiter.reset()


def test_signed_in_users_can_still_use_it_and_it_ends_their_sessions(world, client_for, smtp):
    head = world.user("a", "headteacher")
    me = client_for(head)
    assert _ask(me, head.email).status_code == 200
    link = smtp.link(head.email)
    assert me.post(link, {"password": NEW, "confirm": NEW}).status_code == 303
    assert me.get("/").status_code == 302
    db.session.expire_all()
    assert not db.session.get(User, head.id).check_password(PASSWORD)
