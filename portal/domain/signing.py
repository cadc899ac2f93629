"""Agreement signing: canonical text, content hashes, consent wording and a hash chain.

An agreement is signed over a *content hash*: the SHA-256 of a canonical JSON rendering of the
agreement's terms. Any change to the terms changes the hash, which is why a signature made for
one hash is void for another (see :func:`check_signature`).

:func:`record_hash` and :func:`verify_chain` are the unkeyed single chain the audit trail used
before migration 0016 (which verifies it with them before carrying it over); the audit logs
are now keyed and per alliance (``portal/domain/audit.py``).

Standard library only, so that it can be used and tested without the web application.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

__all__ = [
    "BROKEN_LINK",
    "CONSENT_TEXT",
    "EVIDENCE_KEYS",
    "GENESIS",
    "HASH_MISMATCH",
    "HEAD_MISMATCH",
    "UNREADABLE_RECORD",
    "ChainBreak",
    "canonical_json",
    "check_signature",
    "consent_statement",
    "content_hash",
    "fingerprint",
    "normalise_fingerprint",
    "record_hash",
    "signature_evidence",
    "typed_name_matches",
    "utc_iso",
    "verify_chain",
]

_HEX64 = re.compile(r"[0-9a-f]{64}")

# Characters a user may paste between fingerprint groups: whitespace is handled separately;
# these are the hyphen and the dashes that word processors and mail clients substitute for it.
_FINGERPRINT_SEPARATORS = dict.fromkeys(
    map(ord, "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212:"), None
)


# --------------------------------------------------------------------------------------------
# Canonical JSON and content hashes
# --------------------------------------------------------------------------------------------


def utc_iso(moment: datetime) -> str:
    """Render a timezone-aware datetime as ISO 8601 in UTC with a trailing ``Z``.

    Aware datetimes in other zones are converted to UTC first, so that one instant always has
    one rendering (and therefore one hash). Microseconds are kept when non-zero.

    Raises ValueError for a naive datetime: its instant is unknown.
    """
    if not isinstance(moment, datetime):
        raise TypeError(f"expected a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime: attach a timezone (UTC) before hashing or storing")
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


def _plain(value: Any, path: str) -> Any:
    """Return ``value`` as plain JSON data (dict/list/str/int/bool/None), or raise.

    Subclasses (``IntEnum``, ``StrEnum``, ...) are reduced to their base value so that
    the rendering never depends on a class's ``__repr__`` or ``__str__``.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, float):
        raise TypeError(f"{path}: floats are not allowed (money is integer pence)")
    # datetime is a subclass of date, so it must be tested first.
    if isinstance(value, datetime):
        return utc_iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{path}: keys must be strings, got {type(key).__name__}")
            out[str.__str__(key)] = _plain(item, f"{path}.{key}")
        return out
    if isinstance(value, list | tuple):
        return [_plain(item, f"{path}[{i}]") for i, item in enumerate(value)]
    raise TypeError(f"{path}: cannot canonicalise a {type(value).__name__}")


def canonical_json(obj: Any) -> str:
    """Deterministic JSON text for ``obj``: the exact bytes that get hashed.

    - keys sorted (by code point), no insignificant whitespace, non-ASCII kept as is;
    - ``date`` as ``YYYY-MM-DD``; ``datetime`` as UTC ISO 8601 with ``Z`` (see :func:`utc_iso`);
    - ``UUID`` as its canonical string; tuples as lists;
    - floats and ``Decimal`` raise TypeError (money is integer pence, and a float's text is not
      a stable contract); naive datetimes raise ValueError; anything else raises TypeError.

    Strings are not Unicode-normalised: the text hashed is the text stored.
    """
    text = json.dumps(
        _plain(obj, "$"),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate cannot be hashed as UTF-8
        raise ValueError("text contains characters that are not valid UTF-8") from exc
    return text


def content_hash(content: Mapping[str, Any]) -> str:
    """Lower-case hex SHA-256 of ``canonical_json(content)`` encoded as UTF-8."""
    if not isinstance(content, Mapping):
        raise TypeError(f"content must be a mapping, got {type(content).__name__}")
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


def _require_hash(value: object, what: str = "hash") -> str:
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise ValueError(f"{what} must be 64 lower-case hexadecimal characters")
    return value


# --------------------------------------------------------------------------------------------
# Fingerprints (the hash as people read, compare and paste it)
# --------------------------------------------------------------------------------------------


def fingerprint(hex_hash: str) -> str:
    """Display form of a hash: 16 upper-case groups of four, separated by single spaces.

    >>> fingerprint("ab" * 32)[:14]
    'ABAB ABAB ABAB'
    """
    value = _require_hash(hex_hash)
    return " ".join(value[i : i + 4] for i in range(0, 64, 4)).upper()


def normalise_fingerprint(text: str) -> str:
    """Turn a pasted fingerprint back into the 64-character lower-case hex hash.

    Accepts any case, and spaces, line breaks, hyphens, dashes or colons anywhere (people copy
    from PDFs and e-mails). Full-width characters are folded by NFKC. Raises ValueError if
    what is left is not exactly 64 hexadecimal characters.
    """
    if not isinstance(text, str):
        raise ValueError("fingerprint must be text")
    folded = unicodedata.normalize("NFKC", text).translate(_FINGERPRINT_SEPARATORS)
    compact = "".join(folded.split()).lower()
    if not _HEX64.fullmatch(compact):
        raise ValueError("a fingerprint is 64 hexadecimal characters (0-9, A-F)")
    return compact


# --------------------------------------------------------------------------------------------
# Consent and signature evidence
# --------------------------------------------------------------------------------------------

CONSENT_TEXT = (
    "I, {name}, signing as {capacity}, agree to the terms of agreement {reference}, "
    "version {version}, with fingerprint {fingerprint}."
)

#: The exact key set of a signature evidence record.
EVIDENCE_KEYS = frozenset(
    {
        "agreement_id",
        "agreement_version",
        "content_hash",
        "user_id",
        "capacity",
        "typed_name",
        "consent_text",
        "signed_at",
        "ip_address",
        "user_agent",
    }
)


def _require_text(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must not be blank")
    return value


def _require_version(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError("version must be a whole number from 1")
    return value


def consent_statement(
    name: str, capacity: str, reference: str, version: int, agreement_hash: str
) -> str:
    """The exact sentence a signatory agrees to, naming the fingerprint of the terms.

    Runs of whitespace in ``name``, ``capacity`` and ``reference`` are collapsed to one space
    so the statement reads cleanly; braces in them are harmless (only the template is parsed).
    """
    return CONSENT_TEXT.format(
        name=" ".join(_require_text(name, "name").split()),
        capacity=" ".join(_require_text(capacity, "capacity").split()),
        reference=" ".join(_require_text(reference, "reference").split()),
        version=_require_version(version),
        fingerprint=fingerprint(_require_hash(agreement_hash, "agreement hash")),
    )


def signature_evidence(
    *,
    user_id: int | str,
    capacity: str,
    typed_name: str,
    consent_text: str,
    signed_at: datetime,
    ip_address: str | None,
    user_agent: str | None,
    agreement_hash: str,
    agreement_id: int | str,
    version: int,
) -> dict[str, Any]:
    """Build the evidence record kept for one signature (keys: :data:`EVIDENCE_KEYS`).

    The record is plain JSON data (``signed_at`` is a UTC ISO string), so it can be stored as
    is and chained with :func:`record_hash`. ``typed_name`` is kept exactly as typed; check it
    with :func:`typed_name_matches` before calling this.

    Raises ValueError if the consent text does not name the fingerprint of ``agreement_hash``:
    evidence must show that the signatory was shown the very terms being signed.
    """
    agreement_hash = _require_hash(agreement_hash, "agreement hash")
    consent_text = _require_text(consent_text, "consent text")
    if fingerprint(agreement_hash) not in consent_text:
        raise ValueError("consent text does not name the fingerprint of the agreement hash")
    if isinstance(user_id, bool) or not isinstance(user_id, int | str):
        raise TypeError("user_id must be an int or a str")
    if isinstance(agreement_id, bool) or not isinstance(agreement_id, int | str):
        raise TypeError("agreement_id must be an int or a str")
    for what, optional in (("ip_address", ip_address), ("user_agent", user_agent)):
        if optional is not None and not isinstance(optional, str):
            raise TypeError(f"{what} must be a str or None")
    return {
        "agreement_id": agreement_id,
        "agreement_version": _require_version(version),
        "content_hash": agreement_hash,
        "user_id": user_id,
        "capacity": _require_text(capacity, "capacity"),
        "typed_name": _require_text(typed_name, "typed name"),
        "consent_text": consent_text,
        "signed_at": utc_iso(signed_at),
        "ip_address": ip_address,
        "user_agent": user_agent,
    }


def check_signature(evidence: Mapping[str, Any], current_content_hash: str) -> bool:
    """True only if ``evidence`` is a well-formed record made for exactly this content hash.

    A signature on earlier terms (another hash) is void. Also false if the key set is not
    exactly :data:`EVIDENCE_KEYS` or the consent text does not name this hash's fingerprint.
    Never raises for bad input: anything malformed is simply not a valid signature.
    """
    if not isinstance(evidence, Mapping) or set(evidence.keys()) != EVIDENCE_KEYS:
        return False
    if not isinstance(current_content_hash, str) or not _HEX64.fullmatch(current_content_hash):
        return False
    if evidence["content_hash"] != current_content_hash:
        return False
    consent = evidence["consent_text"]
    return isinstance(consent, str) and fingerprint(current_content_hash) in consent


def _name_key(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def typed_name_matches(typed: str, full_name: str) -> bool:
    """Whether a typed signature is the signatory's name.

    Comparison ignores case (Unicode case folding) and surrounding or repeated whitespace, and
    NFKC-normalises both sides, so composed and decomposed accents are equal. Accents still
    count: "Zoe" does not match "Zoë". A blank name never matches.
    """
    if not isinstance(typed, str) or not isinstance(full_name, str):
        return False
    key = _name_key(typed)
    return bool(key) and key == _name_key(full_name)


# --------------------------------------------------------------------------------------------
# Hash chain
# --------------------------------------------------------------------------------------------

#: ``prev_hash`` of the first record in a chain.
GENESIS = "0" * 64

BROKEN_LINK = "previous hash does not match the hash of the record before"
HASH_MISMATCH = "stored hash does not match the record's contents"
UNREADABLE_RECORD = "record cannot be read as canonical JSON"
HEAD_MISMATCH = "chain does not end at the expected head (records missing or added at the end)"


@dataclass(frozen=True)
class ChainBreak:
    """Where a hash chain first fails to verify: ``index`` into the records, and why."""

    index: int
    reason: str


def record_hash(prev_hash: str, record: Mapping[str, Any]) -> str:
    """SHA-256 (hex) over ``prev_hash`` followed by ``canonical_json(record)``, UTF-8."""
    prev = _require_hash(prev_hash, "previous hash")
    if not isinstance(record, Mapping):
        raise TypeError(f"record must be a mapping, got {type(record).__name__}")
    return hashlib.sha256((prev + canonical_json(record)).encode("utf-8")).hexdigest()


def verify_chain(
    records: Iterable[tuple[Mapping[str, Any], str, str]],
    expected_head: str | None = None,
) -> ChainBreak | None:
    """Check a chain of ``(payload, stored_prev_hash, stored_hash)`` items, oldest first.

    Returns the first break, or None if the chain is intact:

    - :data:`BROKEN_LINK` if ``stored_prev_hash`` is not the previous item's ``stored_hash``
      (:data:`GENESIS` for the first) - a record removed, inserted or reordered;
    - :data:`HASH_MISMATCH` if ``stored_hash != record_hash(stored_prev_hash, payload)`` -
      the payload or the stored hash edited;
    - :data:`UNREADABLE_RECORD` if the payload cannot be canonicalised at all.

    A chain alone cannot reveal records cut off the end, or a wholesale rewrite from some point
    onwards. Pass ``expected_head`` (the last hash, kept somewhere else) to catch those: a
    mismatch is reported as :data:`HEAD_MISMATCH` at ``index == len(records)``.

    ``records`` is consumed once, so a streaming query result may be passed.
    """
    expected_prev = GENESIS
    count = 0
    for index, (payload, stored_prev, stored_hash) in enumerate(records):
        count = index + 1
        if stored_prev != expected_prev:
            return ChainBreak(index, BROKEN_LINK)
        try:
            actual = record_hash(stored_prev, payload)
        except (TypeError, ValueError):
            return ChainBreak(index, UNREADABLE_RECORD)
        if stored_hash != actual:
            return ChainBreak(index, HASH_MISMATCH)
        expected_prev = stored_hash
    if expected_head is not None and expected_head != expected_prev:
        return ChainBreak(count, HEAD_MISMATCH)
    return None
