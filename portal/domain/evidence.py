"""Checking a signed agreement from its evidence alone: the algorithm behind the public
verify page, the printed proof and ``flask verify-agreement FILE`` (README, "Checking an
agreement offline").

An *evidence bundle* (JSON, :data:`FORMAT`) holds the agreement's terms and content hash, its
signatories, each signature's evidence with the audit event that recorded it and that
event's inclusion proof, and the signed checkpoint the proofs lead to. :func:`verify_bundle`
needs nothing else but the portal's public key: no database, no server. Each check is named
and says plainly what failed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import merkle, signing

FORMAT = "school-support-portal evidence bundle v1"

# The checks, by name, in the order they are shown.
FINGERPRINT = "The terms match their fingerprint"
SAME_TERMS = "Every signature was made on these terms"
IN_THE_LOG = "Every signature matches its record in the audit log"
NONE_MISSING = "No signature recorded in the log is missing"
EVERY_PARTY = "Every signatory has signed"
CHECKPOINT = "The checkpoint is signed by the portal's key"
PROOFS = "Every signature's record is in the signed checkpoint"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    message: str


def _digest(data: Any) -> str:
    return hashlib.sha256(signing.canonical_json(data).encode("utf-8")).hexdigest()


def verify_checkpoint(cp: Mapping[str, Any], public: bytes) -> bool:
    """The checkpoint's Ed25519 signature over its statement, by this public key."""
    from .checkpoints import verify_signature

    return verify_signature(cp, public)


def verify_bundle(bundle: Mapping[str, Any], public_key: bytes | None = None) -> list[Check]:
    """Every check on an evidence bundle. ``public_key`` (raw 32 bytes) is the key you trust
    (published by the portal, in the checkpoint emails); without it the bundle's own key is
    used, which proves only that the bundle is consistent with itself."""
    try:
        return _verify(bundle, public_key)
    except (KeyError, TypeError, ValueError, AttributeError, binascii.Error) as exc:
        return [Check("The evidence can be read", False, f"The evidence is malformed: {exc}.")]


def _verify(bundle: Mapping[str, Any], public_key: bytes | None) -> list[Check]:
    if bundle.get("format") != FORMAT:
        return [Check("The evidence can be read", False, "This is not an evidence bundle.")]
    agreement = bundle["agreement"]
    checks: list[Check] = []
    stored = agreement.get("content_hash") or ""
    actual = signing.content_hash(agreement["content"])
    if not stored:
        checks.append(Check(FINGERPRINT, False, "The agreement's fingerprint has been removed."))
    elif stored != actual:
        checks.append(Check(FINGERPRINT, False,
                            "The stored terms do not give the agreement's fingerprint: the "
                            "terms or the fingerprint were changed."))
    else:
        checks.append(Check(FINGERPRINT, True, "The stored terms give the fingerprint "
                                               f"{signing.fingerprint(actual)}."))
    signed = [s for s in bundle["signatures"] if s["evidence"].get("consent_text")
              and s.get("decision", "signed") == "signed"]
    other = [s for s in signed if not signing.check_signature(s["evidence"], actual)]
    checks.append(Check(SAME_TERMS, not other, "Every signature names these terms." if not other
                        else f"{len(other)} signature(s) were made on different terms "
                             "(another fingerprint) from those stored now."))
    wrong = [s for s in signed if s["event"]["detail"].get("evidence") != s["evidence"]
             or s["event"]["object_id"] != s["evidence"]["agreement_id"]]
    checks.append(Check(IN_THE_LOG, not wrong, "Each signature is the one the log recorded."
                        if not wrong else f"{len(wrong)} signature(s) differ from what the "
                                          "audit log recorded."))
    missing = bundle.get("missing_signatures") or []
    checks.append(Check(NONE_MISSING, not missing, "Every signature the log recorded is here."
                        if not missing else f"{len(missing)} signature(s) recorded in the log "
                                            "have been removed from the agreement."))
    parties = [p["party"] for p in bundle["signatories"]]
    good = {s["party"] for s in signed if s not in other and s not in wrong}
    done = sum(1 for p in parties if p in good)
    checks.append(Check(EVERY_PARTY, done == len(parties) and bool(parties),
                        f"{done} of {len(parties)} signatories have signed."))
    cp = bundle.get("checkpoint")
    if not cp:
        checks.append(Check(CHECKPOINT, False, "No signed checkpoint covers these signatures "
                                               "yet."))
        checks.append(Check(PROOFS, False, "Nothing to prove the signatures against yet."))
        return checks
    key = public_key if public_key is not None else base64.b64decode(bundle["public_key"])
    if not verify_checkpoint(cp, key):
        checks.append(Check(CHECKPOINT, False, "The checkpoint's signature does not verify "
                                               "with the portal's key."))
    else:
        checks.append(Check(CHECKPOINT, True,
                            f"Signed {cp['signed_at']} over {cp['size']} events "
                            f"(key {cp['key_id']})."))
    root = bytes.fromhex(cp["root"])
    unproven = 0
    for s in signed:
        event = s["event"]
        ok = (event["log"] == cp["log"] and s.get("digest") == _digest(event)
              and event["seq"] == s["leaf_index"] + 1
              and merkle.verify_inclusion(bytes.fromhex(s["digest"]), s["leaf_index"],
                                          cp["size"], [bytes.fromhex(p) for p in s["proof"]],
                                          root))
        unproven += not ok
    checks.append(Check(PROOFS, unproven == 0 and bool(signed), (
        "Each signature's record is in the checkpoint's tree." if unproven == 0 and signed
        else f"{unproven} signature record(s) are not in the checkpoint's tree."
        if signed else "There are no signatures to prove.")))
    return checks


def fully_signed(checks: list[Check]) -> bool:
    """Signed by every party, and every check passes: the only "fully signed" there is."""
    return bool(checks) and all(c.ok for c in checks)
