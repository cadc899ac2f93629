"""Set-password links (an admin's invitation, or the user's own "Forgot your password?"):
single-use, expiring, and only their hash is stored.

Nobody but the account's owner may ever hold a usable link, so a link is never made when the
email is queued. :func:`send_invitation` and :func:`send_reset` queue an email whose stored body
has a placeholder where the link goes; as the email is sent, :func:`mint` makes a fresh token
(every earlier unused link of the account stops working) and the sender puts it into the
outgoing message only. The outbox, backups, exports, the audit trail and the logs see the
placeholder. A retry mints again, so the newest email received is the one that works.

:func:`redeem` spends a token: a conditional UPDATE marks it used, so two submissions of the
same link (a double click, or two tabs) set a password at most once; every session of the
account ends and the owner is told by email.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update

from ..extensions import db
from ..formatting import uk_datetime
from ..models import InviteToken, User, utcnow
from . import errors, notify, sessions

DEFAULT_TTL = timedelta(hours=72)  # an invitation
RESET_TTL = timedelta(hours=1)     # "Forgot your password?"
TTL = {"invite": DEFAULT_TTL, "reset": RESET_TTL}
MIN_PASSWORD = 12

ASK_AGAIN = "use “Forgot your password?” on the sign-in page to have a new link sent to you"


class InviteError(errors.Invalid):
    """The link is unknown, used or expired (the message says which, without leaking users)."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _hours(ttl: timedelta) -> str:
    hours = int(ttl.total_seconds() // 3600)
    return "1 hour" if hours == 1 else f"{hours} hours"


# ------------------------------------------------------------------------------ the rules


def may_reinvite(user: User) -> str | None:
    """Why ``user`` may not be sent a new invitation, or None if they may.

    Someone who has set a password resets it themselves: an invitation would let whoever reads
    it (an admin) set a password and sign in as them."""
    if not user.active:
        return "Reactivate the account before sending a new invitation."
    if user.password_hash:
        return (f"{user.name} has already set a password, so cannot be sent an invitation. "
                "If they have forgotten it, they can use “Forgot your password?” on the sign-in "
                "page; the link goes to their own email address only.")
    return None


def issue(user: User, actor: User | None = None, *, purpose: str = "invite",
          now: datetime | None = None, ttl: timedelta | None = None) -> str:
    """A fresh token for ``user``; any earlier unused link of theirs stops working.

    Only the email being sent may hold the token (see :func:`mint`)."""
    now = now or utcnow()
    db.session.execute(
        update(InviteToken)
        .where(InviteToken.user_id == user.id, InviteToken.used_at.is_(None))
        .values(used_at=now)
    )
    token = secrets.token_urlsafe(32)
    db.session.add(InviteToken(user_id=user.id, token_hash=token_hash(token), purpose=purpose,
                               created_by_id=actor.id if actor else None,
                               created_at=now, expires_at=now + (ttl or TTL[purpose])))
    return token


def mint(user: User | None, purpose: str) -> str | None:
    """At send time: a new token for the email now going out, or None if the account may no
    longer have this kind of link (deactivated; or an invitation to someone who has set a
    password since it was queued)."""
    if user is None or not user.active:
        return None
    if purpose == "invite" and user.password_hash:
        return None
    return issue(user, None, purpose=purpose)


NO_LINK = {
    "invite": "(There is no link in this email: you have already set your password. Sign in "
              "with it, or " + ASK_AGAIN + ".)",
    "reset": "(There is no link in this email: this account is not active. Ask your alliance "
             "co-ordinator.)",
}


def find(token: str, *, now: datetime | None = None) -> InviteToken:
    now = now or utcnow()
    invite = db.session.scalar(
        select(InviteToken).where(InviteToken.token_hash == token_hash(token or ""))
    )
    if invite is None or invite.used_at is not None:
        raise InviteError("This link has already been used or is not valid. To set a password, "
                          + ASK_AGAIN + ".")
    if invite.expires_at <= now:
        raise InviteError("This link has expired. To set a password, " + ASK_AGAIN + ".")
    if not invite.user.active:
        raise InviteError("This account is not active. Ask your co-ordinator.")
    return invite


def redeem(token: str, password: str, *, now: datetime | None = None) -> User:
    """Spend the token and set the password, in the caller's transaction (caller commits).

    Every session of the account ends, and the owner is told by email."""
    now = now or utcnow()
    invite = find(token, now=now)
    spent = cast(CursorResult[Any], db.session.execute(  # an UPDATE's result has a rowcount
        update(InviteToken)
        .where(InviteToken.id == invite.id, InviteToken.used_at.is_(None))
        .values(used_at=now)
    ))
    if spent.rowcount != 1:
        raise InviteError("This link has already been used. Sign in with your password.")
    user = invite.user
    user.set_password(password)
    sessions.end_all(user)
    announce_password_change(user, now=now)
    return user


def invite_school_leader(actor: User, *, school_id: int, role: str, name: str, email: str,
                         ip: str = "") -> User:
    """A new account for the leader of a school that has no login yet (its headteacher, or its
    home-school leader), invited at once: the set-password link is made as the email is sent.
    Raises :class:`errors.Invalid` beside ``email`` if the address already has an account."""
    from sqlalchemy import func

    from . import audit

    email = (email or "").strip().lower()
    name = (name or "").strip()
    if not name:
        raise errors.Invalid("Enter their name.", field="name")
    if not email or "@" not in email or len(email) > 254:
        raise errors.Invalid("Enter an email address like name@school.sch.uk.", field="email")
    if db.session.scalar(select(User.id).where(func.lower(User.email) == email)):
        raise errors.Invalid("Someone with this email address already has an account.",
                             field="email")
    user = User(email=email, name=name[:120], role=role, alliance_id=actor.alliance_id,
                school_id=school_id, password_hash="")
    db.session.add(user)
    db.session.flush()
    send_invitation(user, actor)
    audit.record(actor, "user.invite", user, ip=ip,
                 detail={"email": email, "role": role, "school_id": school_id})
    return user


# --------------------------------------------------------------------------------- emails


def send_invitation(user: User, inviter: User) -> None:
    """Queue the invitation email; its link is made as it is sent."""
    body = (f"Dear {user.name},\n\n{inviter.name} has invited you to the School Support "
            f"Portal of {user.alliance.name} as {user.role_label}.\n\n"
            f"Set your password here (the link works once, for {_hours(DEFAULT_TTL)}):\n"
            f"{notify.LINK_PLACEHOLDER}\n\n"
            "If you were not expecting this, you can ignore this email.\n")
    notify.queue_email(user, "Your invitation to the School Support Portal", body,
                       link_kind="invite")


def send_reset(user: User) -> None:
    """Queue a "Forgot your password?" email; its link is made as it is sent."""
    body = (f"Dear {user.name},\n\nSomeone, probably you, asked to reset the password of your "
            f"School Support Portal account ({user.email}).\n\n"
            f"Choose a new password here (the link works once, for {_hours(RESET_TTL)}):\n"
            f"{notify.LINK_PLACEHOLDER}\n\n"
            "Setting a new password signs your account out on every device.\n\n"
            "If you did not ask for this, you can ignore this email: your password stays as it "
            "is.\n")
    notify.queue_email(user, "Reset your School Support Portal password", body,
                       link_kind="reset")


def announce_password_change(user: User, *, now: datetime | None = None,
                             kept_this_session: bool = False) -> None:
    """Tell the owner, at their email address, that their password was changed."""
    when = uk_datetime(now or utcnow())
    signed_out = ("You have been signed out on every other device and browser."
                  if kept_this_session else
                  "Every device and browser signed in to your account has been signed out.")
    notify.notify(
        [user], "Your password was changed", "",
        subject="Your School Support Portal password was changed",
        body=(f"Dear {user.name},\n\nYour password was changed on {when} (London time). "
              f"{signed_out}\n\n"
              "If this was not you, use “Forgot your password?” on the sign-in page at once to "
              "choose a new password, and tell your alliance co-ordinator.\n"),
    )
