"""The audit trail: who did what, when; each record chained to the one before."""

from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from .base import UTCDateTime, utcnow


class AuditEvent(Model):
    __tablename__ = "audit_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    alliance_id: Mapped[int | None] = mapped_column(ForeignKey("alliance.id"))
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(40), default="")
    object_id: Mapped[int | None]
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    ip: Mapped[str] = mapped_column(String(45), default="")
    prev_hash: Mapped[str] = mapped_column(String(64), default="")
    hash: Mapped[str] = mapped_column(String(64), default="")

    __table_args__ = (
        Index("ix_audit_event_object", "object_type", "object_id"),
        Index("ix_audit_event_alliance_at", "alliance_id", "at"),
        Index("ix_audit_event_actor_at", "actor_id", "at"),
    )
