"""The audit trail: every state change records who did what, when, in its alliance's log.

Each alliance has its own append-only log (events that belong to no alliance go to the
"portal" log), so a write locks only its own log's head row and alliances never wait for each
other. Within a log each event carries its sequence number and

- ``digest``: SHA-256 of the canonical event (:func:`payload`), anyone can recompute it; it
  is the event's leaf in the log's Merkle tree (``portal/domain/merkle.py``);
- ``hash``: HMAC-SHA-256 under ``AUDIT_KEY`` of the previous event's hash and this digest, so
  the chain cannot be recomputed end to end by someone who can only write to the database.

The log's head row keeps its size, last hash and Merkle frontier; checkpoints (signed heads,
``portal/domain/checkpoints.py``) are made from it. :func:`verify` recomputes every log and
reports each forgery it finds by name (the ``FORGED_*``/``EVENT_*`` constants).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..extensions import db
from ..models import (
    ActionPlan,
    Agreement,
    AuditEvent,
    AuditLogHead,
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
from . import audit_words, merkle
from .signing import GENESIS, canonical_json

PORTAL_LOG = "portal"

# What verify() can find, by name (each has a test in tests/unit/test_audit_log.py).
EVENT_EDITED = "event edited"  # its content no longer gives its digest
KEYED_HASH_WRONG = "chain recomputed without the audit key"  # HMAC does not verify
EVENT_REMOVED = "event removed from the middle of the log"  # a gap in seq or a broken link
EVENTS_TRUNCATED = "events deleted from the end of the log"  # shorter than head or checkpoint
LOG_REWRITTEN = "log differs from its signed checkpoint"  # Merkle root or chain head
CHECKPOINT_FORGED = "checkpoint signature does not verify"


@dataclass(frozen=True)
class Finding:
    """One forgery found: its name, which log (or agreement), where, and the particulars."""

    forgery: str
    where: str
    detail: str

    def __str__(self) -> str:
        return f"{self.forgery}: {self.where}: {self.detail}"


def log_name(alliance_id: int | None) -> str:
    return f"alliance:{alliance_id}" if alliance_id else PORTAL_LOG


def payload(event: Any) -> dict:
    return {
        "log": event.log,
        "seq": event.seq,
        "at": event.at,
        "actor_id": event.actor_id,
        "alliance_id": event.alliance_id,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "detail": event.detail or {},
        "ip": event.ip,
    }


def event_digest(data: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of an event's payload: its Merkle leaf."""
    return hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()


def chain_hash(key: bytes, prev_hash: str, digest: str) -> str:
    return hmac.new(key, (prev_hash + digest).encode("ascii"), hashlib.sha256).hexdigest()


def audit_key() -> bytes:
    return str(current_app.config["AUDIT_KEY"]).encode("utf-8")


def lock_head(log: str) -> AuditLogHead:
    """The head row of ``log``, created if new and locked until commit (PostgreSQL: SELECT ...
    FOR UPDATE on that row only; SQLite has one writer at a time anyway)."""
    mine = db.session.identity_map.get(db.session.identity_key(AuditLogHead, log))
    if mine is not None and mine in db.session.dirty:
        return mine  # already locked and moved on by this transaction, not flushed yet
    head = db.session.get(AuditLogHead, log, with_for_update=True, populate_existing=True)
    if head is None:
        dialect = db.session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        db.session.execute(insert(AuditLogHead).values(
            log=log, size=0, head_hash=GENESIS, frontier={}).on_conflict_do_nothing())
        head = db.session.get(AuditLogHead, log, with_for_update=True, populate_existing=True)
        assert head is not None
    return head


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
    head = lock_head(log_name(alliance_id))
    event = AuditEvent(
        log=head.log,
        seq=head.size + 1,
        at=utcnow().replace(microsecond=0),
        actor_id=actor.id if actor is not None else None,
        alliance_id=alliance_id,
        action=action,
        object_type=type(obj).__name__ if obj is not None else "",
        object_id=getattr(obj, "id", None),
        detail=detail or {},
        ip=ip or "",
        prev_hash=head.head_hash or GENESIS,
    )
    event.digest = event_digest(payload(event))
    event.hash = chain_hash(audit_key(), event.prev_hash, event.digest)
    frontier = merkle.Frontier.from_json(head.frontier)
    frontier.append(bytes.fromhex(event.digest))
    head.size, head.head_hash, head.frontier = event.seq, event.hash, frontier.to_json()
    db.session.add(event)
    return event


# --------------------------------------------------------------------------------- verifying


def events(log: str | None = None, batch: int = 5000) -> Iterator[Any]:
    """Every event (of one log, or of all logs), in (log, seq) order, a batch at a time, as
    rows with the event's columns (lighter than ORM objects; :func:`payload` takes either)."""
    last: tuple[str, int] = ("", 0)
    while True:
        query = select(*AuditEvent.__table__.c).order_by(AuditEvent.log,
                                                         AuditEvent.seq).limit(batch)
        if log is not None:
            query = query.where(AuditEvent.log == log, AuditEvent.seq > last[1])
        else:
            query = query.where((AuditEvent.log > last[0])
                                | ((AuditEvent.log == last[0]) & (AuditEvent.seq > last[1])))
        chunk = db.session.execute(query).all()
        if not chunk:
            return
        yield from chunk
        last = (chunk[-1].log, chunk[-1].seq)


def leaves(log: str, size: int | None = None) -> list[bytes]:
    """The Merkle leaves (event digests) of ``log``, the first ``size`` of them."""
    query = select(AuditEvent.digest).where(AuditEvent.log == log).order_by(AuditEvent.seq)
    if size is not None:
        query = query.limit(size)
    return [bytes.fromhex(d) if len(d) == 64 else b"" for d in db.session.scalars(query)]


class _LogCheck:
    """Walks one log's events in order, checking each, and its checkpoints on the way."""

    def __init__(self, log: str, key: bytes, checkpoints: list[dict], findings: list[Finding]):
        self.log, self.key, self.findings = log, key, findings
        self.frontier = merkle.Frontier()
        self.prev = GENESIS
        self.size = 0
        self.pending = sorted(checkpoints, key=lambda c: c["size"])
        self._checkpoints_at(0)

    def add(self, event: Any) -> None:
        where = f"log {self.log}, event {event.seq}"
        if event.seq != self.size + 1:
            self.findings.append(Finding(EVENT_REMOVED, f"log {self.log}", (
                f"events {self.size + 1} to {event.seq - 1} are missing")
                if event.seq > self.size + 1 else f"event {event.seq} appears twice"))
        elif event.prev_hash != self.prev:
            self.findings.append(Finding(EVENT_REMOVED, where,
                                         "does not link to the event before it"))
        try:
            actual = event_digest(payload(event))
        except (TypeError, ValueError):
            actual = ""
        if actual != event.digest:
            self.findings.append(Finding(EVENT_EDITED, where,
                                         f"{event.action}: its content does not give its digest"))
        elif not hmac.compare_digest(chain_hash(self.key, event.prev_hash, event.digest),
                                     event.hash or ""):
            self.findings.append(Finding(KEYED_HASH_WRONG, where,
                                         f"{event.action}: its keyed hash does not verify"))
        self.frontier.append(bytes.fromhex(event.digest) if len(event.digest) == 64 else b"")
        self.prev = event.hash
        self.size = event.seq
        self._checkpoints_at(self.frontier.size)

    def _checkpoints_at(self, count: int) -> None:
        while self.pending and self.pending[0]["size"] == count:
            cp = self.pending.pop(0)
            if cp["root"] != self.frontier.root().hex() or (
                    count and cp["head"] != self.prev):
                self.findings.append(Finding(LOG_REWRITTEN, f"log {self.log}", (
                    f"its first {count} events do not match the checkpoint signed "
                    f"{cp['signed_at']}")))

    def finish(self, head: tuple[int, str] | None) -> None:
        for cp in self.pending:  # checkpoints beyond the end of the log
            if cp["size"] > self.frontier.size:
                self.findings.append(Finding(EVENTS_TRUNCATED, f"log {self.log}", (
                    f"the checkpoint signed {cp['signed_at']} covers {cp['size']} events; "
                    f"{self.frontier.size} are left")))
        if head is not None and head != (self.size, self.prev):
            self.findings.append(Finding(EVENTS_TRUNCATED, f"log {self.log}", (
                f"its head says {head[0]} events; {self.size} are stored")
                if head[0] > self.size else "its head does not match its last event"))


def verify(extra_checkpoints: Iterable[dict] = (), batch: int = 5000) -> list[Finding]:
    """Recompute every log: each event's digest and keyed hash, the links and sequence, the
    head row, and every signed checkpoint (stored, plus ``extra_checkpoints`` exported
    earlier, in :func:`checkpoints.as_json` form). Returns each forgery found."""
    from . import checkpoints

    findings: list[Finding] = []
    by_log: dict[str, list[dict]] = {}
    for cp in [*checkpoints.stored(), *extra_checkpoints]:
        if not checkpoints.verify_signature(cp):
            findings.append(Finding(CHECKPOINT_FORGED, f"log {cp.get('log')}",
                                    f"the checkpoint of size {cp.get('size')} signed "
                                    f"{cp.get('signed_at')}"))
            continue
        by_log.setdefault(cp["log"], []).append(cp)
    heads = {log: (size, head_hash) for log, size, head_hash in db.session.execute(
        select(AuditLogHead.log, AuditLogHead.size, AuditLogHead.head_hash))}
    legacy = [cp for log, cps in by_log.items() if log == LEGACY_LOG for cp in cps]
    by_log.pop(LEGACY_LOG, None)
    findings.extend(verify_legacy(legacy))
    key = audit_key()
    seen: set[str] = set()
    check: _LogCheck | None = None
    for event in events(batch=batch):
        if check is None or check.log != event.log:
            if check is not None:
                check.finish(heads.get(check.log))
            seen.add(event.log)
            check = _LogCheck(event.log, key, by_log.get(event.log, []), findings)
        check.add(event)
    if check is not None:
        check.finish(heads.get(check.log))
    for log in sorted((set(by_log) | set(heads)) - seen):
        _LogCheck(log, key, by_log.get(log, []), findings).finish(heads.get(log))
    return findings


# The single chain before migration 0016 was closed with one checkpoint of this log: its
# leaves are the old hashes (``legacy_hash``) in the old order (id), its head the last of them.
LEGACY_LOG = "single-chain"


def legacy_leaves() -> list[bytes]:
    return [bytes.fromhex(h) for h in db.session.scalars(
        select(AuditEvent.legacy_hash).where(AuditEvent.legacy_hash != "")
        .order_by(AuditEvent.id))]


def verify_legacy(checkpoints: list[dict]) -> list[Finding]:
    """The events carried over from the single chain still match its closing checkpoint."""
    if not checkpoints:
        return []
    old = legacy_leaves()
    findings = []
    for cp in checkpoints:
        if cp["size"] > len(old):
            findings.append(Finding(EVENTS_TRUNCATED, "the single chain before 0016", (
                f"its closing checkpoint covers {cp['size']} events; {len(old)} are left")))
        elif (merkle.root(old[: cp["size"]]).hex() != cp["root"]
              or (cp["size"] and old[cp["size"] - 1].hex() != cp["head"])):
            findings.append(Finding(LOG_REWRITTEN, "the single chain before 0016",
                                    "its events do not match its closing checkpoint"))
    return findings


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
