"""In-portal notifications and the email outbox."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from .base import UTCDateTime, utcnow


class Notification(Model):
    __tablename__ = "notification"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    message: Mapped[str] = mapped_column(String(300))
    url: Mapped[str] = mapped_column(String(300), default="")
    read_at = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (Index("ix_notification_user_read_at", "user_id", "read_at", "at"),)


class OutboxEmail(Model):
    """Every email the portal sends, kept so the co-ordinator can read what went out.

    An email that carries a set-password link names its kind in ``link_kind`` and its owner in
    ``link_user_id``; the body holds a placeholder, and the link is made only as the email is
    sent (``domain.notify.outgoing_body``), so no reader of the outbox can use it."""

    __tablename__ = "outbox_email"
    id: Mapped[int] = mapped_column(primary_key=True)
    alliance_id: Mapped[int | None] = mapped_column(ForeignKey("alliance.id"), index=True)
    to: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    sent_at = mapped_column(UTCDateTime, nullable=True)
    error: Mapped[str] = mapped_column(Text, default="")
    link_kind: Mapped[str] = mapped_column(String(10), default="", server_default="")
    link_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
