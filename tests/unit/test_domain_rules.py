"""Issue 14, "one rule, one place": rules a route used to hold alone, now enforced by the domain
command itself, so the CLI or any future API cannot break them. Each test calls the domain
directly (no route, no form) and is refused."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from portal.domain import errors, finance, profiles, workflow
from portal.extensions import db
from portal.models import Invoice, RateCard
from tests.factories import finance as ff

# ------------------------------------------------------------------ invoices in advance


@pytest.mark.parametrize("status", ["proposed", "completed"])
def test_invoices_in_advance_need_a_confirmed_open_deployment(world, status):
    admin = world.user("a", "admin")
    if status == "proposed":
        d = world.a.deployment
        ff.rate_card(world.a.alliance)
        assert d.status == "proposed"
    else:
        d = ff.priced_deployment(world.a, status="evaluation")
        workflow.transition(d, "completed", world.user("a", "director"))
        db.session.flush()
        db.session.query(Invoice).filter_by(deployment_id=d.id).delete()
    with pytest.raises(errors.NotNow, match="only once the proposal is confirmed"):
        finance.raise_in_advance(d, admin)
    assert db.session.query(Invoice).filter_by(deployment_id=d.id).count() == 0


def test_invoices_in_advance_are_raised_for_a_live_deployment(world):
    d = ff.priced_deployment(world.a, half_days=8, delivered=0, status="active")
    created = finance.raise_in_advance(d, world.user("a", "admin"))
    assert created and all(inv.deployment_id == d.id for inv in created)


# ------------------------------------------------------------------ rate cards


def _amounts(card: RateCard) -> dict[str, int]:
    return {c.key: getattr(card, c.key) for c in RateCard.__table__.columns
            if c.key.endswith(("_pence", "_bp", "_per_year", "_hours"))}


def test_a_rate_card_cannot_start_in_the_past(world):
    old = ff.rate_card(world.a.alliance, "sefton")
    with pytest.raises(errors.Invalid, match="today or later") as caught:
        finance.new_rate_card(world.a.alliance.id, world.user("a", "admin"),
                                effective_from=date.today() - timedelta(days=1), **_amounts(old))
    assert caught.value.field == "effective_from"
    assert db.session.query(RateCard).count() == 1


def test_a_rate_card_may_start_today(world):
    old = ff.rate_card(world.a.alliance, "sefton")
    new = finance.new_rate_card(world.a.alliance.id, world.user("a", "admin"),
                                  effective_from=date.today(), **_amounts(old))
    assert new.effective_from == date.today()


# ------------------------------------------------------------------ payments


@pytest.fixture
def sent_invoice(world):
    d = ff.priced_deployment(world.a, half_days=8)
    workflow.transition(d, "completed", world.user("a", "director"))
    workflow.commit_or_conflict()
    inv = db.session.query(Invoice).filter_by(deployment_id=d.id, payer="school").first()
    finance.mark_sent(inv, world.user("a", "admin"))
    db.session.commit()
    return inv


def test_a_payment_cannot_be_received_in_the_future(world, sent_invoice):
    with pytest.raises(errors.Invalid, match="cannot be in the future") as caught:
        finance.record_payment(sent_invoice, 1_000, world.user("a", "admin"),
                                 received_on=date.today() + timedelta(days=1))
    assert caught.value.field == "received_on"
    assert sent_invoice.paid_pence == 0 and not sent_invoice.payments


def test_a_payment_received_today_is_recorded(world, sent_invoice):
    finance.record_payment(sent_invoice, 1_000, world.user("a", "admin"),
                             received_on=date.today())
    assert sent_invoice.paid_pence == 1_000


# ------------------------------------------------------------------ directory profile


def _save(world, **days):
    leader = world.a.leader
    fields = {"autumn_days": 5, "spring_days": 4, "summer_days": 3, **days}
    return profiles.save_profile(leader, leader.profile, bio="Maths lead", phases=["primary"],
                                 standards=["TS2"], specialisms=[], accepting=True, **fields)


def test_a_profile_keeps_its_capacity_the_sum_of_its_terms(world):
    profile = _save(world)
    assert (profile.autumn_days, profile.spring_days, profile.summer_days) == (5, 4, 3)
    assert profile.capacity_days == 12


@pytest.mark.parametrize(("field", "value"), [
    ("autumn_days", -1), ("spring_days", 66), ("summer_days", None), ("autumn_days", True)])
def test_a_profile_refuses_days_matching_cannot_use(world, field, value):
    before = world.a.leader.profile.capacity_days
    with pytest.raises(errors.Invalid, match="from 0 to 65") as caught:
        _save(world, **{field: value})
    assert caught.value.field == field
    assert world.a.leader.profile.capacity_days == before


def test_only_the_leader_saves_their_own_profile(world):
    with pytest.raises(errors.Forbidden):
        profiles.save_profile(world.user("a", "admin"), world.a.leader.profile, bio="",
                              phases=[], standards=[], specialisms=[], accepting=False,
                              autumn_days=1, spring_days=1, summer_days=1)


# ------------------------------------------------------------------ credit notes (issue 15, item 9)


def _advance_drafts(world):
    admin = world.user("a", "admin")
    d = ff.priced_deployment(world.a, model="east_sussex", designation="sle", half_days=12,
                             delivered=0, status="active", targeted=True)
    return admin, d, {i.payer: i for i in finance.raise_invoices(d, admin, half_days=12)}


def test_no_credit_note_against_a_draft_invoice(world):
    admin, _d, raised = _advance_drafts(world)
    draft = raised["school"]
    assert draft.status == "draft"
    with pytest.raises(errors.NotNow, match="draft"):
        finance.credit_note(draft, 10_000, admin, today=date.today(), reason="Fewer days")
    assert (draft.credited_pence, draft.status) == (0, "draft")
    assert db.session.query(Invoice).filter_by(credits_invoice_id=draft.id).count() == 0


def test_a_credit_note_reduces_a_sent_invoice(world):
    admin, _d, raised = _advance_drafts(world)
    inv = raised["school"]
    finance.mark_sent(inv, admin)
    cn = finance.credit_note(inv, 10_000, admin, today=date.today(), reason="Fewer days")
    assert cn.is_credit and cn.total_pence == 10_000 and cn.credits_invoice_id == inv.id
    assert inv.net_pence == inv.total_pence - 10_000


def test_an_early_end_amends_unsent_drafts_instead_of_crediting_them(world):
    admin, d, raised = _advance_drafts(world)
    sent = raised["school"]
    finance.mark_sent(sent, admin)
    db.session.commit()
    d.half_days_delivered = 4
    d.last_day_delivered = date(2026, 11, 20)
    workflow.transition(d, "ended_early", admin, reason="The system leader is ill")
    workflow.commit_or_conflict()
    credits = db.session.query(Invoice).filter_by(deployment_id=d.id, status="credit").all()
    assert [c.credits_invoice_id for c in credits] == [sent.id]  # only the sent one
    for payer in ("board", "teaching_school"):
        draft = raised[payer]
        db.session.refresh(draft)
        assert draft.status == "draft" and draft.credited_pence == 0
        assert draft.total_pence == sum(line.amount_pence for line in draft.lines)
    # the delivered third of each: Board £1,200.00 -> £400.00, supply cover £900.00 -> £300.00
    assert (raised["board"].total_pence, raised["teaching_school"].total_pence) == (
        40_000, 30_000)


def test_an_early_end_with_nothing_delivered_voids_unsent_drafts(world):
    admin, d, raised = _advance_drafts(world)
    d.half_days_delivered = 0
    workflow.transition(d, "ended_early", admin, reason="The school withdrew")
    workflow.commit_or_conflict()
    assert db.session.query(Invoice).filter_by(deployment_id=d.id, status="credit").count() == 0
    for inv in raised.values():
        db.session.refresh(inv)
        assert (inv.status, inv.total_pence, inv.net_pence) == ("void", 0, 0)
