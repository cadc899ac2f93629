"""Unit tests for portal.domain.signing (pure Python, no app or database)."""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from collections import OrderedDict
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum, IntEnum, StrEnum
from types import MappingProxyType
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.domain.signing import (
    BROKEN_LINK,
    CONSENT_TEXT,
    EVIDENCE_KEYS,
    GENESIS,
    HASH_MISMATCH,
    HEAD_MISMATCH,
    UNREADABLE_RECORD,
    ChainBreak,
    canonical_json,
    check_signature,
    consent_statement,
    content_hash,
    fingerprint,
    normalise_fingerprint,
    record_hash,
    signature_evidence,
    typed_name_matches,
    utc_iso,
    verify_chain,
)

# Strings without lone surrogates (which cannot be encoded as UTF-8 at all).
TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=20)
JSON_LEAVES = st.none() | st.booleans() | st.integers() | TEXT
JSON_DATA = st.recursive(
    JSON_LEAVES,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=20,
)
HASHES = st.binary(min_size=32, max_size=32).map(bytes.hex)

HASH_A = "aa58fba8483623bed37c1b02edfccbdd9a53123837c20bfa4cb4049993a2872e"
HASH_B = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"


# --------------------------------------------------------------------------------------------
# canonical_json
# --------------------------------------------------------------------------------------------


class TestCanonicalJson:
    def test_keys_sorted_and_no_whitespace(self) -> None:
        assert canonical_json({"b": 1, "a": [1, 2], "c": {"z": None, "y": True}}) == (
            '{"a":[1,2],"b":1,"c":{"y":true,"z":null}}'
        )

    def test_insertion_order_does_not_matter(self) -> None:
        one = {"charges": {"days": 4, "rate": 45000}, "focus": "TS4", "parties": ["a", "b"]}
        two = {"parties": ["a", "b"], "focus": "TS4", "charges": {"rate": 45000, "days": 4}}
        assert canonical_json(one) == canonical_json(two)

    def test_list_order_does_matter(self) -> None:
        assert canonical_json({"a": [1, 2]}) != canonical_json({"a": [2, 1]})

    def test_keys_sorted_by_code_point(self) -> None:
        # Upper case sorts before lower case, and "é" (U+00E9) after every ASCII letter.
        assert canonical_json({"é": 1, "b": 2, "B": 3, "a": 4}) == '{"B":3,"a":4,"b":2,"é":1}'

    def test_unicode_kept_not_escaped(self) -> None:
        assert canonical_json({"name": "Siân Ó Dálaigh – 学校"}) == (
            '{"name":"Siân Ó Dálaigh – 学校"}'
        )

    def test_control_characters_and_quotes_escaped(self) -> None:
        assert canonical_json({"t": 'a"b\\c\nd'}) == '{"t":"a\\"b\\\\c\\nd"}'

    def test_unicode_not_normalised(self) -> None:
        composed, decomposed = "\u00e9", "e\u0301"
        assert canonical_json({"n": composed}) != canonical_json({"n": decomposed})

    def test_top_level_scalars_and_lists(self) -> None:
        assert canonical_json([3, "x", None, False]) == '[3,"x",null,false]'
        assert canonical_json(0) == "0"
        assert canonical_json("£") == '"£"'

    def test_tuples_render_as_lists(self) -> None:
        assert canonical_json({"a": (1, 2)}) == '{"a":[1,2]}'

    def test_other_mappings_accepted(self) -> None:
        assert canonical_json(MappingProxyType({"b": 1, "a": 2})) == '{"a":2,"b":1}'
        assert canonical_json(OrderedDict([("b", 1), ("a", 2)])) == '{"a":2,"b":1}'

    def test_big_integers_exact(self) -> None:
        assert canonical_json({"pence": 10**30}) == '{"pence":1000000000000000000000000000000}'

    def test_enum_subclasses_reduced_to_values(self) -> None:
        class Days(IntEnum):
            FOUR = 4

        # A (str, Enum) member's str() is "Role.SLE" in Python 3.11: the value must still win.
        class Role(str, Enum):  # noqa: UP042 - deliberately not StrEnum
            SLE = "sle"

        class Phase(StrEnum):
            PRIMARY = "primary"

        assert canonical_json({"d": Days.FOUR, "r": Role.SLE, "p": Phase.PRIMARY}) == (
            '{"d":4,"p":"primary","r":"sle"}'
        )

    def test_dates(self) -> None:
        assert canonical_json({"d": date(2024, 9, 1)}) == '{"d":"2024-09-01"}'

    def test_utc_datetime_has_trailing_z(self) -> None:
        moment = datetime(2024, 9, 1, 13, 5, 9, tzinfo=UTC)
        assert canonical_json({"at": moment}) == '{"at":"2024-09-01T13:05:09Z"}'

    def test_microseconds_kept(self) -> None:
        moment = datetime(2024, 9, 1, 13, 5, 9, 120, tzinfo=UTC)
        assert canonical_json(moment) == '"2024-09-01T13:05:09.000120Z"'

    def test_aware_datetime_in_other_zone_rendered_as_utc(self) -> None:
        bst = datetime(2024, 7, 1, 10, 0, tzinfo=ZoneInfo("Europe/London"))
        plus_two = datetime(2024, 7, 1, 11, 0, tzinfo=timezone(timedelta(hours=2)))
        assert canonical_json(bst) == '"2024-07-01T09:00:00Z"'
        assert canonical_json(plus_two) == '"2024-07-01T09:00:00Z"'

    def test_naive_datetime_rejected(self) -> None:
        with pytest.raises(ValueError, match="naive"):
            canonical_json({"at": datetime(2024, 9, 1, 12, 0)})

    def test_naive_datetime_rejected_deep_inside(self) -> None:
        with pytest.raises(ValueError, match="naive"):
            canonical_json({"visits": [{"at": datetime(2024, 9, 1)}]})

    @pytest.mark.parametrize("value", [1.0, 0.1, float("nan"), float("inf"), -0.0])
    def test_floats_rejected(self, value: float) -> None:
        with pytest.raises(TypeError, match="floats"):
            canonical_json({"amount": value})

    def test_float_rejected_deep_inside_with_path(self) -> None:
        with pytest.raises(TypeError, match=r"\$\.charges\[1\]\.pence"):
            canonical_json({"charges": [{"pence": 1}, {"pence": 35000.0}]})

    def test_decimal_rejected(self) -> None:
        with pytest.raises(TypeError):
            canonical_json({"amount": Decimal("350.00")})

    @pytest.mark.parametrize("value", [{1, 2}, b"bytes", object(), timedelta(days=1)])
    def test_unsupported_types_rejected(self, value: object) -> None:
        with pytest.raises(TypeError):
            canonical_json({"x": value})

    def test_non_string_keys_rejected(self) -> None:
        with pytest.raises(TypeError, match="keys must be strings"):
            canonical_json({1: "a"})

    def test_uuid_rendered_as_string(self) -> None:
        ident = uuid.UUID("12345678-1234-5678-1234-567812345678")
        assert canonical_json({"id": ident}) == '{"id":"12345678-1234-5678-1234-567812345678"}'

    def test_lone_surrogate_rejected(self) -> None:
        with pytest.raises(ValueError, match="UTF-8"):
            canonical_json({"t": "\ud800"})

    @given(JSON_DATA)
    def test_round_trips_through_json(self, data: object) -> None:
        assert json.loads(canonical_json(data)) == data

    @given(st.dictionaries(TEXT, JSON_DATA, max_size=8), st.randoms())
    def test_independent_of_key_order(self, data: dict, rnd: random.Random) -> None:
        items = list(data.items())
        rnd.shuffle(items)
        assert canonical_json(dict(items)) == canonical_json(data)

    @given(JSON_DATA)
    def test_canonical_form_is_a_fixed_point(self, data: object) -> None:
        text = canonical_json(data)
        assert canonical_json(json.loads(text)) == text


class TestUtcIso:
    def test_utc(self) -> None:
        assert utc_iso(datetime(2025, 1, 31, 23, 59, 59, tzinfo=UTC)) == "2025-01-31T23:59:59Z"

    def test_converts_offset(self) -> None:
        moment = datetime(2025, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1)))
        assert utc_iso(moment) == "2024-12-31T23:30:00Z"

    def test_naive_rejected(self) -> None:
        with pytest.raises(ValueError):
            utc_iso(datetime(2025, 1, 1))

    def test_date_rejected(self) -> None:
        with pytest.raises(TypeError):
            utc_iso(date(2025, 1, 1))  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# content_hash
# --------------------------------------------------------------------------------------------


class TestContentHash:
    def test_pinned_value(self) -> None:
        # Worked by hand: the canonical text is {"a":"é","b":1}, UTF-8 encoded.
        expected = hashlib.sha256('{"a":"é","b":1}'.encode()).hexdigest()
        assert expected == HASH_A
        assert content_hash({"b": 1, "a": "é"}) == HASH_A

    def test_empty_mapping(self) -> None:
        assert content_hash({}) == HASH_B == hashlib.sha256(b"{}").hexdigest()

    def test_is_lower_hex_of_64(self) -> None:
        value = content_hash({"x": 1})
        assert len(value) == 64
        assert value == value.lower()
        int(value, 16)

    def test_stable_across_key_order(self) -> None:
        assert content_hash({"x": 1, "y": [1, 2]}) == content_hash({"y": [1, 2], "x": 1})

    def test_any_change_changes_hash(self) -> None:
        base = {"days": 4, "rate_pence": 45000}
        assert content_hash(base) != content_hash({**base, "days": 5})
        assert content_hash(base) != content_hash({**base, "extra": None})
        assert content_hash({"n": "1"}) != content_hash({"n": 1})

    def test_mapping_required(self) -> None:
        with pytest.raises(TypeError):
            content_hash([1, 2])  # type: ignore[arg-type]

    def test_rejects_floats(self) -> None:
        with pytest.raises(TypeError):
            content_hash({"pence": 1.5})


# --------------------------------------------------------------------------------------------
# Fingerprints
# --------------------------------------------------------------------------------------------


class TestFingerprint:
    def test_format(self) -> None:
        assert fingerprint(HASH_A) == (
            "AA58 FBA8 4836 23BE D37C 1B02 EDFC CBDD "
            "9A53 1238 37C2 0BFA 4CB4 0499 93A2 872E"
        )

    def test_sixteen_groups(self) -> None:
        groups = fingerprint(HASH_B).split(" ")
        assert len(groups) == 16
        assert all(len(group) == 4 for group in groups)

    @pytest.mark.parametrize(
        "bad", ["", "abc", HASH_A[:-1], HASH_A + "0", HASH_A.upper(), "g" * 64, fingerprint(HASH_A)]
    )
    def test_rejects_anything_but_a_lower_hex_hash(self, bad: str) -> None:
        with pytest.raises(ValueError):
            fingerprint(bad)

    def test_rejects_non_string(self) -> None:
        with pytest.raises(ValueError):
            fingerprint(None)  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        "pasted",
        [
            HASH_A,
            HASH_A.upper(),
            fingerprint(HASH_A),
            fingerprint(HASH_A).lower(),
            fingerprint(HASH_A).replace(" ", "-"),
            fingerprint(HASH_A).replace(" ", "\u2013"),  # en dash from a word processor
            fingerprint(HASH_A).replace(" ", ":"),
            "  " + fingerprint(HASH_A).replace(" ", "\n") + "\t ",
            fingerprint(HASH_A).replace(" ", "\u00a0"),  # non-breaking space
            "AA58FBA8-4836 23be\u3000" + HASH_A[16:],  # ideographic space
            "".join(chr(ord(c) + 0xFEE0) for c in HASH_A),  # full-width characters
        ],
    )
    def test_normalise_accepts_what_people_paste(self, pasted: str) -> None:
        assert normalise_fingerprint(pasted) == HASH_A

    @pytest.mark.parametrize(
        "bad",
        [
            "",
            "   ",
            HASH_A[:-1],
            HASH_A + "a",
            HASH_A[:-1] + "g",
            HASH_A[:-1] + "_",
            fingerprint(HASH_A) + " 0",
            "0x" + HASH_A[2:],
        ],
    )
    def test_normalise_rejects_non_fingerprints(self, bad: str) -> None:
        with pytest.raises(ValueError):
            normalise_fingerprint(bad)

    def test_normalise_rejects_non_string(self) -> None:
        with pytest.raises(ValueError):
            normalise_fingerprint(123)  # type: ignore[arg-type]

    @given(HASHES)
    def test_round_trip(self, hex_hash: str) -> None:
        assert normalise_fingerprint(fingerprint(hex_hash)) == hex_hash

    @given(
        HASHES,
        st.lists(st.sampled_from([" ", "-", "  ", "\n", "\u2014", ""]), min_size=64, max_size=64),
        st.lists(st.booleans(), min_size=64, max_size=64),
    )
    def test_round_trip_through_mangled_paste(
        self, hex_hash: str, separators: list[str], upper: list[bool]
    ) -> None:
        mangled = "".join(
            (ch.upper() if up else ch) + sep
            for ch, sep, up in zip(hex_hash, separators, upper, strict=True)
        )
        assert normalise_fingerprint(mangled) == hex_hash


# --------------------------------------------------------------------------------------------
# Consent statement
# --------------------------------------------------------------------------------------------


class TestConsent:
    def test_template(self) -> None:
        assert CONSENT_TEXT == (
            "I, {name}, signing as {capacity}, agree to the terms of agreement {reference}, "
            "version {version}, with fingerprint {fingerprint}."
        )

    def test_statement_exact(self) -> None:
        assert consent_statement("Jane Smith", "system leader", "AGR-2024-0012", 3, HASH_A) == (
            "I, Jane Smith, signing as system leader, agree to the terms of agreement "
            "AGR-2024-0012, version 3, with fingerprint "
            "AA58 FBA8 4836 23BE D37C 1B02 EDFC CBDD 9A53 1238 37C2 0BFA 4CB4 0499 93A2 872E."
        )

    def test_whitespace_collapsed(self) -> None:
        text = consent_statement("  Jane \n Smith ", " home  school ", " AGR-1 ", 1, HASH_B)
        assert text.startswith("I, Jane Smith, signing as home school, agree to the terms of "
                               "agreement AGR-1, version 1, ")

    def test_braces_in_name_are_literal(self) -> None:
        text = consent_statement("{fingerprint}", "director", "R", 1, HASH_B)
        assert text.startswith("I, {fingerprint}, signing as director,")

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"name": "  "},
            {"capacity": ""},
            {"reference": "\t"},
            {"version": 0},
            {"version": True},
            {"version": "1"},
            {"agreement_hash": HASH_A.upper()},
            {"agreement_hash": fingerprint(HASH_A)},
        ],
    )
    def test_rejects_bad_parts(self, kwargs: dict) -> None:
        args = {
            "name": "Jane Smith",
            "capacity": "director",
            "reference": "AGR-1",
            "version": 1,
            "agreement_hash": HASH_A,
        }
        with pytest.raises(ValueError):
            consent_statement(**{**args, **kwargs})


# --------------------------------------------------------------------------------------------
# Signature evidence
# --------------------------------------------------------------------------------------------

SIGNED_AT = datetime(2024, 10, 3, 14, 30, 5, tzinfo=UTC)


def _evidence(**overrides: object) -> dict:
    args: dict = {
        "user_id": 42,
        "capacity": "headteacher",
        "typed_name": "  jane   SMITH ",
        "consent_text": consent_statement("Jane Smith", "headteacher", "AGR-7", 2, HASH_A),
        "signed_at": SIGNED_AT,
        "ip_address": "203.0.113.9",
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
        "agreement_hash": HASH_A,
        "agreement_id": 7,
        "version": 2,
    }
    args.update(overrides)
    return signature_evidence(**args)


class TestSignatureEvidence:
    def test_record_exact(self) -> None:
        assert _evidence() == {
            "agreement_id": 7,
            "agreement_version": 2,
            "content_hash": HASH_A,
            "user_id": 42,
            "capacity": "headteacher",
            "typed_name": "  jane   SMITH ",
            "consent_text": (
                "I, Jane Smith, signing as headteacher, agree to the terms of agreement AGR-7, "
                "version 2, with fingerprint AA58 FBA8 4836 23BE D37C 1B02 EDFC CBDD "
                "9A53 1238 37C2 0BFA 4CB4 0499 93A2 872E."
            ),
            "signed_at": "2024-10-03T14:30:05Z",
            "ip_address": "203.0.113.9",
            "user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
        }

    def test_fixed_key_set(self) -> None:
        assert set(_evidence()) == EVIDENCE_KEYS
        assert len(EVIDENCE_KEYS) == 10

    def test_optional_network_details(self) -> None:
        record = _evidence(ip_address=None, user_agent=None)
        assert record["ip_address"] is None
        assert record["user_agent"] is None
        assert set(record) == EVIDENCE_KEYS

    def test_signed_at_converted_to_utc(self) -> None:
        bst = datetime(2024, 7, 1, 10, 0, tzinfo=ZoneInfo("Europe/London"))
        assert _evidence(signed_at=bst)["signed_at"] == "2024-07-01T09:00:00Z"

    def test_naive_signed_at_rejected(self) -> None:
        with pytest.raises(ValueError):
            _evidence(signed_at=datetime(2024, 10, 3, 14, 30))

    def test_is_hashable_and_chainable(self) -> None:
        record = _evidence()
        assert json.loads(canonical_json(record)) == record
        assert len(record_hash(GENESIS, record)) == 64

    def test_consent_must_name_this_fingerprint(self) -> None:
        other = consent_statement("Jane Smith", "headteacher", "AGR-7", 2, HASH_B)
        with pytest.raises(ValueError, match="fingerprint"):
            _evidence(consent_text=other)

    @pytest.mark.parametrize(
        ("overrides", "error"),
        [
            ({"agreement_hash": "abc"}, ValueError),
            ({"agreement_hash": HASH_A.upper()}, ValueError),
            ({"typed_name": "   "}, ValueError),
            ({"capacity": ""}, ValueError),
            ({"consent_text": ""}, ValueError),
            ({"version": 0}, ValueError),
            ({"user_id": None}, TypeError),
            ({"user_id": True}, TypeError),
            ({"agreement_id": 7.0}, TypeError),
            ({"ip_address": 12345}, TypeError),
            ({"user_agent": b"curl"}, TypeError),
        ],
    )
    def test_rejects_bad_input(self, overrides: dict, error: type[Exception]) -> None:
        with pytest.raises(error):
            _evidence(**overrides)

    def test_check_signature_same_hash(self) -> None:
        assert check_signature(_evidence(), HASH_A) is True

    def test_check_signature_after_terms_changed(self) -> None:
        assert check_signature(_evidence(), HASH_B) is False

    def test_check_signature_needs_exact_hash_form(self) -> None:
        assert check_signature(_evidence(), HASH_A.upper()) is False
        assert check_signature(_evidence(), fingerprint(HASH_A)) is False

    def test_check_signature_extra_key(self) -> None:
        assert check_signature({**_evidence(), "note": "x"}, HASH_A) is False

    def test_check_signature_missing_key(self) -> None:
        record = _evidence()
        del record["user_agent"]
        assert check_signature(record, HASH_A) is False

    def test_check_signature_tampered_hash_without_consent(self) -> None:
        # Pointing old evidence at new terms is caught: the consent names the old fingerprint.
        record = {**_evidence(), "content_hash": HASH_B}
        assert check_signature(record, HASH_B) is False

    def test_check_signature_consent_not_text(self) -> None:
        assert check_signature({**_evidence(), "consent_text": None}, HASH_A) is False

    def test_check_signature_not_a_mapping(self) -> None:
        assert check_signature(None, HASH_A) is False  # type: ignore[arg-type]
        assert check_signature([], HASH_A) is False  # type: ignore[arg-type]

    def test_check_signature_after_json_round_trip(self) -> None:
        stored = json.loads(json.dumps(_evidence()))
        assert check_signature(stored, HASH_A) is True


# --------------------------------------------------------------------------------------------
# Typed names
# --------------------------------------------------------------------------------------------


class TestTypedName:
    @pytest.mark.parametrize(
        "typed",
        [
            "Jane Smith",
            "  jane   SMITH ",
            "JANE SMITH",
            "jane\tsmith",
            "Jane\u00a0Smith",  # non-breaking space
            "Ｊａｎｅ Ｓｍｉｔｈ",  # full-width, folded by NFKC
        ],
    )
    def test_matches(self, typed: str) -> None:
        assert typed_name_matches(typed, "Jane Smith") is True

    @pytest.mark.parametrize(
        "typed", ["Jane Smyth", "JaneSmith", "Jane", "Jane Smith Jr", "J. Smith", "Smith Jane"]
    )
    def test_does_not_match(self, typed: str) -> None:
        assert typed_name_matches(typed, "Jane Smith") is False

    def test_accents_count(self) -> None:
        assert typed_name_matches("Zoe Bronte", "Zoë Brontë") is False
        assert typed_name_matches("zoë BRONTË", "Zoë Brontë") is True

    def test_composed_and_decomposed_accents_equal(self) -> None:
        assert typed_name_matches("Sia\u0302n", "Si\u00e2n") is True

    def test_case_folding_beyond_ascii(self) -> None:
        assert typed_name_matches("ÉLODIE DUPRÉ", "élodie dupré") is True

    def test_blank_never_matches(self) -> None:
        assert typed_name_matches("", "") is False
        assert typed_name_matches("   ", "  ") is False
        assert typed_name_matches("", "Jane Smith") is False

    def test_non_strings(self) -> None:
        assert typed_name_matches(None, "Jane") is False  # type: ignore[arg-type]
        assert typed_name_matches("Jane", None) is False  # type: ignore[arg-type]

    @given(st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyzéñ'-", min_size=1), min_size=1,
                    max_size=4), st.randoms())
    def test_case_and_spacing_never_matter(self, words: list[str], rnd: random.Random) -> None:
        name = " ".join(words)
        messy = "".join(
            (" " * rnd.randint(1, 3)) + (w.upper() if rnd.random() < 0.5 else w.title())
            for w in words
        ) + " " * rnd.randint(0, 2)
        assert typed_name_matches(messy, name) is True


# --------------------------------------------------------------------------------------------
# Hash chain
# --------------------------------------------------------------------------------------------


def _chain_from(prev: str, payloads: list[dict]) -> list[tuple[dict, str, str]]:
    """Build chain items for ``payloads``, the first linking to ``prev``."""
    items = []
    for payload in payloads:
        digest = record_hash(prev, payload)
        items.append((payload, prev, digest))
        prev = digest
    return items


def _chain(payloads: list[dict]) -> list[tuple[dict, str, str]]:
    return _chain_from(GENESIS, payloads)


PAYLOADS = [
    {"seq": 0, "event": "request.filed", "by": 11, "at": "2024-09-02T08:00:00Z"},
    {"seq": 1, "event": "leader.proposed", "by": 2, "at": "2024-09-03T09:15:00Z"},
    {"seq": 2, "event": "release.agreed", "by": 31, "at": "2024-09-04T10:00:00Z"},
    {"seq": 3, "event": "agreement.signed", "by": 11, "at": "2024-09-05T16:45:00Z"},
    {"seq": 4, "event": "contact.logged", "by": 2, "at": "2024-09-09T12:00:00Z"},
]


@pytest.fixture
def chain() -> list[tuple[dict, str, str]]:
    return _chain([dict(p) for p in PAYLOADS])


class TestRecordHash:
    def test_genesis(self) -> None:
        assert GENESIS == "0" * 64

    def test_pinned_value(self) -> None:
        expected = hashlib.sha256(("0" * 64 + '{"seq":1}').encode()).hexdigest()
        assert expected == "0a00898550374c41186879d92f30325cd0a550ce8c5da4d9aeef34a95c0b85ea"
        assert record_hash(GENESIS, {"seq": 1}) == expected

    def test_depends_on_previous_hash(self) -> None:
        assert record_hash(GENESIS, {"seq": 1}) != record_hash(HASH_A, {"seq": 1})

    def test_depends_on_payload(self) -> None:
        assert record_hash(GENESIS, {"seq": 1}) != record_hash(GENESIS, {"seq": 2})

    @pytest.mark.parametrize("bad", ["", "0" * 63, HASH_A.upper(), fingerprint(HASH_A)])
    def test_rejects_malformed_previous_hash(self, bad: str) -> None:
        with pytest.raises(ValueError):
            record_hash(bad, {"seq": 1})

    def test_rejects_non_mapping(self) -> None:
        with pytest.raises(TypeError):
            record_hash(GENESIS, [1])  # type: ignore[arg-type]


class TestVerifyChain:
    def test_intact_chain_of_five(self, chain: list) -> None:
        assert len(chain) == 5
        assert chain[0][1] == GENESIS
        assert all(chain[i][1] == chain[i - 1][2] for i in range(1, 5))
        assert verify_chain(chain) is None

    def test_empty_chain(self) -> None:
        assert verify_chain([]) is None
        assert verify_chain([], expected_head=GENESIS) is None
        assert verify_chain([], expected_head=HASH_A) == ChainBreak(0, HEAD_MISMATCH)

    def test_accepts_a_generator(self, chain: list) -> None:
        assert verify_chain(item for item in chain) is None

    @pytest.mark.parametrize("index", range(5))
    def test_payload_changed(self, chain: list, index: int) -> None:
        payload, prev, digest = chain[index]
        chain[index] = ({**payload, "by": 999}, prev, digest)
        assert verify_chain(chain) == ChainBreak(index, HASH_MISMATCH)

    def test_payload_key_added(self, chain: list) -> None:
        payload, prev, digest = chain[2]
        chain[2] = ({**payload, "note": None}, prev, digest)
        assert verify_chain(chain) == ChainBreak(2, HASH_MISMATCH)

    @pytest.mark.parametrize("index", range(5))
    def test_stored_hash_changed(self, chain: list, index: int) -> None:
        payload, prev, _ = chain[index]
        chain[index] = (payload, prev, HASH_A)
        assert verify_chain(chain) == ChainBreak(index, HASH_MISMATCH)

    @pytest.mark.parametrize(("removed", "found_at"), [(0, 0), (1, 1), (2, 2), (3, 3)])
    def test_record_removed(self, chain: list, removed: int, found_at: int) -> None:
        del chain[removed]
        assert verify_chain(chain) == ChainBreak(found_at, BROKEN_LINK)

    def test_last_record_removed_needs_the_head(self, chain: list) -> None:
        head = chain[-1][2]
        del chain[-1]
        assert verify_chain(chain) is None  # a bare chain cannot see a cut-off end
        assert verify_chain(chain, expected_head=head) == ChainBreak(4, HEAD_MISMATCH)

    @pytest.mark.parametrize("first", range(4))
    def test_records_reordered(self, chain: list, first: int) -> None:
        chain[first], chain[first + 1] = chain[first + 1], chain[first]
        assert verify_chain(chain) == ChainBreak(first, BROKEN_LINK)

    def test_reversed(self, chain: list) -> None:
        assert verify_chain(list(reversed(chain))) == ChainBreak(0, BROKEN_LINK)

    @pytest.mark.parametrize("index", range(5))
    def test_prev_hash_altered(self, chain: list, index: int) -> None:
        payload, _, digest = chain[index]
        chain[index] = (payload, HASH_B, digest)
        assert verify_chain(chain) == ChainBreak(index, BROKEN_LINK)

    def test_prev_hash_altered_and_hash_recomputed(self, chain: list) -> None:
        payload, _, _ = chain[3]
        chain[3] = (payload, HASH_B, record_hash(HASH_B, payload))
        assert verify_chain(chain) == ChainBreak(3, BROKEN_LINK)

    def test_record_inserted(self, chain: list) -> None:
        forged = {"seq": 9, "event": "agreement.signed", "by": 66}
        chain.insert(2, (forged, chain[1][2], record_hash(chain[1][2], forged)))
        assert verify_chain(chain) == ChainBreak(3, BROKEN_LINK)

    def test_duplicated_record(self, chain: list) -> None:
        chain.insert(2, chain[1])
        assert verify_chain(chain) == ChainBreak(2, BROKEN_LINK)

    def test_first_break_reported(self, chain: list) -> None:
        payload, prev, digest = chain[1]
        chain[1] = ({**payload, "seq": 100}, prev, digest)
        payload, _, digest = chain[3]
        chain[3] = (payload, HASH_B, digest)
        assert verify_chain(chain) == ChainBreak(1, HASH_MISMATCH)

    def test_unreadable_payload(self, chain: list) -> None:
        _, prev, digest = chain[2]
        chain[2] = ({"amount": 1.5}, prev, digest)
        assert verify_chain(chain) == ChainBreak(2, UNREADABLE_RECORD)

    def test_wholesale_rewrite_needs_the_head(self, chain: list) -> None:
        head = chain[-1][2]
        rewritten = chain[:2] + _chain_from(chain[1][2], [{**p, "by": 0} for p in PAYLOADS[2:]])
        assert verify_chain(rewritten) is None
        assert verify_chain(rewritten, expected_head=head) == ChainBreak(5, HEAD_MISMATCH)

    def test_correct_head(self, chain: list) -> None:
        assert verify_chain(chain, expected_head=chain[-1][2]) is None

    def test_chain_break_is_a_value(self) -> None:
        assert ChainBreak(2, BROKEN_LINK) == ChainBreak(index=2, reason=BROKEN_LINK)
        assert ChainBreak(2, BROKEN_LINK) != ChainBreak(3, BROKEN_LINK)

    def test_reasons_are_distinct(self) -> None:
        assert len({BROKEN_LINK, HASH_MISMATCH, UNREADABLE_RECORD, HEAD_MISMATCH}) == 4

    @given(st.lists(st.dictionaries(TEXT, JSON_LEAVES, max_size=3), min_size=1, max_size=8),
           st.data())
    def test_any_payload_edit_found_at_its_index(self, payloads: list[dict], data) -> None:
        items = _chain(payloads)
        assert verify_chain(items) is None
        index = data.draw(st.integers(0, len(items) - 1))
        payload, prev, digest = items[index]
        items[index] = ({**payload, "\x00tampered": True}, prev, digest)
        assert verify_chain(items) == ChainBreak(index, HASH_MISMATCH)
