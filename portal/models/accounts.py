"""Set-password links (invitations and resets) and sign-in sessions."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .base import UTCDateTime, utcnow
from .people import User

# What a set-password link is for: an admin's invitation, or the user's own "Forgot your password?"
LINK_PURPOSES = ("invite", "reset")


class InviteToken(Model):
    """A set-password link. Only the SHA-256 of the token is kept; the token itself is made when
    the email is sent and exists only in that email."""

    __tablename__ = "invite_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(10), default="invite", server_default="invite")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    expires_at = mapped_column(UTCDateTime, nullable=False)
    used_at = mapped_column(UTCDateTime, nullable=True)

    user: Mapped[User] = relationship(foreign_keys=[user_id])

    __table_args__ = (
        CheckConstraint("purpose in ('invite', 'reset')", name="purpose"),
    )


class LoginSession(Model):
    """One signed-in browser. The cookie carries a random id; only its SHA-256 is kept here.

    Signing out ends this row only; "sign out everywhere", a password set from a link, a
    deactivation or a change of rights bump ``User.session_version``, which ends them all."""

    __tablename__ = "login_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    sid_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    ended_at = mapped_column(UTCDateTime, nullable=True)
    ip: Mapped[str] = mapped_column(String(45), default="")

    __table_args__ = (
        Index("ix_login_session_user_ended", "user_id", "ended_at"),
        Index("ix_login_session_created_at", "created_at"),
    )


class CalendarFeed(Model):
    """A user's private calendar (ICS) link. Only the SHA-256 of its token is kept: the link
    is shown once, when it is made; "Reset the link" replaces the hash, so the old one stops."""

    __tablename__ = "calendar_feed"
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
