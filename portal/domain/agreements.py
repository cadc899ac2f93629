"""Agreements: drafting, editing, versioning, signing, declining, voiding and verifying.

The portal drafts version 1 when a deployment enters ``agreement`` (every party confirmed). The
content is plain JSON (see :func:`build_content`) hashed with :func:`signing.content_hash`; a
signature is evidence that one *party* (a signatory slot) agreed to exactly that hash.

* Draft edits before anyone has signed change the version in place (its hash changes, so a
  signatory holding the old hash is refused with :class:`~portal.domain.errors.Conflict`).
* Edits after anyone has signed make a new version: the old one is ``superseded``, every
  signature on it is voided (kept as history) and the signatories are told.
* The last signature makes the deployment ``active``.

Every signature's evidence is written into the alliance's audit log (``agreement.signed``), and
the signature row keeps that event's hash; the last signature signs a checkpoint of the log.
:func:`forgeries` names what ``flask verify-audit`` finds wrong with an agreement, and
:func:`evidence_bundle` / :func:`examine` give the public page and ``flask verify-agreement``
everything they check (``portal/domain/evidence.py``).

Who may sign, decline, edit or void, and when ("open for signature"), is decided in
``portal/domain/policy/agreements.py``; every command here starts by requiring its decision.

No Flask request objects here: routes pass the IP address and user agent in.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..formatting import plural, uk_date
from ..models import (
    DESIGNATIONS,
    ROUTES,
    STANDARDS,
    SUPPORT_KINDS,
    Agreement,
    Alliance,
    AuditEvent,
    Deployment,
    RateCard,
    School,
    Signature,
    User,
    utcnow,
)
from ..validators import MAX_AHEAD, MAX_TIME_FRAME, TOLERANCE, date_problem, time_frame_problem
from . import audit, charging, errors, finance, merkle, notify, signing, workflow
from .policy import acts_as_leader, receiving_schools, require
from .policy import agreements as policy

DEFAULT_EXIT = (
    "The deployment ends when the agreed days have been delivered and the final evaluation is "
    "signed off, or earlier by agreement of all parties. At the final visit the system leader "
    "and the receiving school agree how the improvements will be sustained. If the system "
    "leader cannot complete the work, every outstanding sum is returned to the receiving "
    "school and, where relevant, the Board, each in its share."
)

COMMISSION_EXIT = (
    "The commission ends when the agreed work of everyone deployed under it has been delivered, "
    "the commissioner has done the end-of-commission quality assurance and the supported school "
    "has evaluated the commission, or earlier by agreement of all parties. The commissioner "
    "stays responsible for the commission and is the supported school's point of contact "
    "throughout, and agrees with the school how the improvements will be sustained. Anyone "
    "added to or taken off the commission is agreed by every party in a new version of this "
    "agreement. If the work ends early, the school pays only for the days each person "
    "delivered and the brokerage fee on them."
)

DEFAULT_TERMS = (
    "1. The system leader will deliver the support described in this agreement on the dates "
    "agreed with the receiving school.\n"
    "2. Charges are as set out above, agreed in advance and invoiced after the work is done.\n"
    "3. All parties will keep information about staff and pupils confidential and handle "
    "personal data in line with UK GDPR."
)

EDITABLE = ("desired_outcomes", "measures_of_success", "start_date", "end_date", "schedule",
            "exit_arrangements", "terms")

CAPACITIES = {
    "leader": "System leader",
    "home_school": "Home-school senior leader",
    "director": "Teaching School Director",
    "receiving": "Receiving headteacher",
}

# Which role fills which kind of slot.
SLOT_ROLES = {"leader": "sle", "home_school": "home_school", "director": "director",
              "receiving": "headteacher"}

SIGNER_ROLES = tuple(sorted(set(SLOT_ROLES.values())))


# ------------------------------------------------------------------------------- slots


@dataclass
class Slot:
    """One required signatory: a party, who may fill it, and what they did."""

    party: str
    kind: str
    capacity: str
    school: School | None
    description: str
    signature: Signature | None = None
    eligible: list[User] = field(default_factory=list)

    @property
    def signed(self) -> bool:
        return self.signature is not None and self.signature.decision == "signed"

    @property
    def declined(self) -> bool:
        return self.signature is not None and self.signature.decision == "declined"


def slots(deployment: Deployment, agreement: Agreement | None = None) -> list[Slot]:
    """The required signatories of this deployment's agreement, in signing order."""
    alliance = deployment.alliance
    out = [
        Slot("leader", "leader", CAPACITIES["leader"], None,
             f"{CAPACITIES['leader']} ({deployment.leader.name})"),
        Slot(f"home_school:{deployment.home_school_id}", "home_school",
             CAPACITIES["home_school"], deployment.home_school,
             f"{CAPACITIES['home_school']}, {deployment.home_school.name}"),
        Slot("director", "director", CAPACITIES["director"], None,
             f"{CAPACITIES['director']}, {alliance.name}"),
    ]
    for school in receiving_schools(deployment):
        out.append(Slot(f"receiving:{school.id}", "receiving", CAPACITIES["receiving"], school,
                        f"{CAPACITIES['receiving']}, {school.name}"))
    if agreement is not None:
        by_party = {s.party: s for s in agreement.signatures if s.voided_at is None}
        for slot in out:
            slot.signature = by_party.get(slot.party)
    return out


def holds(slot: Slot, deployment: Deployment, user: User) -> bool:
    """Whether ``user`` may fill ``slot``. The leader's slot is the deployment's own leader's
    (a system leader, or the director leading a commission: ``acts_as_leader``)."""
    if not user.active:
        return False
    if slot.kind == "leader":
        return acts_as_leader(deployment, user)
    if user.role != SLOT_ROLES[slot.kind]:
        return False
    if slot.kind == "director":
        return user.alliance_id == deployment.alliance_id
    return slot.school is not None and user.school_id == slot.school.id


def slot_for(deployment: Deployment, agreement: Agreement | None, user: User) -> Slot | None:
    """The slot ``user`` fills next: the first they hold still unanswered, else the first they
    hold (a director leading a commission holds the leader's and the director's)."""
    held = [s for s in slots(deployment, agreement) if holds(s, deployment, user)]
    return next((s for s in held if s.signature is None), held[0] if held else None)


def on_behalf_slots(deployment: Deployment, agreement: Agreement) -> list[Slot]:
    """The school slots (home school, receiving schools) still to sign on this version that no
    one can sign in to fill: no active user of that role there has set a password. The
    co-ordinator or director records their signature for them (:func:`record_on_behalf`)."""
    waiting = [s for s in slots(deployment, agreement)
               if s.kind in ("home_school", "receiving") and s.signature is None
               and s.school is not None]
    if not waiting:
        return []
    able = set(db.session.execute(
        select(User.role, User.school_id).where(
            User.active.is_(True), User.password_hash != "",
            User.school_id.in_([s.school.id for s in waiting if s.school is not None]),
            User.role.in_(("home_school", "headteacher")))).all())
    return [s for s in waiting
            if s.school is not None and (SLOT_ROLES[s.kind], s.school.id) not in able]


def eligible_users(deployment: Deployment) -> list[User]:
    """Everyone who may sign for one of the slots (to notify them)."""
    school_ids = [deployment.home_school_id] + [s.id for s in receiving_schools(deployment)]
    candidates = db.session.scalars(
        select(User).where(
            User.active.is_(True),
            User.alliance_id == deployment.alliance_id,
            (User.id == deployment.leader_id)
            | (User.role == "director")
            | ((User.role.in_(("home_school", "headteacher"))) & User.school_id.in_(school_ids)),
        )
    ).all()
    all_slots = slots(deployment)
    return [u for u in candidates if any(holds(s, deployment, u) for s in all_slots)]


# ------------------------------------------------------------------------------- content


# One conversion and one "card in force" rule for agreements and invoices alike.
card_from_row = finance.to_card
current_rate_card = finance.current_rate_card


def compute_charges(deployment: Deployment, today: date | None = None, *,
                    fix_card: bool = True, half_days: int | None = None) -> dict:
    """The charges agreed in advance, from the deployment's rate card (fixed on first use).

    The rate card id is stored on the deployment the first time, so a later card never changes
    what was agreed. Without any card, the alliance's seeded model is used and said so.
    ``fix_card=False`` is a preview (the proposal page): nothing is stored. ``half_days`` prices
    other days than those agreed (an amendment's).
    """
    today = today or utcnow().date()
    days = deployment.half_days_agreed if half_days is None else half_days
    row = db.session.get(RateCard, deployment.rate_card_id) if deployment.rate_card_id else None
    if row is None:
        row = current_rate_card(deployment.alliance_id, today)
        if row is not None and fix_card:
            deployment.rate_card_id = row.id
    schools = receiving_schools(deployment)
    base = {"rate_card_id": row.id if row else None,
            "rate_card_from": row.effective_from if row else None,
            "model": row.model if row else deployment.alliance.charging_model}
    try:
        if row is not None:
            card = card_from_row(row)
        elif deployment.alliance.charging_model == "east_sussex":
            card = charging.east_sussex_card()
        else:
            card = charging.sefton_card()
        kind = deployment.request.kind
        if kind in ("good_practice_visit", "consultation") and (
                charging.offers_good_practice_visits(card) if kind == "good_practice_visit"
                else charging.offers_consultations(card)):
            return {**base, **_episode_charges(card, kind, deployment, schools, today, days)}
        if kind == "commission" and row is not None:
            return {**base, **_commission_charges(deployment, schools, days)}
        q = charging.quote(card, deployment.designation, max(days, 1),
                           targeted=deployment.targeted,
                           concession_day=deployment.concession_day_pence,
                           schools=max(len(schools), 1))
    except ValueError as exc:
        return {**base, "error": f"The charges could not be worked out: {exc}"}
    return {
        **base,
        "designation": q.designation,
        "half_days": q.half_days,
        "day_rate": q.day_rate,
        "subsidised": q.subsidised,
        "commission_cost": q.commission_cost,
        "brokerage_fee": q.brokerage_fee,
        "school_pays": q.school_pays,
        "board_pays": q.board_pays,
        "home_school_receives": q.home_school_receives,
        "teaching_school_receives": q.teaching_school_receives,
        "school_shares": [{"school": s.name, "amount": amount}
                          for s, amount in zip(schools, q.school_shares, strict=False)],
        "lines": [{"party": line.party, "party_label": charging.PARTY_LABELS[line.party],
                   "amount": line.amount, "description": line.description}
                  for line in q.lines],
    }


def _line(party: str, amount: int, description: str) -> dict:
    return {"party": party, "party_label": charging.PARTY_LABELS[party], "amount": amount,
            "description": description}


def _commission_charges(deployment: Deployment, schools: list[School], half_days: int) -> dict:
    """An NLE/LLE commission's charges (Sefton C, F). The commission's own agreement prices
    everyone deployed under it, each at their designation's rate, plus the brokerage fee on the
    whole; a person's agreement prices their own days and points to the commission for the fee."""
    root = finance.commission_root(deployment)
    assert root is not None
    q = finance.commission_quote(root, half_days={**on_the_table(root),
                                                  deployment.id: half_days})
    members = {d.id: d for d in finance.commission_members(root)}
    base = {"designation": deployment.designation, "half_days": half_days,
            "subsidised": False, "board_pays": 0}
    mine = next((p for p in q.people if p.key == deployment.id), None)
    if deployment.id != root.id:
        cost = mine.cost if mine else 0
        return {**base, "day_rate": mine.day_rate if mine else 0, "commission_cost": cost,
                "brokerage_fee": 0, "school_pays": cost, "home_school_receives": cost,
                "teaching_school_receives": 0, "in_commission": root.reference,
                "school_shares": [{"school": s.name, "amount": a} for s, a in
                                  zip(schools, charging.split_evenly(cost, max(1, len(schools))),
                                      strict=False)],
                "lines": [_line("school", cost, f"{charging.describe_half_days(half_days)} of "
                                f"{charging.DESIGNATION_LABELS[deployment.designation]} support "
                                f"at {charging.format_pence(mine.day_rate if mine else 0)} a day, "
                                f"invoiced with commission {root.reference} at its end; the "
                                "brokerage fee is on the commission as a whole")] if cost else []}
    lines = []
    for person in q.people:
        d = members[int(str(person.key))]
        lines.append(_line("school", person.cost,
                           f"{d.leader.name}: {charging.describe_half_days(person.half_days)} of "
                           f"{charging.DESIGNATION_LABELS[person.designation]} support at "
                           f"{charging.format_pence(person.day_rate)} a day"))
    card = finance.to_card(finance.rate_card_for(root))
    if q.brokerage_fee:
        lines.append(_line("school", q.brokerage_fee,
                           f"Brokerage fee to the Teaching School: "
                           f"{card.brokerage_bp / 100:g}% of the "
                           f"{charging.format_pence(q.commission_cost)} cost of the whole "
                           "commission"))
    for person in q.people:
        d = members[int(str(person.key))]
        if person.cost:
            lines.append(_line("home_school", person.cost,
                               f"{d.home_school.name}: supply cover for "
                               f"{charging.describe_half_days(person.half_days)} of release of "
                               f"{d.leader.name}"))
    if q.brokerage_fee:
        lines.append(_line("teaching_school", q.brokerage_fee, "Teaching School: brokerage fee"))
    return {**base, "day_rate": mine.day_rate if mine else 0,
            "commission_cost": q.commission_cost, "brokerage_fee": q.brokerage_fee,
            "school_pays": q.school_pays, "home_school_receives": q.commission_cost,
            "teaching_school_receives": q.brokerage_fee,
            "people": [{"name": members[int(str(p.key))].leader.name,
                        "designation": charging.DESIGNATION_LABELS[p.designation],
                        "home_school": members[int(str(p.key))].home_school.name,
                        "half_days": p.half_days, "day_rate": p.day_rate, "cost": p.cost}
                       for p in q.people],
            "school_shares": [{"school": s.name, "amount": a}
                              for s, a in zip(schools, q.school_shares, strict=False)],
            "lines": lines}


def price_for_school(deployment: Deployment, school_id: int | None) -> int | None:
    """What a receiving school would pay for the proposal as it stands (a preview: in Sefton
    the rate depends on who is proposed), or None when it cannot be worked out."""
    charges = compute_charges(deployment, fix_card=False)
    if "error" in charges or school_id is None:
        return None
    names = {s.id: s.name for s in receiving_schools(deployment)}
    for share in charges.get("school_shares", []):
        if share["school"] == names.get(school_id):
            return int(share["amount"])
    return None


def _episode_charges(card, kind: str, deployment: Deployment, schools, today: date | None,
                     half_days: int) -> dict:
    """A good-practice visit or one-off consultation: the card's all-in price per half day or
    hour after each school's free allowance this academic year, no brokerage fee; the same rule
    invoicing applies (a consultation is charged by its hours)."""
    on = today or date.today()
    year = charging.academic_year(on)
    units = max(1, half_days) if kind == "good_practice_visit" \
        else finance.consultation_hours(deployment)
    shares, lines = [], []
    for school in schools:
        prior = finance.allowance_used(school.id, year, kind)
        if kind == "good_practice_visit":
            amount = charging.good_practice_visit_charge(card, prior, units)
            what = (f"Good-practice visit, {charging.describe_half_days(units)} at "
                    f"{charging.format_pence(card.gpv_half_day)} a half day after "
                    f"{card.gpv_free_per_year} free a year")
        else:
            amount = charging.consultation_charge(card, prior, units)
            what = (f"One-off consultation, {plural(units, 'hour')} at "
                    f"{charging.format_pence(card.consult_hour)} an hour after "
                    f"{plural(card.consult_free_hours, 'hour')} free a year")
        shares.append({"school": school.name, "amount": amount})
        lines.append({"party": "school", "party_label": charging.PARTY_LABELS["school"],
                      "amount": amount, "description": f"{school.name}: {what}"})
    total = sum(s["amount"] for s in shares)
    return {
        "designation": deployment.designation, "half_days": units, "day_rate": 0,
        "episode": kind, "subsidised": False, "commission_cost": total, "brokerage_fee": 0,
        "school_pays": total, "board_pays": 0, "home_school_receives": 0,
        # like the invoices raised at the end: the school pays the Teaching School
        "teaching_school_receives": total, "school_shares": shares, "lines": lines,
    }


def build_content(deployment: Deployment, today: date | None = None) -> dict:
    """The agreement's terms as plain JSON data: what is hashed and signed."""
    req = deployment.request
    alliance = deployment.alliance
    leader = deployment.leader
    profile = leader.profile
    content = {
        "reference": deployment.reference,
        "title": req.title,
        "alliance": {"name": alliance.name, "short_name": alliance.short_name},
        "kind": SUPPORT_KINDS.get(req.kind, req.kind),
        "route": ROUTES.get(req.route, req.route),
        "parties": {
            "system_leader": {"name": leader.name,
                              "designation": DESIGNATIONS.get(deployment.designation, ""),
                              "home_school": deployment.home_school.name},
            "home_school": {"name": deployment.home_school.name,
                            "urn": deployment.home_school.urn},
            "receiving_schools": [{"name": s.name, "urn": s.urn}
                                  for s in receiving_schools(deployment)],
            "teaching_school": alliance.lead_school or alliance.name,
        },
        "focus": {
            "standards": [{"code": c, "text": STANDARDS[c]} for c in req.standards],
            "phase": req.phase_label,
            "specialism": req.specialism.name if req.specialism else "",
            "staff_involved": req.staff_involved,
            "priorities": req.priorities,
            "leader_specialisms": [s.name for s in profile.specialisms] if profile else [],
        },
        "desired_outcomes": req.desired_outcomes,
        "measures_of_success": req.measures_of_success,
        "half_days": deployment.half_days_agreed,
        "duration": charging.describe_half_days(deployment.half_days_agreed),
        "start_date": req.start_date,
        "end_date": req.end_date,
        "schedule": "Visit dates to be arranged between the system leader and the receiving "
                    "school within these dates.",
        "charges": compute_charges(deployment, today),
        "exit_arrangements": COMMISSION_EXIT if req.kind == "commission" else DEFAULT_EXIT,
        "terms": (alliance.agreement_terms or "").strip() or DEFAULT_TERMS,
    }
    if req.kind == "commission":
        content["commission"] = commission_section(deployment)
    if deployment.targeted and req.board is not None:
        # the Board that funds its share is named, with who approved it and when
        approver = deployment.board_approved_by
        parties = cast(dict[str, Any], content["parties"])
        parties["board"] = {
            "name": req.board.name,
            "approved_by": approver.name if approver else "",
            "approved_on": deployment.board_approved_at.date()
            if deployment.board_approved_at else None,
        }
    # stored exactly as hashed: dates become ISO strings
    return json.loads(signing.canonical_json(content))


def pending_half_days(deployment: Deployment) -> int:
    """The half days on the table for ``deployment``: those of an amendment of its days still
    being signed (extra days approved), else those agreed."""
    if deployment.status == "agreement":
        return deployment.half_days_agreed
    latest = current(deployment.id)
    if latest is not None and latest.status in policy.OPEN:
        return int(latest.content.get("half_days") or deployment.half_days_agreed)
    return deployment.half_days_agreed


def on_the_table(root: Deployment) -> dict[int, int]:
    """Everyone on the commission and the half days being agreed for them (extra days
    approved for someone count here before their own amendment is signed)."""
    return {d.id: pending_half_days(d) for d in finance.commission_members(root)}


def commission_section(deployment: Deployment, half_days: dict[int, int] | None = None) -> dict:
    """Who commissions and who is deployed under the commission: part of what every party signs,
    so adding or taking someone off, or extra days for one of them, changes the agreement
    (:func:`amend_commission`). ``half_days`` overrides someone's days (an amendment's)."""
    root = finance.commission_root(deployment)
    assert root is not None
    section: dict = {
        "reference": root.reference,
        "commissioner": {"name": root.leader.name,
                         "designation": DESIGNATIONS.get(root.designation, "")},
    }
    if root.id == deployment.id:  # a person's own agreement names the commissioner only
        days = {**on_the_table(root), **(half_days or {})}
        section["people"] = [
            {"name": d.leader.name, "designation": DESIGNATIONS.get(d.designation, ""),
             "home_school": d.home_school.name, "half_days": days[d.id],
             "duration": charging.describe_half_days(days[d.id])}
            for d in finance.commission_members(root)]
    return section


def terms_hash(text: str | None) -> str:
    """What an edit form of an alliance's terms carries, to tell a stale page from a fresh one."""
    return hashlib.sha256((text or "").encode("utf-8")).hexdigest()


def new_token() -> str:
    """43 characters, 256 bits: unguessable. Never starting with "-", so that the code can be
    given to a command (``flask export-evidence CODE``) without being read as an option."""
    while (token := secrets.token_urlsafe(32)).startswith("-"):
        pass
    return token


def token_from(code: str) -> str:
    """The verification code in what someone pasted: the code itself, or the address of the
    agreement's public page (``…/agreements/verify/CODE``, perhaps with a query or fragment)."""
    code = code.strip()
    if "/agreements/verify/" in code:
        code = code.rsplit("/agreements/verify/", 1)[1]
        code = code.split("?", 1)[0].split("#", 1)[0].strip("/")
    return code


def current(deployment_id: int) -> Agreement | None:
    """The latest version of a deployment's agreement."""
    return db.session.scalar(
        select(Agreement).where(Agreement.deployment_id == deployment_id)
        .order_by(Agreement.version.desc()).limit(1)
    )


def last_signed(deployment_id: int) -> Agreement | None:
    """The latest version every party signed (still in force while an amendment is signed)."""
    return db.session.scalar(
        select(Agreement).where(Agreement.deployment_id == deployment_id,
                                Agreement.signed_at.is_not(None) | (Agreement.status == "signed"))
        .order_by(Agreement.version.desc()).limit(1)
    )


def history(deployment_id: int) -> list[Agreement]:
    return list(db.session.scalars(
        select(Agreement).where(Agreement.deployment_id == deployment_id)
        .order_by(Agreement.version.desc())
    ))


def lock(agreement_id: int) -> Agreement:
    """Re-read the agreement row FOR UPDATE (PostgreSQL), so concurrent signers queue."""
    agreement = db.session.scalars(
        select(Agreement).where(Agreement.id == agreement_id).with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    db.session.refresh(agreement, ["signatures"])
    db.session.refresh(deployment_of(agreement))
    return agreement


def deployment_of(agreement: Agreement) -> Deployment:
    """The agreement's deployment (every agreement has one)."""
    deployment = db.session.get(Deployment, agreement.deployment_id)
    assert deployment is not None
    return deployment


def _url(deployment: Deployment) -> str:
    return f"/deployments/{deployment.id}/agreement"


TERMS_CHANGED = ("Someone else changed the terms while you were editing. The current text is "
                 "below your version; copy what you need.")


def save_terms(alliance: Alliance, actor: User, text: str, *, seen_hash: str,
               ip: str = "") -> bool:
    """Save the alliance's terms for new agreements (audited), against the text the editor saw
    (``seen_hash``, :func:`terms_hash`; :class:`errors.Conflict` if someone changed it since).
    Agreements already drafted keep theirs. Answers whether the text changed."""
    require(policy.edit_terms(alliance, actor))
    alliance = db.session.scalars(
        select(Alliance).where(Alliance.id == alliance.id).with_for_update()
        .execution_options(populate_existing=True)).one()
    if seen_hash != terms_hash(alliance.agreement_terms):
        raise errors.Conflict(TERMS_CHANGED)
    new = (text or "").replace("\r\n", "\n").strip()
    if new == (alliance.agreement_terms or ""):
        return False
    audit.record(actor, "alliance.terms_changed", alliance, alliance_id=alliance.id,
                 detail={"from_hash": terms_hash(alliance.agreement_terms),
                         "to_hash": terms_hash(new)}, ip=ip)
    alliance.agreement_terms = new
    return True


def draft(deployment: Deployment, actor: User | None, *, ip: str = "") -> Agreement:
    """Create version 1 as a draft (or return the existing latest version)."""
    existing = current(deployment.id)
    if existing is not None:
        return existing
    content = build_content(deployment)
    agreement = Agreement(deployment_id=deployment.id, version=1, status="draft",
                          content=content, content_hash=signing.content_hash(content),
                          verify_token=new_token(),
                          created_by_id=actor.id if actor is not None else None)
    db.session.add(agreement)
    db.session.flush()
    audit.record(actor, "agreement.drafted", agreement, alliance_id=deployment.alliance_id,
                 detail={"deployment": deployment.reference, "version": 1,
                         "content_hash": agreement.content_hash}, ip=ip)
    notify.notify(eligible_users(deployment),
                  f"Agreement for {deployment.reference} is ready to read and sign",
                  _url(deployment))
    return agreement


@workflow.on_enter(Deployment, "agreement")
def _draft_on_confirmation(deployment: Deployment, actor: User | None, _reason: str) -> None:
    draft(deployment, actor)


# ------------------------------------------------------------------------------- editing


def _plain_edits(changes: dict) -> dict:
    out = {}
    for key, value in changes.items():
        if key not in EDITABLE:
            raise errors.Invalid(f"{key} cannot be edited", field=key)
        if isinstance(value, datetime):
            raise errors.Invalid("Give a date, not a date and time.", field=key)
        out[key] = value.isoformat() if isinstance(value, date) else value
    return out


def _day(value) -> date | None:
    if isinstance(value, date) or value is None:
        return value
    try:
        return date.fromisoformat(value) if value else None
    except ValueError as exc:
        raise errors.Invalid("Give dates like 2027-01-11.") from exc


def check_dates(deployment: Deployment, start, end, *, today: date | None = None) -> None:
    """The agreement's dates are inside the request's time frame, or else plausible: starting no
    earlier than a fortnight ago and within two years, ending on or after the start and at most
    two years later. Raises :class:`~portal.domain.errors.Invalid` naming the field."""
    start, end = _day(start), _day(end)
    today = today or date.today()
    req = deployment.request
    frame = (req.start_date, req.end_date)

    def inside(day: date | None) -> bool:
        first, last = frame
        return day is not None and first is not None and last is not None \
            and first <= day <= last

    if start is not None and not inside(start):
        problem = date_problem(
            start, today - TOLERANCE, today + MAX_AHEAD,
            too_early="The start date cannot be long past: keep it within the request's time "
                      "frame or enter {earliest} or later.",
            too_late="Enter a start date by {latest}, or within the request's time frame.")
        if problem:
            raise errors.Invalid(problem, field="start_date")
    if start is not None and end is not None and end < start:
        raise errors.Invalid("The end date must be on or after the start date.",
                             field="end_date")
    if end is not None and not (inside(start) and inside(end)):
        problem = time_frame_problem(start, end) or date_problem(
            end, today - TOLERANCE, today + MAX_AHEAD + MAX_TIME_FRAME,
            too_early="The end date cannot be in the past: keep it within the request's time "
                      "frame or enter {earliest} or later.",
            too_late="Enter an end date by {latest}.")
        if problem:
            raise errors.Invalid(problem, field="end_date")


def edit(agreement: Agreement, actor: User, changes: dict, *, seen_hash: str,
         ip: str = "") -> Agreement:
    """Change the terms. Returns the agreement now current (a new version if anyone signed).

    ``seen_hash`` is the content hash of the version the editor had open: if it moved on, the
    edit is refused (:class:`~portal.domain.errors.Conflict`) rather than overwriting someone
    else's change.
    """
    agreement = lock(agreement.id)
    deployment = deployment_of(agreement)
    require(policy.actions(agreement, actor, deployment=deployment)["edit"])
    if agreement.content_hash != seen_hash:
        raise errors.Conflict("Someone else changed the agreement while you were editing it.")
    content = {**agreement.content, **_plain_edits(changes)}
    dates = (content.get("start_date"), content.get("end_date"))
    if dates != (agreement.content.get("start_date"), agreement.content.get("end_date")):
        check_dates(deployment, *dates)  # dates already agreed stay editable around them
    return _change(agreement, deployment, actor, content, ip=ip)


def _change(agreement: Agreement, deployment: Deployment, actor: User, content: dict, *,
            ip: str = "", why: str = "The terms of the agreement") -> Agreement:
    """Put ``content`` in place of ``agreement``'s (locked): in place while no one has signed,
    else as a new version every party signs again. A fully signed version keeps its signatures
    (it stays in force, readable and verifiable, until its successor is signed by all); those on
    a version only partly signed are voided."""
    new_hash = signing.content_hash(content)
    if new_hash == agreement.content_hash:
        return agreement
    live = [s for s in agreement.signatures if s.voided_at is None]
    changed = sorted(k for k in (*EDITABLE, "half_days", "charges", "commission")
                     if content.get(k) != agreement.content.get(k))
    if not live:
        old_hash = agreement.content_hash
        agreement.content = content
        agreement.content_hash = new_hash
        audit.record(actor, "agreement.edited", agreement, alliance_id=deployment.alliance_id,
                     detail={"version": agreement.version, "changed": changed,
                             "from_hash": old_hash, "content_hash": new_hash}, ip=ip)
        return agreement
    fully_signed = agreement.signed_at is not None
    voided = [] if fully_signed else live
    now = utcnow()
    for sig in voided:
        sig.voided_at = now
    agreement.status = "superseded"
    successor = Agreement(deployment_id=deployment.id, version=agreement.version + 1,
                          status="draft", content=content, content_hash=new_hash,
                          verify_token=new_token(), created_by_id=actor.id)
    db.session.add(successor)
    db.session.flush()
    audit.record(actor, "agreement.new_version", successor, alliance_id=deployment.alliance_id,
                 detail={"version": successor.version, "supersedes": agreement.version,
                         "changed": changed, "voided_signatures": [s.id for s in voided],
                         "amendment": fully_signed, "content_hash": new_hash}, ip=ip)
    said = (f"please read and sign version {successor.version} (version {agreement.version} "
            "is signed by all, and applies until then)" if fully_signed else
            f"every signature was voided; please read and sign version {successor.version}")
    notify.notify(eligible_users(deployment),
                  f"{why} for {deployment.reference} changed: {said}", _url(deployment))
    return successor


def amend_days(deployment: Deployment, actor: User, extra_half_days: int, *,
               ip: str = "") -> Agreement | None:
    """Extra days approved: a new version with the new days and charges, for every party to
    sign again. The days agreed (for visits and invoices) rise only when it is signed by all
    (:func:`sign`). None where the deployment has no agreement to amend."""
    latest = current(deployment.id)
    if latest is None or latest.status == "void":
        return None
    agreement = lock(latest.id)
    # on top of an amendment still being signed, else of the days signed for
    half_days = pending_half_days(deployment) + extra_half_days
    content = {**agreement.content, "half_days": half_days,
               "duration": charging.describe_half_days(half_days),
               "charges": compute_charges(deployment, half_days=half_days)}
    root = finance.commission_root(deployment)
    if root is not None and root.id == deployment.id:  # the commission names its own days
        content["commission"] = commission_section(deployment, {deployment.id: half_days})
    content = json.loads(signing.canonical_json(content))
    amended = _change(agreement, deployment, actor, content, ip=ip, why="The days agreed")
    if root is not None and root.id != deployment.id:
        # the commission's agreement names and prices everyone on it: it changes too, and the
        # extra days wait for every party to sign it as well (finance.commission_hold)
        amend_commission(root, actor, ip=ip, why=f"The days of {deployment.leader.name}")
    return amended


def amend_commission(commission: Deployment, actor: User, *, ip: str = "",
                     why: str = "The people on the commission") -> Agreement | None:
    """Someone was added to or taken off the commission: its agreement names everyone and
    prices them, so it changes - in place while no one has signed, else as a new version that
    every party signs again (the signed one stays in force meanwhile). None when the commission
    has no agreement yet (its first version will name everyone)."""
    latest = current(commission.id)
    if latest is None or latest.status == "void":
        return None
    agreement = lock(latest.id)
    own = int(agreement.content.get("half_days") or commission.half_days_agreed)
    content = {**agreement.content,
               "commission": commission_section(commission, {commission.id: own}),
               "charges": compute_charges(commission, half_days=own)}
    content = json.loads(signing.canonical_json(content))
    return _change(agreement, commission, actor, content, ip=ip, why=why)


def _apply_amendment(agreement: Agreement, deployment: Deployment, user: User,
                     ip: str) -> None:
    """The amendment is signed by all: its days are the deployment's agreed days now."""
    before = deployment.half_days_agreed
    deployment.half_days_agreed = int(agreement.content.get("half_days") or before)
    audit.record(user, "agreement.amendment_signed", agreement,
                 alliance_id=deployment.alliance_id,
                 detail={"version": agreement.version, "content_hash": agreement.content_hash,
                         "half_days_agreed": {"from": before,
                                              "to": deployment.half_days_agreed}}, ip=ip)
    root = finance.commission_root(deployment)
    if root is not None and root.id != deployment.id \
            and deployment.half_days_agreed != before:
        # their days changed after the commission's version was signed: it changes too
        # (nothing new where the approval already put the days in it)
        amend_commission(root, user, ip=ip, why=f"The days of {deployment.leader.name}")


def void(agreement: Agreement, actor: User, reason: str, *, ip: str = "") -> None:
    """Void the agreement and cancel the deployment (workflow: agreement -> cancelled)."""
    agreement = lock(agreement.id)
    deployment = deployment_of(agreement)
    require(policy.actions(agreement, actor, deployment=deployment)["void"])
    reason = (reason or "").strip()
    if not reason:
        raise errors.Invalid("Give a reason for voiding the agreement.", field="reason")
    now = utcnow()
    voided = []
    for sig in agreement.signatures:
        if sig.voided_at is None:
            sig.voided_at = now
            voided.append(sig.id)
    agreement.status = "void"
    agreement.void_reason = reason
    audit.record(actor, "agreement.voided", agreement, alliance_id=deployment.alliance_id,
                 detail={"version": agreement.version, "reason": reason,
                         "voided_signatures": voided}, ip=ip)
    workflow.transition(deployment, "cancelled", actor, reason=reason, ip=ip)
    notify.notify(eligible_users(deployment),
                  f"The agreement for {deployment.reference} was voided: {reason}",
                  _url(deployment))


# ------------------------------------------------------------------------------- signing


def consent_for(deployment: Deployment, agreement: Agreement, slot: Slot, user: User,
                *, decline: bool = False) -> str:
    capacity = slot.description if slot.kind != "leader" else CAPACITIES["leader"]
    text = signing.consent_statement(user.name, capacity, deployment.reference,
                                     agreement.version, agreement.content_hash)
    if decline:
        text = text.replace(" agree to the terms of ", " decline to sign ", 1)
    return text


def _evidence(sig: Signature, agreement: Agreement) -> dict:
    return signing.signature_evidence(
        user_id=sig.user_id, capacity=sig.capacity, typed_name=sig.typed_name,
        consent_text=sig.consent_text, signed_at=sig.signed_at, ip_address=sig.ip or None,
        user_agent=sig.user_agent or None, agreement_hash=sig.content_hash,
        agreement_id=sig.agreement_id, version=agreement.version,
    )


def record_signature(deployment: Deployment, agreement: Agreement, slot: Slot, user: User, *,
                     decision: str, typed_name: str, reason: str = "", ip: str = "",
                     user_agent: str = "", signed_at: datetime | None = None,
                     on_behalf: dict | None = None) -> Signature:
    """Store one signature (or decline) for ``slot`` and chain its evidence in the audit trail.

    No rule is checked here (see :func:`sign`); the slot's unique constraint still holds.
    ``on_behalf`` (who agreed, their role, how and when) marks a signature ``user`` recorded
    for a school with no login (:func:`record_on_behalf`).
    """
    consent = consent_for(deployment, agreement, slot, user, decline=decision == "declined")
    extra: dict = {}
    if on_behalf:
        consent = on_behalf_statement(deployment, agreement, slot, user, on_behalf)
        extra = {"agreed_by_role": on_behalf["agreed_by_role"],
                 "agreed_via": on_behalf["agreed_via"], "agreed_on": on_behalf["agreed_on"]}
    sig = Signature(
        agreement_id=agreement.id, user_id=user.id,
        # one recorder may fill several slots: keep (agreement, user, capacity) unique
        capacity=f"On behalf: {slot.party}"[:40] if on_behalf else slot.capacity,
        party=slot.party,
        school_id=slot.school.id if slot.school else None, decision=decision,
        typed_name=(typed_name or user.name).strip()[:120],
        consent_text=consent,
        reason=reason.strip(), content_hash=agreement.content_hash, ip=(ip or "")[:45],
        user_agent=(user_agent or "")[:400],
        signed_at=(signed_at or utcnow()).replace(microsecond=0), **extra,
    )
    db.session.add(sig)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:
        raise errors.NotNow("This slot has just been signed (a second click or tab).") from exc
    event = audit.record(
        user, f"agreement.{decision}", agreement, alliance_id=deployment.alliance_id,
        detail={"signature_id": sig.id, "party": sig.party, "evidence": _evidence(sig, agreement),
                **({"reason": sig.reason} if sig.reason else {}),
                **({"on_behalf": {**on_behalf, "agreed_on": on_behalf["agreed_on"].isoformat()}}
                   if on_behalf else {})}, ip=ip)
    sig.evidence_hash = event.hash
    return sig


def _respond(agreement: Agreement, user: User, *, version: int, seen_hash: str,
             typed_name: str, decision: str, reason: str, ip: str, user_agent: str
             ) -> tuple[Agreement, Signature]:
    agreement = lock(agreement.id)
    deployment = deployment_of(agreement)
    f = policy.facts(agreement, deployment, user)
    action = "sign" if decision == "signed" else "decline"
    # open, the only "not now" is an answer already given (a double click or a second tab)
    require(policy.actions(agreement, user, deployment=deployment, f=f)[action])
    latest = current(deployment.id)
    assert latest is not None  # this agreement, at least
    if latest.id != agreement.id or agreement.version != version \
            or agreement.content_hash != seen_hash:
        raise errors.Conflict(
            f"The agreement changed after you opened it. Version {latest.version} is shown "
            "now: read it again before you sign.")
    slot = f.slot
    assert slot is not None  # a signatory, required above
    if decision == "signed" and not signing.typed_name_matches(typed_name, user.name):
        raise errors.Invalid(f"Type your full name exactly as it is shown: {user.name}.",
                             field="typed_name")
    if decision == "declined" and not reason.strip():
        raise errors.Invalid("Give a reason for declining.", field="reason")
    sig = record_signature(deployment, agreement, slot, user, decision=decision,
                           typed_name=typed_name, reason=reason, ip=ip, user_agent=user_agent)
    if agreement.status == "draft":
        agreement.status = "signing"
    return agreement, sig


def sign(agreement: Agreement, user: User, *, version: int, seen_hash: str, typed_name: str,
         ip: str = "", user_agent: str = "") -> Signature:
    """Record ``user``'s signature on exactly the version and hash they were shown.

    The last signature marks the agreement signed and the deployment active.
    """
    agreement, sig = _respond(agreement, user, version=version, seen_hash=seen_hash,
                              typed_name=typed_name, decision="signed", reason="", ip=ip,
                              user_agent=user_agent)
    _complete_if_all_signed(agreement, user, sig, ip=ip)
    return sig


def _complete_if_all_signed(agreement: Agreement, user: User, sig: Signature, *,
                            ip: str = "") -> None:
    """The last signature marks the agreement signed and the deployment active."""
    deployment = deployment_of(agreement)
    db.session.refresh(agreement, ["signatures"])
    if all(s.signed for s in slots(deployment, agreement)):
        agreement.status = "signed"
        agreement.signed_at = sig.signed_at
        audit.record(user, "agreement.completed", agreement, alliance_id=deployment.alliance_id,
                     detail={"version": agreement.version,
                             "content_hash": agreement.content_hash}, ip=ip)
        if deployment.status == "agreement":
            workflow.transition(deployment, "active", user, ip=ip)
            said = "the deployment is active"
        else:  # an amendment of an active deployment
            _apply_amendment(agreement, deployment, user, ip)
            said = f"version {agreement.version} applies now"
        from . import checkpoints

        # the log's head, signed, now that the agreement is: its proofs lead here
        checkpoints.checkpoint(audit.log_name(deployment.alliance_id),
                               reason=f"agreement {deployment.reference} signed by all")
        # every party gets the signed agreement as a PDF, made by the worker as it is sent
        notify.notify(eligible_users(deployment) + _overseers(deployment),
                      f"The agreement for {deployment.reference} is signed by all: {said}",
                      _url(deployment), attachment=f"agreement:{agreement.id}")


def on_behalf_summary(sig: Signature) -> str:
    """ "Jo Smith, headteacher, by phone on 1 Dec 2026" for a signature recorded on behalf."""
    from ..formatting import uk_date
    from .brokering import AGREED_VIA

    return (f"{sig.typed_name}, {sig.agreed_by_role}, {AGREED_VIA.get(sig.agreed_via or '', '')}"
            f" on {uk_date(sig.agreed_on)}")


def on_behalf_statement(deployment: Deployment, agreement: Agreement, slot: Slot, user: User,
                        who: dict) -> str:
    from ..formatting import uk_date
    from .brokering import AGREED_VIA

    return (f"{who['agreed_by_name']}, {who['agreed_by_role']}, agreed for {slot.description} "
            f"{AGREED_VIA[who['agreed_via']]} on {uk_date(who['agreed_on'])} to the terms of "
            f"agreement {deployment.reference} version {agreement.version} (fingerprint "
            f"{signing.fingerprint(agreement.content_hash)}); recorded on the school's behalf "
            f"by {user.name}.")


def record_on_behalf(agreement: Agreement, actor: User, *, party: str, version: int,
                     seen_hash: str, agreed_by_name: str, agreed_by_role: str,
                     agreed_via: str, agreed_on: date | None, today: date | None = None,
                     ip: str = "", user_agent: str = "") -> Signature:
    """The co-ordinator or director records the signature of a school with no login: who
    agreed (name, role), how (email, phone, letter) and when, on exactly the version and
    fingerprint shown. Audited with that evidence; the last signature activates the
    deployment as any other does."""
    from .brokering import on_behalf_details

    agreement = lock(agreement.id)
    deployment = deployment_of(agreement)
    f = policy.facts(agreement, deployment, actor)
    require(policy.actions(agreement, actor, deployment=deployment, f=f)["sign_on_behalf"])
    latest = current(deployment.id)
    assert latest is not None  # this agreement, at least
    if latest.id != agreement.id or agreement.version != version \
            or agreement.content_hash != seen_hash:
        raise errors.Conflict(
            f"The agreement changed after you opened it. Version {latest.version} is shown "
            "now: read it again before you record a signature.")
    slot = next((s for s in f.on_behalf if s.party == party), None)
    if slot is None:
        raise errors.Invalid("Choose a school that has not signed and has no login.",
                             field="party")
    details = on_behalf_details(agreed_by_name, agreed_by_role, agreed_via, agreed_on,
                                today=today)
    sig = record_signature(deployment, agreement, slot, actor, decision="signed",
                           typed_name=details["agreed_by_name"], ip=ip, user_agent=user_agent,
                           on_behalf=details)
    if agreement.status == "draft":
        agreement.status = "signing"
    _complete_if_all_signed(agreement, actor, sig, ip=ip)
    return sig


def decline(agreement: Agreement, user: User, *, version: int, seen_hash: str, reason: str,
            ip: str = "", user_agent: str = "") -> Signature:
    """Record that ``user`` declines to sign this version, with the reason; tell the admins."""
    agreement, sig = _respond(agreement, user, version=version, seen_hash=seen_hash,
                              typed_name=user.name, decision="declined", reason=reason, ip=ip,
                              user_agent=user_agent)
    deployment = deployment_of(agreement)
    notify.notify(_overseers(deployment),
                  f"{user.name} declined to sign the agreement for {deployment.reference}: "
                  f"{sig.reason}", _url(deployment))
    return sig


def _overseers(deployment: Deployment) -> list[User]:
    return list(db.session.scalars(select(User).where(
        User.alliance_id == deployment.alliance_id, User.role.in_(("admin", "director")),
        User.active.is_(True))))


# ------------------------------------------------------------------------------- verifying

# Forgeries of an agreement, by name, as ``flask verify-audit`` reports them.
TERMS_CHANGED = "terms changed after signing"  # the signatures hold another content hash
HASH_EMPTIED = "content hash emptied"
CONTENT_MISMATCH = "terms do not match their content hash"
SIGNATURE_DELETED = "signature row deleted"
SIGNATURE_EDITED = "signature differs from its evidence in the log"
STATUS_FORGED = "marked signed without every signature"

SIGNATURE_ACTIONS = ("agreement.signed", "agreement.declined")


@dataclass(frozen=True)
class Verification:
    matches: bool
    agreement: Agreement | None
    message: str


def by_token(token: str) -> Agreement | None:
    if not token or len(token) > 64:
        return None
    return db.session.scalar(select(Agreement).where(Agreement.verify_token == token))


def _signature_events(agreement: Agreement) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "Agreement", AuditEvent.object_id == agreement.id,
        AuditEvent.action.in_(SIGNATURE_ACTIONS)).order_by(AuditEvent.log, AuditEvent.seq)))


def _plain(data: dict) -> dict:
    return json.loads(signing.canonical_json(data))


def evidence_bundle(agreement: Agreement, *, proofs: bool = True) -> dict:
    """Everything needed to check ``agreement`` without the portal (``evidence.FORMAT``):
    terms, signatories, each live signature with its log event and inclusion proof against
    the newest checkpoint of the alliance's log that covers them."""
    from . import checkpoints, evidence

    deployment = deployment_of(agreement)
    events = _signature_events(agreement)
    by_id = {e.detail.get("signature_id"): e for e in events}
    live = [s for s in agreement.signatures if s.voided_at is None]
    rows = {s.id for s in agreement.signatures}
    missing = [e.detail.get("party", "") for e in events
               if e.detail.get("signature_id") not in rows]
    log = audit.log_name(deployment.alliance_id)
    signatures = []
    for sig in live:
        try:
            ev = _evidence(sig, agreement)
        except (TypeError, ValueError):
            ev = {}
        event = by_id.get(sig.id)
        if event is None or event.hash != sig.evidence_hash:
            event = db.session.scalar(select(AuditEvent).where(
                AuditEvent.hash == sig.evidence_hash).limit(1)) if sig.evidence_hash else None
        signatures.append({
            "signature_id": sig.id, "party": sig.party, "decision": sig.decision, "evidence": ev,
            "event": _plain(audit.payload(event)) if event is not None
            else {"log": "", "seq": 0, "object_id": None, "detail": {}},
            "digest": event.digest if event is not None else "",
            "leaf_index": (event.seq - 1) if event is not None else -1,
            "proof": cast(list[str], [])})
    needed = max([cast(int, s["leaf_index"]) + 1 for s in signatures] or [0])
    cp = checkpoints.latest(log, needed) if signatures else None
    if cp is not None and proofs:
        leaves = audit.leaves(log, cp.size)
        for s in signatures:
            index = cast(int, s["leaf_index"])
            if 0 <= index < len(leaves) and cast(dict, s["event"])["log"] == log:
                s["proof"] = [p.hex() for p in merkle.inclusion_proof(index, leaves)]
    return {
        "format": evidence.FORMAT,
        "agreement": {"reference": deployment.reference, "version": agreement.version,
                      "content": _plain(agreement.content or {}),
                      "content_hash": agreement.content_hash or "",
                      "status_recorded": agreement.status},
        "signatories": [{"party": sl.party, "description": sl.description}
                        for sl in slots(deployment, agreement)],
        "signatures": signatures,
        "missing_signatures": missing,
        "checkpoint": checkpoints.as_json(cp) if cp is not None else None,
        "public_key": checkpoints.public_key_b64(),
    }


@dataclass(frozen=True)
class Examination:
    """What the public page shows: every check, and "fully signed" derived from them."""

    bundle: dict
    checks: list
    fully_signed: bool

    @property
    def failed(self) -> list:
        return [c for c in self.checks if not c.ok]


def examine(agreement: Agreement) -> Examination:
    from . import evidence

    bundle = evidence_bundle(agreement)
    checks = evidence.verify_bundle(bundle)
    return Examination(bundle, checks, evidence.fully_signed(checks))


def verify_fingerprint(agreement: Agreement, text: str,
                       examination: Examination | None = None) -> Verification:
    """Does this pasted fingerprint match this agreement, and is it fully signed (derived
    from the signatures and their proofs, never from the status column)?"""
    try:
        wanted = signing.normalise_fingerprint(text)
    except ValueError as exc:
        return Verification(False, agreement, str(exc).capitalize() + ".")
    exam = examination or examine(agreement)
    if not exam.fully_signed:
        failed = exam.failed
        return Verification(False, agreement, "This agreement is not fully signed: "
                            + "; ".join(f"{c.name.lower()}: no. {c.message}" for c in failed))
    if wanted != agreement.content_hash:
        return Verification(False, agreement,
                            "No: this fingerprint does not match the signed agreement.")
    if agreement.status == "superseded":
        return Verification(True, agreement, f"Yes: this fingerprint matches version "
                                             f"{agreement.version}, fully signed; a later "
                                             "version has replaced it since.")
    return Verification(True, agreement, "Yes: this fingerprint matches the fully signed "
                                         "agreement.")


def forgeries(agreement: Agreement, deployment: Deployment, sigs: list[Signature],
              events: list[AuditEvent]) -> list[tuple[str, str]]:
    """Each forgery of one agreement, by name, with the particulars (no proofs: the logs
    themselves are checked by ``audit.verify``)."""
    out: list[tuple[str, str]] = []
    try:
        actual = signing.content_hash(agreement.content)
    except (TypeError, ValueError):
        actual = ""
    if not agreement.content_hash:
        out.append((HASH_EMPTIED, "the agreement has no content hash"))
    elif actual != agreement.content_hash:
        out.append((CONTENT_MISMATCH, "its terms do not give its content hash"))
    live = [s for s in sigs if s.voided_at is None]
    other = [s for s in live if s.decision == "signed" and s.content_hash != actual]
    if other:
        out.append((TERMS_CHANGED, f"{len(other)} signature(s) hold another content hash "
                                   "than its terms give"))
    by_hash = {e.hash: e for e in events}
    for sig in sigs:
        event = by_hash.get(sig.evidence_hash)
        try:
            same = event is not None and event.detail.get("evidence") == _evidence(sig, agreement)
        except (TypeError, ValueError):
            same = False
        if not same:
            out.append((SIGNATURE_EDITED, f"the {sig.capacity.lower()}'s signature row differs "
                                          "from the evidence the log recorded"))
    rows = {s.id for s in sigs}
    for event in events:
        if event.detail.get("signature_id") not in rows:
            party = event.detail.get("party", "")
            out.append((SIGNATURE_DELETED, f"the log records a signature ({party}) that is "
                                           "no longer stored"))
    if agreement.status == "signed":
        by_party = {s.party for s in live if s.decision == "signed" and s not in other}
        required = [sl.party for sl in slots(deployment)]
        done = sum(1 for p in required if p in by_party)
        if done < len(required):
            out.append((STATUS_FORGED, f"its status says signed but {done} of {len(required)} "
                                       "signatories have signed"))
    return out


def verify_signatures(batch: int = 500) -> list[str]:
    """Check every agreement for the forgeries above. Returns "name: agreement: detail"."""
    problems: list[str] = []
    last = 0
    while True:
        agreements = db.session.scalars(select(Agreement).where(Agreement.id > last)
                                        .order_by(Agreement.id).limit(batch)).all()
        if not agreements:
            break
        ids = [a.id for a in agreements]
        sigs: dict[int, list[Signature]] = {}
        for sig in db.session.scalars(select(Signature).where(Signature.agreement_id.in_(ids))):
            sigs.setdefault(sig.agreement_id, []).append(sig)
        events: dict[int, list[AuditEvent]] = {}
        for event in db.session.scalars(select(AuditEvent).where(
                AuditEvent.object_type == "Agreement", AuditEvent.object_id.in_(ids),
                AuditEvent.action.in_(SIGNATURE_ACTIONS))):
            events.setdefault(event.object_id or 0, []).append(event)
        for agreement in agreements:
            last = agreement.id
            deployment = deployment_of(agreement)
            for name, detail in forgeries(agreement, deployment, sigs.get(agreement.id, []),
                                          events.get(agreement.id, [])):
                problems.append(f"{name}: agreement {agreement.id} (version "
                                f"{agreement.version}): {detail}")
        db.session.expunge_all()
    return problems


# ------------------------------------------------------------------------------- changes


@dataclass(frozen=True)
class Change:
    """One term as two versions have it, in words (the side-by-side table)."""

    term: str
    before: str
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


def _words(content: dict) -> dict[str, str]:
    charges = content.get("charges") or {}

    def money(key: str) -> str:
        value = charges.get(key)
        return charging.format_pence(int(value)) if isinstance(value, int) else "–"

    half_days = content.get("half_days")
    return {
        "Days": charging.describe_half_days(int(half_days)) if half_days else "–",
        "Start date": uk_date(_day(content.get("start_date"))) or "–",
        "End date": uk_date(_day(content.get("end_date"))) or "–",
        "People": "; ".join(f"{p['name']} ({p['designation']}), {p['duration']}"
                            for p in (content.get("commission") or {}).get("people", [])) or "–",
        "Total cost": money("commission_cost"),
        "The school pays": money("school_pays"),
        "The Board pays": money("board_pays"),
        "Schedule": content.get("schedule") or "–",
        "Exit arrangements": content.get("exit_arrangements") or "–",
        "Terms": content.get("terms") or "–",
    }


def changes_between(before: Agreement, after: Agreement) -> list[Change]:
    """The terms that differ between two versions (days, dates, charges and the texts)."""
    old, new = _words(before.content), _words(after.content)
    return [c for c in (Change(term, old[term], new[term]) for term in old) if c.changed]


def previous(agreement: Agreement) -> Agreement | None:
    """The version just before this one, if any."""
    return db.session.scalar(select(Agreement).where(
        Agreement.deployment_id == agreement.deployment_id,
        Agreement.version < agreement.version).order_by(Agreement.version.desc()).limit(1))
