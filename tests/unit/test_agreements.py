"""Agreement rules (portal.domain.agreements) against the database: drafting, charges, slots,
signing, versioning, voiding, declining, and verifying the evidence chain."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select, update

from portal.domain import agreements as service
from portal.domain import audit, errors, signing
from portal.models import (
    Agreement,
    AuditEvent,
    Deployment,
    Notification,
    RateCard,
    RequestSchool,
    Signature,
)
from tests import factories
from tests.factories import agreements as fa


@pytest.fixture
def w(db):
    return fa.ready_world()


def _agreement(w, side="a") -> Agreement:
    return service.current(getattr(w, side).deployment.id)


def _count(model, *where) -> int:
    from portal.extensions import db

    return db.session.scalar(select(func.count()).select_from(model).where(*where))


# ------------------------------------------------------------------------------- drafting


def test_entering_agreement_drafts_version_1(w):
    ag = _agreement(w)
    assert ag.version == 1 and ag.status == "draft"
    assert ag.content_hash == signing.content_hash(ag.content)
    assert len(ag.verify_token) == 43
    assert ag.content["reference"] == w.a.deployment.reference
    assert ag.content["parties"]["system_leader"]["name"] == "Alpha Leader"
    assert ag.content["parties"]["receiving_schools"][0]["name"] == "Alpha Receiving Primary"
    assert ag.content["focus"]["standards"][0]["code"] == "TS2"
    assert ag.content["terms"] == "1. Be kind.\n2. Keep data safe."
    assert ag.content["start_date"] == w.a.request.start_date.isoformat()
    assert _count(AuditEvent, AuditEvent.action == "agreement.drafted") == 2
    # every signatory was told
    told = set(service.eligible_users(w.a.deployment))
    assert {u.id for u in told} == {u.id for u in fa.signers(w)}
    assert _count(Notification, Notification.user_id == w.user("a", "director").id) == 1


def test_drafting_twice_keeps_the_first(w, db):
    again = service.draft(w.a.deployment, None)
    assert again.id == _agreement(w).id
    assert _count(Agreement, Agreement.deployment_id == w.a.deployment.id) == 1


def test_rate_card_is_stored_on_the_deployment_and_kept(w, db):
    card_id = w.a.deployment.rate_card_id
    assert card_id is not None and _agreement(w).content["charges"]["rate_card_id"] == card_id
    # a newer card with other rates does not change what this deployment is charged
    factories.rate_card(w.a.alliance, effective_from=date(2024, 9, 1), sle_day_pence=99_900)
    charges = service.compute_charges(w.a.deployment)
    assert charges["rate_card_id"] == card_id and charges["day_rate"] == 35_000


def test_sefton_sle_charges_with_brokerage(w):
    ch = _agreement(w).content["charges"]
    # 8 half days of SLE at £350: £1,400, plus 10% brokerage
    assert ch["commission_cost"] == 140_000 and ch["brokerage_fee"] == 14_000
    assert ch["school_pays"] == 154_000 and ch["home_school_receives"] == 140_000
    assert ch["teaching_school_receives"] == 14_000 and ch["board_pays"] == 0
    assert [line["party"] for line in ch["lines"]] == [
        "school", "school", "home_school", "teaching_school"]


def _fresh_deployment(model: str, *, designation="sle", half_days=8, targeted=False,
                      schools=1, card=True, kind="sle_deployment",
                      hours: int | None = None) -> Deployment:
    a = factories.alliance(f"X{model[:3]}{designation}{half_days}", model=model)
    if card:
        factories.rate_card(a)
    receiving = [factories.school(a, f"R{i}") for i in range(schools)]
    home = factories.school(a, "Home")
    # everyone who confirms the proposal: each receiving head, the home school, the co-ordinator
    head, *_ = [factories.user(a, "headteacher", s) for s in receiving]
    factories.user(a, "home_school", home)
    factories.user(a, "admin")
    leader = factories.leader(a, home, designation=designation)
    req = factories.support_request(a, head, receiving, half_days=half_days)
    req.kind = kind
    req.hours_wanted = hours
    d = factories.deployment(req, leader, half_days=half_days)
    d.targeted = targeted
    if targeted:  # a Board-funded deployment names its Board, whose member approves it
        board = factories.board(a)
        req.route, req.board_id = "board", board.id
        factories.user(a, "board", board=board)
    factories.advance(d, "agreement")
    return d


def test_sefton_lle_four_days_costs_the_school_1980(db):
    d = _fresh_deployment("sefton", designation="lle", half_days=8)
    assert service.current(d.id).content["charges"]["school_pays"] == 198_000


@pytest.mark.parametrize(("kind", "half_days", "expected"), [
    ("good_practice_visit", 1, 0),        # the school's first half day this year is free
    ("good_practice_visit", 3, 20_000),   # then £100 a half day, no brokerage
    ("consultation", 4, 0),               # one hour, and the first hour a year is free
])
def test_visits_and_consultations_are_priced_all_in_after_the_allowance(db, kind, half_days,
                                                                        expected):
    d = _fresh_deployment("sefton", half_days=half_days, kind=kind)
    ch = service.current(d.id).content["charges"]
    assert ch["episode"] == kind and ch["brokerage_fee"] == 0
    assert ch["school_pays"] == expected == sum(s["amount"] for s in ch["school_shares"])


@pytest.mark.parametrize(("hours", "expected"), [(1, 0), (2, 7_000), (3, 14_000), (8, 49_000)])
def test_a_consultation_is_charged_by_its_hours_after_the_first_free_hour(db, hours, expected):
    """Issue 15, item 5: every consultation was charged as one hour, even a full day. Sefton:
    the first hour per school per academic year is free, then £70 an hour."""
    d = _fresh_deployment("sefton", half_days=2, kind="consultation", hours=hours)
    ch = service.current(d.id).content["charges"]
    assert ch["school_pays"] == expected and ch["brokerage_fee"] == 0
    line = ch["lines"][0]["description"]
    assert f"One-off consultation, {hours} hour{'s' if hours != 1 else ''} at £70.00 an hour" \
        in line and "after 1 hour free a year" in line


def test_east_sussex_targeted_six_days(db):
    d = _fresh_deployment("east_sussex", half_days=12, targeted=True)
    ch = service.current(d.id).content["charges"]
    assert ch["home_school_receives"] == 210_000
    assert ch["board_pays"] == 120_000 and ch["school_pays"] == 90_000 and ch["subsidised"]


def test_two_receiving_schools_share_equally(db):
    d = _fresh_deployment("sefton", half_days=3, schools=2)
    ch = service.current(d.id).content["charges"]
    # 1.5 days at £350 = £525 + £52.50 brokerage = £577.50, split 28,875p each
    assert [s["amount"] for s in ch["school_shares"]] == [28_875, 28_875]
    assert sum(s["amount"] for s in ch["school_shares"]) == ch["school_pays"]


def test_without_a_rate_card_the_models_standard_rates_are_used(db):
    d = _fresh_deployment("east_sussex", card=False)
    ch = service.current(d.id).content["charges"]
    assert ch["rate_card_id"] is None and ch["model"] == "east_sussex"
    assert ch["day_rate"] == 35_000 and d.rate_card_id is None


def test_a_broken_rate_card_is_reported_not_crashed(db):
    a = factories.alliance("Broken")
    factories.rate_card(a, brokerage_bp=0, board_grant_day_pence=99_999_999)
    s = factories.school(a, "S")
    head = factories.user(a, "headteacher", s)
    home = factories.school(a, "H")
    factories.user(a, "home_school", home)
    factories.user(a, "admin")
    leader = factories.leader(a, home)
    d = factories.deployment(factories.support_request(a, head, [s]), leader)
    factories.advance(d, "agreement")
    assert "could not be worked out" in service.current(d.id).content["charges"]["error"]


def test_empty_alliance_terms_fall_back_to_the_default(db):
    d = _fresh_deployment("sefton")
    assert service.current(d.id).content["terms"] == service.DEFAULT_TERMS


# ------------------------------------------------------------------------------- slots


def test_slots_are_leader_home_director_and_each_receiving_head(w, db):
    d = w.a.deployment
    extra = factories.school(w.a.alliance, "Second Receiving")
    db.session.add(RequestSchool(request_id=d.request_id, school_id=extra.id, position=1))
    db.session.flush()
    db.session.expire(d.request, ["schools"])
    parties = [s.party for s in service.slots(d)]
    assert parties == ["leader", f"home_school:{d.home_school_id}", "director",
                       f"receiving:{w.a.receiving.id}", f"receiving:{extra.id}"]


@pytest.mark.parametrize(("role", "party"), [
    ("sle", "leader"), ("home_school", "home_school"), ("director", "director"),
    ("headteacher", "receiving"),
])
def test_each_signatory_holds_their_slot(w, role, party):
    slot = service.slot_for(w.a.deployment, _agreement(w), w.user("a", role))
    assert slot is not None and slot.party.startswith(party)


@pytest.mark.parametrize("role", ["admin", "board", "other_head"])
def test_others_hold_no_slot(w, role):
    assert service.slot_for(w.a.deployment, _agreement(w), w.user("a", role)) is None


@pytest.mark.parametrize("role", ["sle", "home_school", "director", "headteacher"])
def test_the_other_alliances_people_hold_no_slot(w, role):
    assert service.slot_for(w.a.deployment, _agreement(w), w.user("b", role)) is None


def test_inactive_users_hold_no_slot(w, db):
    head = w.user("a", "headteacher")
    head.active = False
    assert service.slot_for(w.a.deployment, _agreement(w), head) is None


# ------------------------------------------------------------------------------- signing


def test_a_signature_keeps_its_evidence_in_the_audit_chain(w, db):
    ag = _agreement(w)
    leader = w.user("a", "sle")
    sig = service.sign(ag, leader, version=1, seen_hash=ag.content_hash,
                       typed_name="  alpha   LEADER ", ip="203.0.113.9", user_agent="UA/1")
    db.session.commit()
    assert sig.typed_name == "alpha   LEADER" and sig.party == "leader"
    assert sig.capacity == "System leader" and sig.content_hash == ag.content_hash
    assert sig.ip == "203.0.113.9" and sig.user_agent == "UA/1"
    assert sig.signed_at.tzinfo is not None
    assert signing.fingerprint(ag.content_hash) in sig.consent_text
    assert sig.consent_text.startswith("I, Alpha Leader, signing as System leader")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.hash == sig.evidence_hash))
    assert event.action == "agreement.signed" and event.detail["signature_id"] == sig.id
    assert signing.check_signature(event.detail["evidence"], ag.content_hash)
    assert ag.status == "signing" and w.a.deployment.status == "agreement"
    assert audit.verify() == [] and service.verify_signatures() == []


def test_typed_name_must_match(w):
    ag = _agreement(w)
    with pytest.raises(errors.Invalid, match="Type your full name"):
        service.sign(ag, w.user("a", "sle"), version=1, seen_hash=ag.content_hash,
                     typed_name="Someone Else")


def test_a_signature_only_applies_to_the_hash_shown(w):
    ag = _agreement(w)
    with pytest.raises(errors.Conflict):
        service.sign(ag, w.user("a", "sle"), version=1, seen_hash="0" * 64,
                     typed_name="Alpha Leader")
    with pytest.raises(errors.Conflict):
        service.sign(ag, w.user("a", "sle"), version=2, seen_hash=ag.content_hash,
                     typed_name="Alpha Leader")


def test_non_signatories_cannot_sign(w):
    ag = _agreement(w)
    for user in (w.user("a", "admin"), w.user("a", "other_head"), w.user("b", "sle")):
        with pytest.raises(errors.Forbidden):
            service.sign(ag, user, version=1, seen_hash=ag.content_hash, typed_name=user.name)


def test_signing_twice_is_refused(w, db):
    ag = _agreement(w)
    fa.sign(ag, w.user("a", "sle"))
    with pytest.raises(errors.NotNow):
        fa.sign(ag, w.user("a", "sle"))
    assert _count(Signature) == 1


def test_the_unique_slot_constraint_holds_even_if_the_check_is_bypassed(w, db):
    ag = _agreement(w)
    fa.sign(ag, w.user("a", "sle"))
    db.session.commit()
    from sqlalchemy.exc import IntegrityError

    db.session.add(Signature(agreement_id=ag.id, user_id=w.user("a", "sle").id,
                             capacity="Other", party="leader", typed_name="x",
                             consent_text="x", content_hash=ag.content_hash))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_the_last_signature_makes_the_deployment_active(w, db):
    ag = _agreement(w)
    for user in fa.signers(w):
        assert w.a.deployment.status == "agreement"
        fa.sign(ag, user)
    db.session.commit()
    assert ag.status == "signed" and ag.signed_at is not None
    assert w.a.deployment.status == "active" and w.a.deployment.active_at is not None
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-3:] == ["agreement.signed", "agreement.completed", "deployment.active"]
    with pytest.raises(errors.NotNow):  # closed for signature now
        fa.sign(ag, w.user("a", "sle"))


# ------------------------------------------------------------------------------- editing


def test_editing_a_draft_with_no_signatures_changes_it_in_place(w, db):
    ag = _agreement(w)
    old = ag.content_hash
    now = service.edit(ag, w.user("a", "admin"), {"terms": "New terms."}, seen_hash=old)
    assert now.id == ag.id and now.version == 1
    assert now.content["terms"] == "New terms." and now.content_hash != old
    assert now.content_hash == signing.content_hash(now.content)
    with pytest.raises(errors.Conflict):  # the editor's view is out of date now
        service.edit(ag, w.user("a", "director"), {"terms": "Other."}, seen_hash=old)


def test_editing_with_dates_stores_iso_text(w):
    ag = _agreement(w)
    now = service.edit(ag, w.user("a", "admin"), {"start_date": date(2027, 1, 4),
                                                  "end_date": date(2027, 3, 1)},
                       seen_hash=ag.content_hash)
    assert now.content["start_date"] == "2027-01-04"
    with pytest.raises(errors.Invalid, match="end date"):
        service.edit(now, w.user("a", "admin"), {"end_date": date(2026, 1, 1)},
                     seen_hash=now.content_hash)
    with pytest.raises(errors.Invalid):
        service.edit(now, w.user("a", "admin"), {"charges": {}}, seen_hash=now.content_hash)


def test_changing_terms_after_a_signature_makes_a_new_version_and_voids(w, db):
    ag = _agreement(w)
    fa.sign(ag, w.user("a", "sle"))
    fa.sign(ag, w.user("a", "headteacher"))
    db.session.commit()
    before = _count(Notification)
    v2 = service.edit(ag, w.user("a", "director"), {"terms": "Changed."},
                      seen_hash=ag.content_hash)
    db.session.commit()
    assert v2.version == 2 and v2.status == "draft" and v2.id != ag.id
    assert v2.verify_token != ag.verify_token
    assert ag.status == "superseded" and ag.content["terms"] != "Changed."
    old = db.session.scalars(select(Signature).where(Signature.agreement_id == ag.id)).all()
    assert len(old) == 2 and all(s.voided_at is not None for s in old)  # kept, voided
    assert [s.signed for s in service.slots(w.a.deployment, v2)] == [False] * 4
    assert _count(Notification) - before == 4  # every signatory told
    # the old version can no longer be signed; the new one can, by the same people again
    with pytest.raises(errors.NotNow):  # superseded: not open
        service.sign(ag, w.user("a", "home_school"), version=1, seen_hash=ag.content_hash,
                     typed_name="Alpha Home Head")
    fa.sign(v2, w.user("a", "sle"))
    assert audit.verify() == [] and service.verify_signatures() == []


def test_an_unchanged_edit_does_nothing(w, db):
    ag = _agreement(w)
    fa.sign(ag, w.user("a", "sle"))
    same = service.edit(ag, w.user("a", "admin"), {"terms": ag.content["terms"]},
                        seen_hash=ag.content_hash)
    assert same.id == ag.id and same.version == 1


# ------------------------------------------------------------------------------- void / decline


def test_voiding_cancels_and_keeps_the_signatures_as_history(w, db):
    ag = _agreement(w)
    fa.sign(ag, w.user("a", "sle"))
    with pytest.raises(errors.Invalid, match="reason"):
        service.void(ag, w.user("a", "admin"), "  ")
    service.void(ag, w.user("a", "admin"), "School closed for works")
    db.session.commit()
    assert ag.status == "void" and ag.void_reason == "School closed for works"
    assert w.a.deployment.status == "cancelled"
    sig = db.session.scalar(select(Signature).where(Signature.agreement_id == ag.id))
    assert sig.voided_at is not None
    with pytest.raises(errors.NotNow):
        service.void(ag, w.user("a", "admin"), "again")
    with pytest.raises(errors.NotNow):
        fa.sign(ag, w.user("a", "director"))


def test_declining_needs_a_reason_and_tells_the_overseers(w, db):
    ag = _agreement(w)
    head = w.user("a", "headteacher")
    with pytest.raises(errors.Invalid, match="reason"):
        service.decline(ag, head, version=1, seen_hash=ag.content_hash, reason=" ")
    sig = service.decline(ag, head, version=1, seen_hash=ag.content_hash,
                          reason="Dates clash with Ofsted")
    db.session.commit()
    assert sig.decision == "declined" and "decline to sign" in sig.consent_text
    admin = w.user("a", "admin")
    assert _count(Notification, Notification.user_id == admin.id,
                  Notification.message.contains("Dates clash")) == 1
    with pytest.raises(errors.NotNow):
        fa.sign(ag, head)
    slot = service.slot_for(w.a.deployment, ag, head)
    assert slot.declined and not slot.signed


# ------------------------------------------------------------------------------- verifying


def _fully_signed(w, db) -> Agreement:
    ag = _agreement(w)
    for user in fa.signers(w):
        fa.sign(ag, user)
    db.session.commit()
    return ag


def test_fingerprint_verification(w, db):
    ag = _agreement(w)
    assert not service.verify_fingerprint(ag, signing.fingerprint(ag.content_hash)).matches
    _fully_signed(w, db)
    ok = service.verify_fingerprint(ag, signing.fingerprint(ag.content_hash).lower())
    assert ok.matches and ok.message.startswith("Yes")
    assert not service.verify_fingerprint(ag, "ab" * 32).matches
    bad = service.verify_fingerprint(ag, "not a fingerprint")
    assert not bad.matches and "64 hexadecimal" in bad.message
    assert service.by_token(ag.verify_token).id == ag.id
    assert service.by_token("x" * 43) is None and service.by_token("") is None


def test_tampering_with_a_signature_row_is_found(w, db):
    _fully_signed(w, db)
    db.session.execute(update(Signature).where(Signature.party == "director")
                       .values(typed_name="Forged Name"))
    db.session.commit()
    assert audit.verify() == []  # the audit chain itself is intact ...
    problems = service.verify_signatures()
    assert len(problems) == 1 and problems[0].startswith(service.SIGNATURE_EDITED)


def test_tampering_with_agreement_content_is_found(w, db):
    ag = _fully_signed(w, db)
    deployment_id, fingerprint = ag.deployment_id, signing.fingerprint(ag.content_hash)
    content = dict(ag.content, terms="Sneaky new terms")
    db.session.execute(update(Agreement).where(Agreement.id == ag.id).values(content=content))
    db.session.commit()
    assert any(p.startswith(service.CONTENT_MISMATCH) for p in service.verify_signatures())
    result = service.verify_fingerprint(service.current(deployment_id), fingerprint)
    assert not result.matches and "terms match their fingerprint: no" in result.message


def test_a_signature_without_its_chained_event_is_found(w, db):
    _fully_signed(w, db)
    db.session.execute(update(Signature).where(Signature.party == "leader")
                       .values(evidence_hash="f" * 64))
    db.session.commit()
    assert any(p.startswith(service.SIGNATURE_EDITED) for p in service.verify_signatures())


def test_tampering_with_chained_evidence_breaks_the_audit_chain(w, db):
    _fully_signed(w, db)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "agreement.signed")
                              .order_by(AuditEvent.id).limit(1))
    detail = dict(event.detail)
    detail["evidence"] = dict(detail["evidence"], ip_address="10.0.0.1")
    db.session.execute(update(AuditEvent).where(AuditEvent.id == event.id)
                       .values(detail=detail))
    db.session.commit()
    assert [f.forgery for f in audit.verify()] == [audit.EVENT_EDITED]


def test_verify_audit_command_covers_signatures(app, w, db):
    _fully_signed(w, db)
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["verify-audit"])
    assert ok.exit_code == 0 and "Audit logs intact" in ok.output, ok.output
    db.session.execute(update(Signature).where(Signature.party == "leader")
                       .values(ip="198.51.100.1"))
    db.session.commit()
    bad = runner.invoke(args=["verify-audit"])
    assert bad.exit_code != 0 and service.SIGNATURE_EDITED in bad.output


def test_rate_card_conversion_matches_the_seeded_cards(db):
    a = factories.alliance("Conv")
    row = factories.rate_card(a)
    assert service.card_from_row(row) == service.charging.sefton_card()
    b = factories.alliance("ConvES", model="east_sussex")
    assert service.card_from_row(factories.rate_card(b)) == service.charging.east_sussex_card()
    assert isinstance(row, RateCard)


# ------------------------------------------------------------------------------- amendments


def _amended(w, extra=4):
    """Side A active on its signed version 1; ``extra`` half days asked for and approved."""
    from portal.domain import plans

    d = w.a.deployment
    factories.advance(d, "active", confirmed_days_ago=3)
    v = plans.request_variation(d, w.a.leader, extra, "Two more visits")
    plans.approve_variation(v, w.user("a", "headteacher"))
    plans.approve_variation(v, w.user("a", "director"))
    from portal.extensions import db

    db.session.commit()
    return d


def test_extra_days_approved_make_a_new_version_every_party_signs_again(w):
    d = _amended(w, extra=4)
    v1 = service.history(d.id)[-1]
    v2 = _agreement(w)
    assert (v1.version, v2.version) == (1, 2)
    assert v2.status == "draft" and v2.content["half_days"] == 12
    assert v1.content["half_days"] == 8
    assert v2.content_hash != v1.content_hash
    assert v2.content["charges"]["commission_cost"] > v1.content["charges"]["commission_cost"]
    assert v2.content["duration"] != v1.content["duration"]
    # the deployment goes on under version 1: active, its days unchanged until all sign
    assert d.status == "active" and d.half_days_agreed == 8
    # version 1 is superseded but keeps its signatures: still readable and verifiable
    assert v1.status == "superseded" and v1.signed_at is not None
    assert all(s.voided_at is None for s in v1.signatures)
    check = service.verify_fingerprint(v1, signing.fingerprint(v1.content_hash))
    assert check.matches and "version 1" in check.message
    assert not service.verify_fingerprint(v2, signing.fingerprint(v2.content_hash)).matches
    assert service.last_signed(d.id).id == v1.id
    assert service.policy.not_signed_note(v1) == ("Signed by every party, and since replaced by "
                                                  "a later version.")
    assert service.policy.not_signed_note(v2).startswith("Not a signed agreement")
    # every party is asked again (the home "waiting for me" twin agrees)
    for user in fa.signers(w):
        assert service.policy.actions(v2, user)["sign"].allowed
    for user in fa.signers(w)[:-1]:
        fa.sign(v2, user)
    assert d.half_days_agreed == 8 and _agreement(w).status == "signing"
    fa.sign(v2, fa.signers(w)[-1])
    v2 = _agreement(w)
    assert v2.status == "signed" and d.half_days_agreed == 12 and d.status == "active"
    assert service.last_signed(d.id).id == v2.id
    assert _count(AuditEvent, AuditEvent.action == "agreement.amendment_signed") == 1
    assert service.verify_signatures() == []


def test_billing_uses_the_signed_days_until_the_amendment_is_signed(w):
    from portal.domain import finance

    d = _amended(w, extra=4)
    invoices = finance.raise_in_advance(d, w.user("a", "admin"))
    school = sum(i.total_pence for i in invoices if i.payer_school_id == w.a.receiving.id)
    v1 = service.history(d.id)[-1]
    assert school == v1.content["charges"]["school_pays"]
    assert school < _agreement(w).content["charges"]["school_pays"]


def test_changing_dates_after_signing_makes_an_amendment(w):
    d = w.a.deployment
    factories.advance(d, "active", confirmed_days_ago=3)
    v1 = _agreement(w)
    new_end = date.fromisoformat(v1.content["end_date"]) - __import__("datetime").timedelta(
        days=7)
    v2 = service.edit(v1, w.user("a", "admin"), {"end_date": new_end},
                      seen_hash=v1.content_hash)
    assert v2.version == 2 and v2.status == "draft" and d.status == "active"
    assert v1.status == "superseded" and all(s.voided_at is None for s in v1.signatures)
    rows = {c.term: (c.before, c.after) for c in service.changes_between(v1, v2)}
    assert set(rows) == {"End date"}
    # void is for an agreement not yet in force: an amendment is not voided
    assert not service.policy.actions(v2, w.user("a", "admin"))["void"].allowed


def test_changes_between_versions_name_days_and_charges(w):
    d = _amended(w, extra=4)
    v2 = _agreement(w)
    v1 = service.previous(v2)
    rows = {c.term: (c.before, c.after) for c in service.changes_between(v1, v2)}
    assert rows["Days"] == ("4 days", "6 days")
    assert "Total cost" in rows and rows["Total cost"][0].startswith("£")
    assert "Start date" not in rows
    assert d.half_days_agreed == 8
