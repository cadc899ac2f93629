"""The audit trail: every state change records who did what, when, chained by hash.

Each event stores the hash of the one before, so removing, reordering or editing any event
breaks the chain, which ``flask --app portal verify-audit`` reports.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, or_, select, text

from ..extensions import db
from ..models import (
    ActionPlan,
    Agreement,
    AuditEvent,
    Deployment,
    Evaluation,
    Invoice,
    School,
    SupportRequest,
    User,
    Variation,
    Visit,
    utcnow,
)
from . import audit_words
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


# ------------------------------------------------------------------------------ reading it
def about_deployment(deployment: Deployment) -> ColumnElement[bool]:
    """Every event about a deployment: its own, its request's, and those of its agreement
    versions (signatures are recorded on the agreement), plan, visits, extra days,
    evaluations and invoices."""
    d = deployment.id
    parts = [
        (AuditEvent.object_type == "Deployment") & (AuditEvent.object_id == d),
        (AuditEvent.object_type == "SupportRequest")
        & (AuditEvent.object_id == deployment.request_id),
    ]
    for model in (Agreement, ActionPlan, Visit, Variation, Evaluation, Invoice):
        parts.append((AuditEvent.object_type == model.__name__)
                     & AuditEvent.object_id.in_(select(model.id).where(model.deployment_id == d)))
    return or_(*parts)


def names_for(events: Sequence[AuditEvent]) -> audit_words.Names:
    """The names a page of events mentions, in one query per kind (not one per event)."""
    people, schools = audit_words.people_and_schools(e.detail for e in events)
    people |= {e.actor_id for e in events if e.actor_id}
    people |= {e.object_id for e in events if e.object_type == "User" and e.object_id}
    schools |= {e.object_id for e in events if e.object_type == "School" and e.object_id}
    deployments = {e.object_id for e in events if e.object_type == "Deployment" and e.object_id}
    requests = {e.object_id for e in events if e.object_type == "SupportRequest" and e.object_id}
    people_names = dict(db.session.execute(
        select(User.id, User.name).where(User.id.in_(people))).tuples().all()) if people else {}
    school_names = dict(db.session.execute(
        select(School.id, School.name).where(School.id.in_(schools))).tuples().all()) \
        if schools else {}
    objects: dict[tuple[str, int], str] = {}
    if deployments:
        for i, ref in db.session.execute(select(Deployment.id, Deployment.reference)
                                         .where(Deployment.id.in_(deployments))).tuples():
            objects[("Deployment", i)] = f"deployment {ref}"
    if requests:
        for i, title in db.session.execute(select(SupportRequest.id, SupportRequest.title)
                                           .where(SupportRequest.id.in_(requests))).tuples():
            objects[("SupportRequest", i)] = f"the request “{title}”"
    for model in (Agreement, ActionPlan, Visit, Variation, Evaluation, Invoice):
        ids = {e.object_id for e in events if e.object_type == model.__name__ and e.object_id}
        if not ids:
            continue
        base = audit_words.OBJECT_WORDS[model.__name__]
        rows = db.session.execute(
            select(model.id, Deployment.reference, *( [Invoice.number] if model is Invoice
                                                    else []))
            .join(Deployment, Deployment.id == model.deployment_id)
            .where(model.id.in_(ids))).all()
        for row in rows:
            named = f"invoice {row[2]}" if model is Invoice else base
            objects[(model.__name__, row[0])] = f"{named} for {row[1]}"
    for uid in people:
        if uid in people_names:
            objects[("User", uid)] = people_names[uid]
    for sid in schools:
        if sid in school_names:
            objects[("School", sid)] = school_names[sid]
    return audit_words.Names(people=people_names, schools=school_names, objects=objects)
