"""The audit trail and the plan history in words a headteacher reads.

An audit event is stored as a code (``agreement.signed``), an object (``Agreement 4``) and a
detail dict of plain JSON values (``{"amount_pence": 60000, "to": "not_started"}``), which is
right for evidence and wrong for a person. :func:`describe` turns one event into a sentence
with names, pounds, "23 Nov 2026" and status words ("Ruth Ames signed the agreement for
D-2026-00005, version 1, as System leader"), and a few plain details; :func:`describe_revision`
does the same for one plan revision. Nothing here queries the database: the caller resolves
the names of the people, schools and objects a page of events mentions in one query each
(:class:`Names`), so a page of 50 events costs the same as a page of 5.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ..formatting import days, money, uk_date, uk_datetime
from ..models.agreements import AGREEMENT_STATUSES
from ..models.base import DESIGNATIONS, ROLES, SUPPORT_KINDS
from ..models.deployments import DEPLOYMENT_STATUSES, VARIATION_STATUSES
from ..models.evaluations import EVALUATION_KINDS, EVALUATION_STATUSES
from ..models.finance import INVOICE_STATUSES
from ..models.plans import ACTION_STATUSES
from ..models.requests import REQUEST_STATUSES

# What each kind of object is called, with its article, when nothing better is known.
OBJECT_WORDS = {
    "SupportRequest": "the request", "Deployment": "the deployment", "Agreement": "the agreement",
    "ActionPlan": "the action plan", "Visit": "a visit", "Variation": "extra days",
    "Evaluation": "the evaluation", "Invoice": "an invoice", "Payment": "a payment",
    "RateCard": "the rate card", "User": "a user", "School": "a school", "Board": "a Board",
    "EIP": "an EIP", "Alliance": "the alliance", "Specialism": "a specialism",
    "LeaderProfile": "a system leader's profile", "OutboxEmail": "an email",
    "AllianceFinance": "the finance settings", "": "",
}

PARTIES = {"receiving": "the receiving school", "home_school": "the home school",
           "leader": "the system leader", "director": "the Teaching School Director",
           "board": "the Board", "coordinator": "the co-ordinator"}
PAYERS = {"school": "the school", "teaching_school": "the teaching school",
          "board": "the Board", "home_school": "the home school"}
DECISIONS = {"accepted": "agreed to", "declined": "declined", "confirmed": "confirmed",
             "released": "released"}

# Every status word the portal uses, by the value stored; a value in more than one map reads
# the same in each.
STATUS_WORDS: dict[str, str] = {}
for _words in (REQUEST_STATUSES, DEPLOYMENT_STATUSES, AGREEMENT_STATUSES, VARIATION_STATUSES,
               EVALUATION_STATUSES, INVOICE_STATUSES, ACTION_STATUSES):
    for _code, _word in _words.items():
        STATUS_WORDS.setdefault(_code, _word)

# Sentences for each action code: "{actor} " + the phrase; {object} is the object's words
# (with the deployment reference where the event names one).
PHRASES = {
    "auth.login": "signed in",
    "auth.logout": "signed out",
    "auth.logout_everywhere": "signed out on every device",
    "auth.reconfirmed": "entered their password again to confirm a change",
    "auth.school_account_linked": "linked their school account at their first sign-in with it",
    "auth.school_sign_in_refused": "refused a sign-in with a school account",
    "auth.two_factor_code_refused": "was refused a sign-in: the password was right, the "
                                    "two-factor code was not",
    "account.two_factor_on": "turned on two-factor sign-in",
    "account.two_factor_off": "turned off two-factor sign-in",
    "account.recovery_codes_new": "made new two-factor recovery codes",
    "alliance.sign_in_settings_changed": "changed how the alliance's people sign in",
    "account.password_changed": "changed their password",
    "account.password_set": "set their password",
    "account.reset_requested": "asked for a link to reset their password",
    "calendar.link_made": "made a private calendar link",
    "calendar.link_reset": "reset their calendar link (the old one stopped working)",
    "calendar.link_stopped": "turned their calendar link off",
    "supportrequest.created": "made {object}",
    "supportrequest.edited": "changed {object}",
    "request.targeted": "targeted a school with {object}",
    "deployment.proposed": "proposed a system leader for {object}",
    "commission.deployed": "deployed a colleague under a commission as {object}",
    "deployment.first_contact": "made first contact for {object}",
    "agreement.drafted": "drafted {object}",
    "agreement.edited": "changed the terms of {object}",
    "agreement.new_version": "made a new version of {object}",
    "agreement.signed": "signed {object}",
    "agreement.declined": "declined to sign {object}",
    "agreement.completed": "completed {object}: every party has signed",
    "agreement.voided": "voided {object}",
    "plan.started": "started {object}",
    "visit.logged": "logged {object}",
    "variation.requested": "asked for {object}",
    "variation.approved": "approved {object}",
    "variation.declined": "declined {object}",
    "evaluation.submitted": "submitted {object}",
    "evaluation.forwarded": "forwarded {object} to the school",
    "evaluation.returned": "returned {object}",
    "evaluation.qa_note": "wrote a quality-assurance note on {object}",
    "evaluation.signed_off": "signed off {object}",
    "evaluation.group_signed_off": "signed off {object} for their group of schools",
    "evaluation.draft_saved": "saved a draft evaluation of {object}",
    "invoice.raised": "raised {object}",
    "invoice.sent": "sent {object}",
    "invoice.payment": "recorded a payment on {object}",
    "invoice.refunded": "recorded a refund on {object}",
    "invoice.credited": "raised a credit note against {object}",
    "invoice.amended": "corrected the unsent draft {object}",
    "invoice.po_number": "recorded the purchase-order number of {object}",
    "finance_settings.saved": "changed the bank details and finance-system codes",
    "rate_card.created": "set new rates",
    "profile.update": "updated {object}",
    "profile.release_approve": "approved a release",
    "profile.unavailable_add": "added dates when a system leader is away",
    "profile.unavailable_remove": "removed dates when a system leader is away",
    "user.invite": "invited {object}",
    "user.reinvite": "sent a new invitation to {object}",
    "user.update": "changed {object}",
    "user.deactivate": "turned off the account of {object}",
    "user.reactivate": "turned on the account of {object}",
    "user.sessions_end": "signed {object} out everywhere",
    "user.created_by_cli": "created {object} from the command line",
    "school.create": "added {object}", "school.update": "changed {object}",
    "school.import": "imported schools from Get Information About Schools",
    "board.create": "added {object}", "board.update": "changed {object}",
    "eip.create": "added {object}", "eip.update": "changed {object}",
    "specialism.create": "added {object}",
    "alliance.agreement_terms": "changed the alliance's agreement terms",
    "alliance.terms_changed": "changed the alliance's agreement terms",
    "demo.loaded": "loaded the demonstration data",
}

# Detail keys a person reads, with their label; internal keys (hashes, evidence, ids the
# sentence already names) are left out, and any other key is shown under its own words.
DETAIL_LABELS = {
    "version": "Version", "half_days": "Days", "date": "Date", "start": "From", "end": "To",
    "reason": "Reason", "note": "Note", "number": "Invoice", "payer": "Payer",
    "total_pence": "Total", "amount_pence": "Amount", "balance_pence": "Balance",
    "party": "As", "role": "Role", "name": "Name", "email": "Email", "urn": "URN",
    "phase": "Phase", "code": "Code", "rows": "Rows", "created": "Added", "updated": "Changed",
    "via": "How", "revised": "Revised", "changed": "Changed", "leader_id": "System leader",
    "school_id": "School", "schools": "Schools", "user_id": "Person", "kind": "Kind",
    "designation": "Designation", "received_on": "Received", "status": "Status",
    "entity": "Part of the plan", "revision": "Revision", "from": "From", "to": "To",
    "supersedes": "Replaces version", "was_pence": "Was", "voided": "Cancelled",
}
HIDDEN_KEYS = {"content_hash", "from_hash", "evidence", "signature_id", "entity_id", "before",
               "after", "before_length", "deployment", "request", "alliance", "actions",
               "statuses", "reference"}
_STATUS_KEYS = {"from", "to", "status"}
_PEOPLE_KEYS = {"leader_id", "user_id"}
_SCHOOL_KEYS = {"school_id", "schools"}
_ENTITY_WORDS = {"action": "an action", "outcome": "an outcome", "text": "the next steps and notes"}
FIELD_LABELS = {
    "description": "Action", "owner": "Who", "due_date": "Due", "status": "Status",
    "success_criteria": "Success criteria", "outcome_id": "Outcome", "between_visits":
    "Between visits", "text": "Text", "standard": "Standard", "position": "Position",
    "next_steps": "Next steps", "notes": "Notes",
}


@dataclass
class Names:
    """The names a page of events needs: people, schools and object words by (type, id)."""

    people: Mapping[int, str] = field(default_factory=dict)
    schools: Mapping[int, str] = field(default_factory=dict)
    objects: Mapping[tuple[str, int], str] = field(default_factory=dict)


@dataclass(frozen=True)
class Sentence:
    text: str
    details: tuple[str, ...] = ()


def people_and_schools(details: Iterable[Mapping[str, Any] | None]) -> tuple[set[int], set[int]]:
    """The user and school ids that a set of detail dicts names (for :class:`Names`)."""
    people: set[int] = set()
    schools: set[int] = set()
    for detail in details:
        for key, value in (detail or {}).items():
            ids = value if isinstance(value, list) else [value]
            for v in ids:
                if isinstance(v, int) and not isinstance(v, bool):
                    if key in _PEOPLE_KEYS:
                        people.add(v)
                    elif key in _SCHOOL_KEYS:
                        schools.add(v)
        party = (detail or {}).get("party")
        if isinstance(party, str) and ":" in party and party.rsplit(":", 1)[1].isdigit():
            schools.add(int(party.rsplit(":", 1)[1]))
    return people, schools


def words(code: str) -> str:
    """A stored code as words, for anything no map knows: "home_school" -> "home school"."""
    return code.replace("_", " ").replace(".", " ").strip()


def _party(value: str, names: Names) -> str:
    base, _, school = value.partition(":")
    text = PARTIES.get(base, words(base))
    if school.isdigit() and int(school) in names.schools:
        text += f" ({names.schools[int(school)]})"
    return text


def _value(key: str, value: Any, names: Names) -> str | None:
    if value is None or value == "" or value == [] or value == {}:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if key.endswith("_pence") and isinstance(value, int):
        return money(value)
    if key == "half_days" and isinstance(value, int):
        return days(value)
    if key in _STATUS_KEYS and isinstance(value, str):
        return STATUS_WORDS.get(value, words(value)).lower() if key != "status" \
            else STATUS_WORDS.get(value, words(value))
    if key in _PEOPLE_KEYS and isinstance(value, int):
        return names.people.get(value, "someone no longer in the portal")
    if key in _SCHOOL_KEYS:
        ids = value if isinstance(value, list) else [value]
        return ", ".join(names.schools.get(i, "a school") for i in ids if isinstance(i, int))
    if key == "party" and isinstance(value, str):
        return _party(value, names)
    if key == "payer" and isinstance(value, str):
        return PAYERS.get(value, words(value))
    if key == "role" and isinstance(value, str):
        return ROLES.get(value, words(value))
    if key == "designation" and isinstance(value, str):
        return DESIGNATIONS.get(value, words(value))
    if key == "kind" and isinstance(value, str):
        return SUPPORT_KINDS.get(value) or EVALUATION_KINDS.get(value) or words(value)
    if key == "entity" and isinstance(value, str):
        return _ENTITY_WORDS.get(value, words(value))
    if isinstance(value, str):
        when = _as_date(value)
        if when is not None:
            return when
        return value
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, int | float):
        return f"{value:,}" if isinstance(value, int) and key not in ("version", "revision",
                                                                         "urn") else str(value)
    return None


def _as_date(value: str) -> str | None:
    """An ISO date or date-time string as "23 Nov 2026" (", 14:05" for a time)."""
    if len(value) < 10 or value[4:5] != "-" or value[7:8] != "-":
        return None
    try:
        if len(value) == 10:
            return uk_date(date.fromisoformat(value))
        return uk_datetime(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


def _object(event: Any, names: Names) -> str:
    detail = event.detail or {}
    known = names.objects.get((event.object_type, event.object_id or 0))
    base = OBJECT_WORDS.get(event.object_type, words(event.object_type).lower())
    if known:
        return known
    reference = detail.get("deployment")
    if isinstance(reference, str) and reference and event.object_type != "Deployment":
        return f"{base} for {reference}"
    if event.object_type == "Deployment" and event.object_id:
        return names.objects.get(("Deployment", event.object_id), base)
    if event.object_type == "Invoice" and isinstance(detail.get("number"), str):
        return f"invoice {detail['number']}"
    if event.object_type in ("User", "School", "Board", "EIP") and \
            isinstance(detail.get("name"), str):
        return detail["name"]
    return base


def _phrase(event: Any, names: Names) -> str:
    action: str = event.action
    obj = _object(event, names)
    detail = event.detail or {}
    if action in PHRASES:
        return PHRASES[action].format(object=obj)
    kind, _, verb = action.partition(".")
    # a state change written by the workflow: "deployment.active" with from/to
    if "to" in detail and "from" in detail:
        to = STATUS_WORDS.get(str(detail["to"]), words(str(detail["to"]))).lower()
        return f"moved {obj} to “{to}”"
    # a proposal answer: deployment.<party>_<decision>
    for decision, said in DECISIONS.items():
        if verb.endswith("_" + decision):
            party = verb[: -len(decision) - 1]
            return f"{said} {obj} for {_party(party, names)}"
    if kind == "variation" and verb.startswith("approved_by_"):
        return f"approved {obj} for {_party(verb[len('approved_by_'):], names)}"
    if kind == "plan":
        part = _ENTITY_WORDS.get(str(detail.get("entity", "")), "the plan")
        return f"{words(verb)} {part} in {obj}"
    if kind == "agreement":
        return f"{words(verb)} {obj}"
    return f"{words(verb)} {obj}".strip()


def describe(event: Any, names: Names | None = None) -> Sentence:
    """One audit event as a sentence and its plain details."""
    names = names or Names()
    actor = names.people.get(event.actor_id, "Someone no longer in the portal") \
        if event.actor_id else "The portal"
    text = f"{actor} {_phrase(event, names)}."
    details: list[str] = []
    detail = event.detail or {}
    skip = {"from", "to"} if ("from" in detail and "to" in detail) else set()
    if event.action == "agreement.signed" and isinstance(detail.get("evidence"), dict):
        capacity = detail["evidence"].get("capacity")
        if capacity:
            details.append(f"Signed as: {capacity}")
        version = detail["evidence"].get("agreement_version")
        if isinstance(version, int):
            details.append(f"Version: {version}")
        skip |= {"party"}
    if event.action.startswith("deployment.") and "party" in detail:
        skip |= {"party", "school_id"}
    for key, value in detail.items():
        if key in skip or key in HIDDEN_KEYS:
            continue
        if key == "number" and event.object_type == "Invoice":
            continue
        shown = _value(key, value, names)
        if shown:
            label = DETAIL_LABELS.get(key) or words(key).capitalize()
            details.append(f"{label}: {shown}")
    before, after = detail.get("before"), detail.get("after")
    if isinstance(before, dict) and isinstance(after, dict):
        for key in after:
            if before.get(key) != after.get(key) and key not in HIDDEN_KEYS:
                label = DETAIL_LABELS.get(key) or FIELD_LABELS.get(key) or \
                    words(key).capitalize()
                old = _value(key, before.get(key), names) or "none"
                new = _value(key, after.get(key), names) or "none"
                details.append(f"{label}: {old} → {new}")
    return Sentence(text, tuple(details))


def _field_value(name: str, value: Any, outcomes: Mapping[int, str]) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if name == "status" and isinstance(value, str):
        return STATUS_WORDS.get(value, words(value))
    if name == "outcome_id" and isinstance(value, int):
        return outcomes.get(value, "an outcome since removed")
    if isinstance(value, str):
        when = _as_date(value) if name.endswith("_date") else None
        return when or value
    return str(value)


@dataclass(frozen=True)
class RevisionWords:
    what: str
    before: tuple[tuple[str, str], ...]
    after: tuple[tuple[str, str], ...]


def describe_revision(entity: str, before: Mapping[str, Any] | None,
                      after: Mapping[str, Any] | None,
                      outcomes: Mapping[int, str] | None = None) -> RevisionWords:
    """One plan revision: what happened ("Added an action", "Moved an outcome", "Changed the
    next steps and notes") and the labelled values that changed, before and after."""
    outcomes = outcomes or {}
    part = _ENTITY_WORDS.get(entity, words(entity))
    if before is None:
        what = f"Added {part}"
    elif after is None:
        what = f"Removed {part}"
    elif "position" in after and set(after) <= {"position"}:
        what = f"Moved {part}"
    else:
        what = f"Changed {part}"

    def shown(side: Mapping[str, Any] | None) -> tuple[tuple[str, str], ...]:
        if not side:
            return ()
        keys = [k for k in side if before is None or after is None
                or (before or {}).get(k) != (after or {}).get(k)]
        return tuple((FIELD_LABELS.get(k, words(k).capitalize()),
                      _field_value(k, side[k], outcomes)) for k in keys)

    return RevisionWords(what, shown(before), shown(after))
