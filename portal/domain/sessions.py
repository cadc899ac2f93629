"""Sign-in sessions: one row per signed-in browser, so signing out ends that browser only.

The session cookie (Flask's signed cookie) carries ``sid``, a random value made at sign-in; the
database keeps only its SHA-256. A request counts as signed in while its row is live (not ended,
and younger than ``PERMANENT_SESSION_LIFETIME``, i.e. ``SESSION_HOURS``) *and* the cookie's
``session_version`` is the account's. So:

- :func:`end` stops this browser (sign out); a copied cookie of it is worthless too;
- :func:`end_all` stops every browser of the account: sign out everywhere, a password set from a
  link, a password change (which keeps the browser that made it), deactivation, new rights.

Nothing here commits: the caller's request does, once.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from flask import current_app
from sqlalchemy import ColumnElement, and_, bindparam, delete, update

from ..extensions import db
from ..models import LoginSession, User, UTCDateTime, utcnow


def sid_hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def _oldest_live(now: datetime) -> datetime:
    return now - current_app.config["PERMANENT_SESSION_LIFETIME"]


def start(user: User, ip: str = "", *, now: datetime | None = None) -> str:
    """A new session for ``user``: returns the value for the cookie (keep it nowhere else)."""
    now = now or utcnow()
    # sessions too old to be used are of no more use to anyone: forget them
    db.session.execute(delete(LoginSession).where(LoginSession.created_at < _oldest_live(now)))
    sid = secrets.token_urlsafe(32)
    db.session.add(LoginSession(user_id=user.id, sid_hash=sid_hash(sid), created_at=now,
                                ip=(ip or "")[:45]))
    return sid


def live() -> ColumnElement[bool]:
    """The join condition from ``User`` to a cookie's session while it is live, with its
    values as bind parameters (:func:`live_params`): the user loader builds its statement once
    and runs it on every request."""
    return and_(LoginSession.user_id == User.id,
                LoginSession.sid_hash == bindparam("live_sid_hash"),
                LoginSession.ended_at.is_(None),
                LoginSession.created_at >= bindparam("live_oldest", type_=UTCDateTime))


def live_params(sid: str | None, *, now: datetime | None = None) -> dict[str, object]:
    """The values of :func:`live`'s parameters for this cookie's ``sid``, now."""
    return {"live_sid_hash": sid_hash(sid or ""), "live_oldest": _oldest_live(now or utcnow())}


def end(sid: str | None) -> None:
    """Sign this browser out; the account's other sessions carry on."""
    if sid:
        db.session.execute(update(LoginSession)
                           .where(LoginSession.sid_hash == sid_hash(sid),
                                  LoginSession.ended_at.is_(None))
                           .values(ended_at=utcnow()))


def end_all(user: User, *, keep: str | None = None) -> None:
    """Sign the account out everywhere (but for the session ``keep``, if given).

    The new ``session_version`` is what makes every other cookie worthless at once; the caller
    who keeps a session signs it in again (``login_user``) so its cookie carries the new one."""
    user.session_version = User.session_version + 1  # in SQL: two at once never lose one
    stmt = update(LoginSession).where(LoginSession.user_id == user.id,
                                      LoginSession.ended_at.is_(None))
    if keep:
        stmt = stmt.where(LoginSession.sid_hash != sid_hash(keep))
    db.session.execute(stmt.values(ended_at=utcnow()))
    db.session.flush()  # session_version is re-read from the row when next used
