"""Invitation links: single-use, expiring, and only their hash is stored.

``issue`` makes a token for a user and returns it (to go in the email only). ``redeem`` spends
it: a conditional UPDATE marks it used, so two submissions of the same link (a double click, or
two tabs) can set a password at most once.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update

from ..extensions import db
from ..models import InviteToken, User, utcnow
from . import errors

DEFAULT_TTL = timedelta(hours=72)
MIN_PASSWORD = 12


class InviteError(errors.Invalid):
    """The link is unknown, used or expired (the message says which, without leaking users)."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(user: User, actor: User | None, *, now: datetime | None = None,
          ttl: timedelta = DEFAULT_TTL) -> str:
    """A fresh link for ``user``; any earlier unused link of theirs stops working."""
    now = now or utcnow()
    db.session.execute(
        update(InviteToken)
        .where(InviteToken.user_id == user.id, InviteToken.used_at.is_(None))
        .values(used_at=now)
    )
    token = secrets.token_urlsafe(32)
    db.session.add(InviteToken(user_id=user.id, token_hash=token_hash(token),
                               created_by_id=actor.id if actor else None,
                               created_at=now, expires_at=now + ttl))
    return token


def find(token: str, *, now: datetime | None = None) -> InviteToken:
    now = now or utcnow()
    invite = db.session.scalar(
        select(InviteToken).where(InviteToken.token_hash == token_hash(token or ""))
    )
    if invite is None or invite.used_at is not None:
        raise InviteError("This link has already been used or is not valid. "
                          "Ask your co-ordinator to send a new invitation.")
    if invite.expires_at <= now:
        raise InviteError("This link has expired. Ask your co-ordinator to send a new invitation.")
    if not invite.user.active:
        raise InviteError("This account is not active. Ask your co-ordinator.")
    return invite


def redeem(token: str, password: str, *, now: datetime | None = None) -> User:
    """Spend the token and set the password, in the caller's transaction (caller commits)."""
    now = now or utcnow()
    invite = find(token, now=now)
    spent = db.session.execute(
        update(InviteToken)
        .where(InviteToken.id == invite.id, InviteToken.used_at.is_(None))
        .values(used_at=now)
    )
    if spent.rowcount != 1:
        raise InviteError("This link has already been used. Sign in with your password.")
    user = invite.user
    user.set_password(password)
    user.session_version += 1
    return user
