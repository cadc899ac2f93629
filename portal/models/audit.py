"""The audit trail: who did what, when; one append-only log per alliance (and one "portal"
log for events that belong to no alliance), each event keyed-chained to the one before in its
log, with a Merkle tree over each log whose heads the portal signs (checkpoints)."""

from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
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
    # "alliance:<id>" or "portal"; seq counts from 1 within that log
    log: Mapped[str] = mapped_column(String(24), default="portal", server_default="portal")
    seq: Mapped[int] = mapped_column(default=0, server_default="0")
    # SHA-256 of the canonical event (its Merkle leaf); anyone can recompute it
    digest: Mapped[str] = mapped_column(String(64), default="", server_default="")
    # HMAC(AUDIT_KEY, prev_hash || digest): the keyed chain within the log
    prev_hash: Mapped[str] = mapped_column(String(64), default="")
    hash: Mapped[str] = mapped_column(String(64), default="")
    # the hash this event had in the single chain before migration 0016 (else empty)
    legacy_hash: Mapped[str] = mapped_column(String(64), default="", server_default="")

    __table_args__ = (
        UniqueConstraint("log", "seq", name="uq_audit_event_log_seq"),
        Index("ix_audit_event_hash", "hash"),
        Index("ix_audit_event_object", "object_type", "object_id"),
        Index("ix_audit_event_alliance_at", "alliance_id", "at"),
        Index("ix_audit_event_actor_at", "actor_id", "at"),
    )


class AuditLogHead(Model):
    """The head of one log: its size, last hash and Merkle frontier. A write locks only this
    row (SELECT ... FOR UPDATE), so alliances never wait for each other."""

    __tablename__ = "audit_log_head"
    log: Mapped[str] = mapped_column(String(24), primary_key=True)
    size: Mapped[int] = mapped_column(default=0)
    head_hash: Mapped[str] = mapped_column(String(64), default="")
    frontier: Mapped[dict] = mapped_column(JSON, default=dict)


class AuditCheckpoint(Model):
    """A signed statement of one log's head: size, Merkle root and chain head, at a time.

    Copies are emailed to the alliance's directors and exported, so a log rewritten or cut
    short after a checkpoint no longer matches it even if this row is rewritten too."""

    __tablename__ = "audit_checkpoint"
    id: Mapped[int] = mapped_column(primary_key=True)
    log: Mapped[str] = mapped_column(String(24))
    size: Mapped[int]
    root_hash: Mapped[str] = mapped_column(String(64))
    head_hash: Mapped[str] = mapped_column(String(64))
    signed_at = mapped_column(UTCDateTime, nullable=False)
    reason: Mapped[str] = mapped_column(String(60), default="")
    key_id: Mapped[str] = mapped_column(String(16))
    signature: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index("ix_audit_checkpoint_log_size", "log", "size"),)
