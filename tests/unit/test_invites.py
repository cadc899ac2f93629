"""Invitation tokens: hashed at rest, single use, expiring, superseded by a new invitation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.domain import invites
from portal.extensions import db
from portal.models import InviteToken, utcnow


def test_redeem_sets_the_password_once(world):
    user = world.user("a", "headteacher")
    token = invites.issue(user, world.user("a", "admin"))
    db.session.commit()
    stored = db.session.scalar(select(InviteToken).where(InviteToken.user_id == user.id))
    assert token not in stored.token_hash and len(stored.token_hash) == 64
    old_version = user.session_version
    assert invites.redeem(token, "a new long password") is user
    db.session.commit()
    assert user.check_password("a new long password")
    assert user.session_version == old_version + 1
    with pytest.raises(invites.InviteError, match="already been used"):
        invites.redeem(token, "another long password")


def test_expiry_is_exact(world):
    user = world.user("a", "headteacher")
    now = utcnow()
    token = invites.issue(user, None, now=now, ttl=timedelta(hours=1))
    db.session.commit()
    assert invites.find(token, now=now + timedelta(minutes=59)).user_id == user.id
    with pytest.raises(invites.InviteError, match="expired"):
        invites.find(token, now=now + timedelta(hours=1))


def test_a_new_invitation_supersedes_the_old(world):
    user = world.user("a", "headteacher")
    first = invites.issue(user, None)
    second = invites.issue(user, None)
    db.session.commit()
    with pytest.raises(invites.InviteError):
        invites.find(first)
    assert invites.find(second).user_id == user.id


def test_inactive_users_cannot_use_a_link(world):
    user = world.user("a", "headteacher")
    token = invites.issue(user, None)
    user.active = False
    db.session.commit()
    with pytest.raises(invites.InviteError, match="not active"):
        invites.find(token)


def test_unknown_tokens_are_refused(db):
    with pytest.raises(invites.InviteError):
        invites.find("nope")
    with pytest.raises(invites.InviteError):
        invites.find("")


def test_two_submissions_at_once_set_the_password_once(world, monkeypatch):
    """The second of two racing submissions loaded the token before the first spent it: the
    conditional UPDATE still refuses it."""
    from sqlalchemy import text

    user = world.user("a", "headteacher")
    token = invites.issue(user, None)
    db.session.commit()
    stale = invites.find(token)
    db.session.execute(text("UPDATE invite_token SET used_at = created_at WHERE id = :id"),
                       {"id": stale.id})  # the other request, unseen by this session's object
    assert stale.used_at is None
    monkeypatch.setattr(invites, "find", lambda _t, now=None: stale)
    with pytest.raises(invites.InviteError, match="already been used"):
        invites.redeem(token, "the second long password")
    assert not user.check_password("the second long password")
