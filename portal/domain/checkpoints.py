"""Signed checkpoints: the portal's Ed25519 signature on one log's head.

A checkpoint states that log L had ``size`` events with Merkle root R and chain head H at a
moment; it is signed with a key the database does not hold (``CHECKPOINT_KEY`` or
``CHECKPOINT_KEY_FILE``), and copies are emailed to the alliance's directors and exported
(``flask export-checkpoints``). A log cut short, reordered or recomputed after a checkpoint no
longer matches it (``flask verify-audit``), and an event's inclusion proof against a
checkpoint shows it was in the log when the checkpoint was signed.

The signed bytes are :func:`statement` (UTF-8), so anyone with the public key can check a
checkpoint with any Ed25519 library.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from flask import current_app
from sqlalchemy import func, select

from ..extensions import db
from ..models import AuditCheckpoint, AuditLogHead, User, utcnow
from . import merkle
from .signing import utc_iso

HEADER = "School Support Portal audit checkpoint v1"


# --------------------------------------------------------------------------------- keys


def load_private_key(text: str) -> Ed25519PrivateKey:
    """An Ed25519 private key from PEM (PKCS#8) text or base64 of its 32-byte seed."""
    text = (text or "").strip()
    if not text:
        raise ValueError("no key given")
    if "BEGIN" in text:
        try:
            key = serialization.load_pem_private_key(text.encode(), password=None)
        except (ValueError, TypeError) as exc:
            raise ValueError("the PEM text is not a readable private key") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the PEM key is not an Ed25519 key")
        return key
    try:
        seed = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("neither PEM nor base64") from exc
    if len(seed) != 32:
        raise ValueError("a base64 Ed25519 key is 32 bytes")
    return Ed25519PrivateKey.from_private_bytes(seed)


@lru_cache(maxsize=4)
def _key(text: str) -> Ed25519PrivateKey:
    return load_private_key(text)


def private_key() -> Ed25519PrivateKey:
    return _key(current_app.config["CHECKPOINT_KEY"])


def public_key_bytes(key: Ed25519PrivateKey | None = None) -> bytes:
    return (key or private_key()).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_b64() -> str:
    return base64.b64encode(public_key_bytes()).decode()


def key_id(public: bytes) -> str:
    """A short name for a public key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(public).hexdigest()[:16]


# --------------------------------------------------------------------------------- statements


def statement(cp: Mapping[str, Any]) -> str:
    """The exact text signed for checkpoint ``cp`` (keys log, size, root, head, signed_at)."""
    return (f"{HEADER}\nlog {cp['log']}\nsize {int(cp['size'])}\nroot {cp['root']}\n"
            f"head {cp['head']}\nsigned_at {cp['signed_at']}\n")


def verify_signature(cp: Mapping[str, Any], public: bytes | None = None) -> bool:
    """Does ``cp`` (in :func:`as_json` form) carry a good signature by ``public`` (by default
    this portal's key, which must also be the key the checkpoint names)? Never raises."""
    try:
        public = public if public is not None else public_key_bytes()
        if cp.get("key_id") != key_id(public):
            return False
        Ed25519PublicKey.from_public_bytes(public).verify(
            base64.b64decode(cp["signature"], validate=True), statement(cp).encode())
        return True
    except (InvalidSignature, KeyError, TypeError, ValueError, binascii.Error):
        return False


def as_json(cp: AuditCheckpoint) -> dict[str, Any]:
    return {"log": cp.log, "size": cp.size, "root": cp.root_hash, "head": cp.head_hash,
            "signed_at": utc_iso(cp.signed_at), "reason": cp.reason, "key_id": cp.key_id,
            "signature": cp.signature}


def stored() -> list[dict[str, Any]]:
    return [as_json(cp) for cp in db.session.scalars(
        select(AuditCheckpoint).order_by(AuditCheckpoint.id))]


def sign(log: str, size: int, root: str, head: str, *, reason: str,
         signed_at: datetime | None = None) -> AuditCheckpoint:
    """Sign and store a checkpoint of these values (the caller has them from the log)."""
    key = private_key()
    at = (signed_at or utcnow()).replace(microsecond=0)
    cp = AuditCheckpoint(log=log, size=size, root_hash=root, head_hash=head, signed_at=at,
                         reason=reason, key_id=key_id(public_key_bytes(key)), signature="")
    cp.signature = base64.b64encode(key.sign(statement(as_json(cp)).encode())).decode()
    db.session.add(cp)
    return cp


def checkpoint(log: str, *, reason: str, notify_directors: bool = True) -> AuditCheckpoint:
    """Sign the current head of ``log`` (its head row locked, so no write slips in between),
    store it, and email it to the alliance's directors."""
    from .audit import lock_head

    head = lock_head(log)
    cp = sign(log, head.size, merkle.Frontier.from_json(head.frontier).root().hex(),
              head.head_hash, reason=reason)
    if notify_directors:
        email(cp)
    return cp


def latest(log: str, min_size: int = 0) -> AuditCheckpoint | None:
    """The newest checkpoint of ``log`` covering at least ``min_size`` events."""
    return db.session.scalar(select(AuditCheckpoint).where(
        AuditCheckpoint.log == log, AuditCheckpoint.size >= min_size)
        .order_by(AuditCheckpoint.size.desc(), AuditCheckpoint.id.desc()).limit(1))


def grown_logs() -> list[str]:
    """The logs with events after their last checkpoint (or none yet)."""
    db.session.flush()
    last = dict(db.session.execute(select(AuditCheckpoint.log, func.max(AuditCheckpoint.size))
                                   .group_by(AuditCheckpoint.log)).all())
    return [log for log, size in db.session.execute(
        select(AuditLogHead.log, AuditLogHead.size).order_by(AuditLogHead.log)).all()
        if size > (last.get(log) or 0)]


def checkpoint_all(reason: str = "scheduled") -> list[AuditCheckpoint]:
    """A checkpoint of every log that grew since its last one (``flask checkpoint``)."""
    return [checkpoint(log, reason=reason) for log in grown_logs()]


def email(cp: AuditCheckpoint) -> None:
    """Send the checkpoint to the directors of its alliance (the portal log: to nobody; it is
    exported instead). The copy in their mailbox is out of the database's reach."""
    from . import notify

    if not cp.log.startswith("alliance:"):
        return
    alliance_id = int(cp.log.split(":", 1)[1])
    directors = db.session.scalars(select(User).where(
        User.alliance_id == alliance_id, User.role == "director", User.active.is_(True))).all()
    data = as_json(cp)
    body = (
        "This is a signed checkpoint of your alliance's audit log. Keep this email: it lets "
        "anyone show later that the log was not cut short or rewritten after it was signed.\n\n"
        f"Events in the log: {cp.size}\nSigned at: {data['signed_at']}\n"
        f"Why: {cp.reason}\n\n"
        "The signed text, exactly:\n\n" + statement(data) +
        f"\nSignature (Ed25519, base64): {cp.signature}\n"
        f"Portal public key (base64): {public_key_b64()} (key {cp.key_id})\n"
    )
    for user in directors:
        notify.queue_email(user, "Audit checkpoint of your alliance's log", body,
                           alliance_id=alliance_id)
