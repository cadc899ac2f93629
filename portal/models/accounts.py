"""Set-password links (invitations and resets) and sign-in sessions."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, false
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


# Who a school's own account comes from (issue 21): Microsoft Entra ID or Google Workspace.
SIGN_IN_PROVIDERS = {"microsoft": "Microsoft 365 (Entra ID)", "google": "Google Workspace"}


class AllianceSignIn(Model):
    """An alliance's sign-in settings: which school accounts may sign in (a Microsoft tenant or
    Google Workspace domains, with the portal's client id there) and whether co-ordinators and
    directors must use two-factor sign-in. The client secret is never stored here: it comes
    from the environment (``OIDC_CLIENT_SECRET_<SHORT NAME>``, see portal/domain/oidc.py)."""

    __tablename__ = "alliance_sign_in"
    id: Mapped[int] = mapped_column(primary_key=True)
    alliance_id: Mapped[int] = mapped_column(ForeignKey("alliance.id", ondelete="CASCADE"),
                                             unique=True)
    provider: Mapped[str] = mapped_column(String(10), default="", server_default="")
    client_id: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # Microsoft: tenant ids (GUIDs), one per line. Google: Workspace domains, one per line.
    tenants: Mapped[str] = mapped_column(String(1000), default="", server_default="")
    domains: Mapped[str] = mapped_column(String(1000), default="", server_default="")
    require_two_factor: Mapped[bool] = mapped_column(default=False, server_default=false())
    updated_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    __table_args__ = (
        CheckConstraint("provider in ('', 'microsoft', 'google')", name="provider"),
    )

    @property
    def tenant_list(self) -> list[str]:
        return [t for t in self.tenants.split() if t]

    @property
    def domain_list(self) -> list[str]:
        return [d.lower() for d in self.domains.split() if d]


class UserIdentity(Model):
    """A school account (an OpenID issuer and its subject) linked to a portal user at their
    first sign-in with it. Only ever linked to an account that already existed."""

    __tablename__ = "user_identity"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         index=True)
    issuer: Mapped[str] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(String(255))
    email: Mapped[str] = mapped_column(String(254), default="")
    linked_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    last_used_at = mapped_column(UTCDateTime, nullable=True)

    user: Mapped[User] = relationship()

    __table_args__ = (
        UniqueConstraint("issuer", "subject", name="uq_user_identity_issuer_subject"),
    )


class TwoFactor(Model):
    """A user's authenticator app (TOTP, RFC 6238). ``last_step`` is the time step of the last
    code accepted, so a code seen over someone's shoulder cannot be used again."""

    __tablename__ = "two_factor"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         unique=True)
    secret: Mapped[str] = mapped_column(String(64))
    enabled_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    last_step: Mapped[int] = mapped_column(default=0, server_default="0")


class RecoveryCode(Model):
    """A single-use code for when the authenticator app is lost; only its SHA-256 is kept."""

    __tablename__ = "recovery_code"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at = mapped_column(UTCDateTime, nullable=True)
class CalendarFeed(Model):
    """A user's private calendar (ICS) link. Only the SHA-256 of its token is kept: the link
    is shown once, when it is made; "Reset the link" replaces the hash, so the old one stops."""

    __tablename__ = "calendar_feed"
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
