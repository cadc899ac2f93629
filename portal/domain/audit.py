"""The audit trail: every state change records who did what, when, chained by hash.

Each event stores the hash of the one before, so removing, reordering or editing any event
breaks the chain, which ``flask --app portal verify-audit`` reports.
"""

from __future__ import annotations

from sqlalchemy import select, text

from ..extensions import db
from ..models import AuditEvent, User, utcnow
from .signing import GENESIS, record_hash, verify_chain

_CHAIN_LOCK = 7_301_911  # an arbitrary advisory-lock key for the audit chain (PostgreSQL)


def payload(event: AuditEvent) -> dict:
    return {
        "at": event.at,
        "actor_id": event.actor_id,
        "alliance_id": event.alliance_id,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "detail": event.detail or {},
        "ip": event.ip,
    }


def record(
    actor: User | None,
    action: str,
    obj: object | None = None,
    *,
    alliance_id: int | None = None,
    detail: dict | None = None,
    ip: str = "",
) -> AuditEvent:
    """Add an audit event to the current transaction (the caller commits once)."""
    if alliance_id is None:
        alliance_id = getattr(obj, "alliance_id", None) or getattr(actor, "alliance_id", None)
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CHAIN_LOCK})
    prev = db.session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    event = AuditEvent(
        at=utcnow().replace(microsecond=0),
        actor_id=actor.id if actor is not None else None,
        alliance_id=alliance_id,
        action=action,
        object_type=type(obj).__name__ if obj is not None else "",
        object_id=getattr(obj, "id", None),
        detail=detail or {},
        ip=ip or "",
        prev_hash=prev or GENESIS,
    )
    event.hash = record_hash(event.prev_hash, payload(event))
    db.session.add(event)
    return event


def verify(batch: int = 5000):
    """Walk the whole chain in id order; return the first break (or None)."""
    def rows():
        last_id = 0
        while True:
            chunk = db.session.scalars(
                select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id)
                .limit(batch)
            ).all()
            if not chunk:
                return
            for event in chunk:
                yield payload(event), event.prev_hash, event.hash
            last_id = chunk[-1].id
            db.session.expunge_all()

    return verify_chain(rows())
