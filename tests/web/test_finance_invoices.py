"""Invoicing against the database: raising on completion, early-end settlement, credit notes,
payments, allowances, rate-card history, and gapless numbering under concurrency."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal import demo
from portal.domain import charging, finance, workflow
from portal.extensions import db
from portal.models import Alliance, AllowanceUse, Invoice, RateCard
from portal.transactions import immediate

from .. import factories
from ..factories import finance as ff


def _by_payer(invoices):
    out: dict[str, list[Invoice]] = {}
    for inv in invoices:
        out.setdefault(inv.payer, []).append(inv)
    return out


def _complete(d, actor):
    workflow.transition(d, "completed", actor)
    workflow.commit_or_conflict()
    return db.session.scalars(
        select(Invoice).where(Invoice.deployment_id == d.id).order_by(Invoice.sequence)).all()


def _end_early(d, actor, delivered, last_day=date(2026, 11, 20)):
    d.half_days_delivered = delivered
    d.last_day_delivered = last_day
    workflow.transition(d, "ended_early", actor, reason="The system leader is ill")
    workflow.commit_or_conflict()
    return db.session.scalars(
        select(Invoice).where(Invoice.deployment_id == d.id).order_by(Invoice.sequence)).all()


# ------------------------------------------------------------------ worked examples from the brief


def test_sefton_lle_four_days_school_pays_1980_on_completion(world):
    d = ff.priced_deployment(world.a, model="sefton", designation="lle", half_days=8)
    invoices = _complete(d, world.user("a", "director"))
    by = _by_payer(invoices)
    assert set(by) == {"school", "teaching_school"}
    school = by["school"][0]
    assert school.total_pence == 198_000
    assert [line.amount_pence for line in school.lines] == [180_000, 18_000]
    assert "10% of the £1,800.00" in school.lines[1].description
    assert school.payer_school_id == world.a.receiving.id
    assert school.payee_school_id is None  # to the Teaching School
    cover = by["teaching_school"][0]
    assert cover.total_pence == 180_000 and cover.payee_school_id == world.a.home.id
    assert school.status == "draft"
    assert school.due_on == school.issued_on + timedelta(days=30)
    assert school.academic_year == charging.academic_year(school.issued_on)
    a = world.a.alliance.id
    assert [i.number for i in invoices] == [f"INV-{a}-00001", f"INV-{a}-00002"]


def test_east_sussex_targeted_six_days(world):
    d = ff.priced_deployment(world.a, model="east_sussex", designation="sle", half_days=12,
                             targeted=True)
    by = _by_payer(_complete(d, world.user("a", "director")))
    assert by["school"][0].total_pence == 90_000
    board = by["board"][0]
    assert board.total_pence == 120_000
    assert board.payer_board_id == world.a.request.board_id
    assert board.payee_school_id == world.a.home.id
    # the home school receives £2,100: the Board's grant plus what the school paid, passed on
    home = sum(i.total_pence for i in by["board"] + by["teaching_school"])
    assert home == 210_000


def test_east_sussex_early_end_after_two_of_six_days_charges_only_what_was_delivered(world):
    d = ff.priced_deployment(world.a, model="east_sussex", designation="sle", half_days=12,
                             delivered=4, status="active", targeted=True)
    by = _by_payer(_end_early(d, world.user("a", "admin"), 4))
    assert by["school"][0].total_pence == 30_000
    assert by["board"][0].total_pence == 40_000
    assert by["teaching_school"][0].total_pence == 30_000
    assert "Ended early after 2 days of 6 days agreed" in by["school"][0].note


def test_early_end_before_any_visit_charges_nothing(world):
    d = ff.priced_deployment(world.a, model="east_sussex", half_days=12, delivered=0,
                             status="active", targeted=True)
    assert _end_early(d, world.user("a", "admin"), 0) == []


def test_early_end_after_invoicing_in_advance_credits_and_refunds_in_shares(world):
    admin = world.user("a", "admin")
    d = ff.priced_deployment(world.a, model="east_sussex", designation="sle", half_days=12,
                             delivered=0, status="active", targeted=True)
    advance = finance.raise_invoices(d, admin, half_days=12)
    by = _by_payer(advance)
    for inv in (by["school"][0], by["board"][0]):
        finance.mark_sent(inv, admin)
        finance.record_payment(inv, inv.total_pence, admin, received_on=date(2026, 10, 1))
    db.session.commit()
    assert by["school"][0].status == "paid"

    after = _end_early(d, admin, 4)
    credits = [i for i in after if i.is_credit]
    assert sorted((c.payer, c.total_pence) for c in credits) == [
        ("board", 80_000), ("school", 60_000)]
    school, board = by["school"][0], by["board"][0]
    db.session.refresh(school)
    db.session.refresh(board)
    assert (school.net_pence, school.refund_due_pence, school.balance_pence) == (30_000, 60_000, 0)
    assert (board.net_pence, board.refund_due_pence) == (40_000, 80_000)
    assert all(c.number.startswith("CN-") and c.credits_invoice_id for c in credits)
    # the unsent supply-cover statement was corrected to the delivered share (no credit note
    # against a draft, issue 15, item 9)
    cover = by["teaching_school"][0]
    db.session.refresh(cover)
    assert (cover.status, cover.total_pence, cover.net_pence) == ("draft", 30_000, 30_000)

    st = finance.statement(d, after)
    assert st.settlement.refunds == {"school": 60_000, "board": 80_000}
    assert st.settlement.still_owed == {"school": 0, "board": 0}

    finance.record_refund(school, admin, on=date(2026, 11, 25))
    db.session.commit()
    assert school.paid_pence == 30_000 and school.refund_due_pence == 0
    assert school.status == "paid"
    with pytest.raises(finance.InvoiceStateError):
        finance.record_refund(school, admin, on=date(2026, 11, 25))


def test_unpaid_advance_invoice_fully_credited_is_void(world):
    admin = world.user("a", "admin")
    d = ff.priced_deployment(world.a, model="sefton", half_days=8, delivered=0, status="active")
    advance = finance.raise_invoices(d, admin, half_days=8)
    db.session.commit()
    _end_early(d, admin, 0)
    for inv in advance:
        db.session.refresh(inv)
        assert inv.status == "void" and inv.net_pence == 0


def test_raising_twice_raises_nothing_more(world):
    d = ff.priced_deployment(world.a, half_days=8)
    _complete(d, world.user("a", "director"))
    assert finance.raise_invoices(d, None) == []
    assert db.session.scalar(select(func.count()).select_from(Invoice)) == 2


def test_several_receiving_schools_share_to_the_penny(world):
    extra = [factories.school(world.a.alliance, "Third Primary"),
             factories.school(world.a.alliance, "Fourth Primary")]
    card = ff.rate_card(world.a.alliance, "sefton", sle_day_pence=35_001)
    d = ff.priced_deployment(world.a, designation="sle", half_days=3, extra_schools=[extra[0]],
                             card=card)
    by = _by_payer(_complete(d, world.user("a", "director")))
    q = charging.quote(finance.to_card(card), "sle", 3, schools=2)
    totals = [i.total_pence for i in by["school"]]
    assert totals == list(q.school_shares)  # exactly what the agreement quoted each school
    assert sum(totals) == q.school_pays
    assert by["teaching_school"][0].total_pence == q.home_school_receives


# ------------------------------------------------------------------ payments


@pytest.fixture
def sent_invoice(world):
    d = ff.priced_deployment(world.a, half_days=8)
    inv = _by_payer(_complete(d, world.user("a", "director")))["school"][0]
    finance.mark_sent(inv, world.user("a", "admin"))
    db.session.commit()
    return inv


def test_partial_payments_then_paid(world, sent_invoice):
    admin = world.user("a", "admin")
    inv = sent_invoice
    finance.record_payment(inv, 100_000, admin, received_on=date.today() - timedelta(days=2))
    assert inv.status == "part_paid" and inv.balance_pence == 98_000
    finance.record_payment(inv, 98_000, admin, received_on=date.today() - timedelta(days=1))
    assert inv.status == "paid" and inv.balance_pence == 0
    db.session.commit()
    with pytest.raises(finance.InvoiceStateError, match="already paid"):
        finance.record_payment(inv, 1, admin, received_on=date.today())


@pytest.mark.parametrize(("amount", "message"), [
    (198_001, "more than the £1,980.00 still due"), (0, "greater than"), (-5, "greater than")])
def test_bad_payments_are_refused(world, sent_invoice, amount, message):
    with pytest.raises(finance.PaymentRefused, match=message):
        finance.record_payment(sent_invoice, amount, world.user("a", "admin"),
                                 received_on=date.today())
    assert sent_invoice.paid_pence == 0


def test_draft_and_credit_notes_take_no_payment(world):
    d = ff.priced_deployment(world.a, half_days=8)
    inv = _by_payer(_complete(d, world.user("a", "director")))["school"][0]
    with pytest.raises(finance.InvoiceStateError, match="Send"):
        finance.record_payment(inv, 1, world.user("a", "admin"), received_on=date.today())
    finance.mark_sent(inv, world.user("a", "admin"))
    with pytest.raises(finance.InvoiceStateError, match="already been sent"):
        finance.mark_sent(inv, world.user("a", "admin"))


def test_database_refuses_payments_beyond_the_total(world, sent_invoice):
    sent_invoice.paid_pence = sent_invoice.total_pence + 1
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


# ------------------------------------------------------------------ allowances


def test_sefton_good_practice_visits_first_free_second_100(world):
    d = ff.priced_deployment(world.a, kind="good_practice_visit", half_days=1)
    assert _complete(d, world.user("a", "director")) == []  # the first of the year is free
    uses = db.session.scalars(select(AllowanceUse)).all()
    assert [(u.seq, u.units, u.charged_pence) for u in uses] == [(1, 1, 0)]

    second = factories.deployment(world.a.request, world.a.leader, half_days=1)
    second.rate_card_id = d.rate_card_id
    factories.advance(second, "evaluation", delivered=1)
    db.session.commit()
    invoices = _complete(second, world.user("a", "director"))
    assert [i.total_pence for i in invoices] == [10_000]
    assert "Good-practice visit" in invoices[0].lines[0].description


def test_consultation_first_hour_free_then_70(world):
    card = finance.to_card(ff.rate_card(world.a.alliance, "sefton"))
    school = world.a.receiving.id
    on = date(2026, 10, 1)
    first = finance.use_allowance(card, school, "consultation", 2, on=on)
    again = finance.use_allowance(card, school, "consultation", 1, on=on)
    next_year = finance.use_allowance(card, school, "consultation", 1, on=date(2027, 9, 1))
    assert (first.charged_pence, again.charged_pence, next_year.charged_pence) == (7_000, 7_000, 0)
    assert (first.seq, again.seq, next_year.seq) == (1, 2, 1)


def test_two_uses_cannot_take_the_same_free_place(world):
    school = world.a.receiving.id
    db.session.add(AllowanceUse(school_id=school, academic_year=2026, kind="good_practice_visit",
                                units=1, seq=1))
    db.session.commit()
    db.session.add(AllowanceUse(school_id=school, academic_year=2026, kind="good_practice_visit",
                                units=1, seq=1))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_allowance_refused_on_a_card_without_visits(world):
    card = finance.to_card(ff.rate_card(world.a.alliance, "east_sussex"))
    with pytest.raises(ValueError, match="does not offer"):
        finance.use_allowance(card, world.a.receiving.id, "good_practice_visit", 1,
                                on=date(2026, 10, 1))


# ------------------------------------------------------------------ rate cards


def test_new_rates_never_change_an_agreed_deployment(world):
    admin = world.user("a", "admin")
    old = ff.rate_card(world.a.alliance, "sefton")
    d = ff.priced_deployment(world.a, designation="lle", half_days=8, card=old)
    new = finance.new_rate_card(
        world.a.alliance.id, admin, effective_from=date.today(),
        **{**{c.key: getattr(old, c.key) for c in RateCard.__table__.columns
              if c.key.endswith(("_pence", "_bp", "_per_year", "_hours"))},
           "lle_day_pence": 47_500})
    db.session.commit()
    assert finance.current_rate_card(world.a.alliance.id).id == new.id
    assert finance.current_rate_card(world.a.alliance.id, date.today() - timedelta(days=1)).id \
        == old.id
    assert db.session.get(RateCard, old.id).lle_day_pence == 45_000
    school = _by_payer(_complete(d, world.user("a", "director")))["school"][0]
    assert school.total_pence == 198_000  # still the old £450


def test_a_deployment_without_a_card_is_pinned_to_the_one_in_force(world):
    old = ff.rate_card(world.a.alliance, "sefton", effective_from=date(2020, 9, 1))
    ff.rate_card(world.a.alliance, "sefton", effective_from=date.today() + timedelta(days=30),
                 lle_day_pence=99_900)
    d = world.a.deployment
    assert d.rate_card_id is None
    assert finance.rate_card_for(d).id == old.id
    assert d.rate_card_id == old.id


def test_invalid_rates_are_refused(world):
    with pytest.raises(ValueError, match="Board grant"):
        finance.new_rate_card(
            world.a.alliance.id, world.user("a", "admin"), effective_from=date.today(),
            nle_day_pence=100, lle_day_pence=100, slt_day_pence=100, sle_day_pence=100,
            non_sle_day_pence=100, brokerage_bp=0, board_grant_day_pence=200,
            board_school_day_pence=0, gpv_half_day_pence=0, gpv_free_per_year=0,
            consult_hour_pence=0, consult_free_hours=0)


def test_demo_rate_cards_match_the_seeds(db):
    for model, expected in (("east_sussex", charging.east_sussex_card()),
                            ("sefton", charging.sefton_card())):
        a = Alliance(id=None, name=model, short_name=model, charging_model=model)
        db.session.add(a)
        db.session.flush()
        card = demo._rate_card(a)
        db.session.add(card)
        db.session.flush()  # column defaults apply
        assert finance.to_card(card) == expected


# ------------------------------------------------------------------ concurrency


def test_invoice_numbers_are_gapless_and_unique_under_concurrency(app, world):
    alliance_id = world.a.alliance.id
    d_id = world.a.deployment.id
    errors: list[BaseException] = []
    start = threading.Barrier(8)
    db.session.commit()  # end this session's read transaction so it sees the threads' work

    def worker():
        try:
            with app.app_context(), immediate():
                start.wait(timeout=10)
                seq = finance.next_number(alliance_id)
                db.session.add(Invoice(
                    number=finance.format_number(alliance_id, seq), sequence=seq,
                    alliance_id=alliance_id, deployment_id=d_id, payer="school",
                    total_pence=100, academic_year=2026))
                db.session.commit()
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    db.session.rollback()
    seqs = db.session.scalars(select(Invoice.sequence).where(
        Invoice.alliance_id == alliance_id).order_by(Invoice.sequence)).all()
    assert seqs == list(range(1, 9))


def test_a_rolled_back_number_is_reused_so_there_are_no_gaps(world):
    a = world.a.alliance.id
    assert finance.next_number(a) == 1
    db.session.rollback()
    assert finance.next_number(a) == 1
    db.session.commit()
    assert finance.next_number(a) == 2
    assert finance.next_number(world.b.alliance.id) == 1  # per alliance


def test_raising_tells_the_coordinator_and_sending_tells_the_payer(world):
    from portal.models import Notification

    d = ff.priced_deployment(world.a, half_days=8)
    before = db.session.scalar(select(func.max(Notification.id)))  # told on the way here
    school = _by_payer(_complete(d, world.user("a", "director")))["school"][0]
    told = db.session.scalars(select(Notification.user_id).where(Notification.id > before)).all()
    assert told == [world.user("a", "admin").id]
    finance.mark_sent(school, world.user("a", "admin"))
    db.session.commit()
    last = db.session.scalars(select(Notification).order_by(Notification.id.desc())).first()
    assert last.user_id == world.user("a", "headteacher").id
    assert school.number in last.message and "£1,980.00" in last.message


def test_completion_without_a_rate_card_raises_nothing_and_still_completes(world, client_for):
    d = factories.advance(world.a.deployment, "evaluation")
    db.session.commit()
    assert _complete(d, world.user("a", "director")) == []
    assert d.status == "completed"
    body = client_for(world.user("a", "admin")).get(f"/deployments/{d.id}").data.decode()
    assert "has no rate card" in body


def test_good_practice_visit_on_a_card_without_visits_is_charged_at_the_day_rate(world):
    d = ff.priced_deployment(world.a, model="east_sussex", designation="sle", half_days=1,
                             kind="good_practice_visit")
    by = _by_payer(_complete(d, world.user("a", "director")))
    assert by["school"][0].total_pence == 17_500
    assert db.session.scalar(select(func.count()).select_from(AllowanceUse)) == 0


def test_completion_in_fewer_days_than_invoiced_ahead_credits_the_rest(world):
    admin = world.user("a", "admin")
    d = ff.priced_deployment(world.a, model="sefton", designation="lle", half_days=8,
                             delivered=6, status="evaluation")
    advance = _by_payer(finance.raise_invoices(d, admin, half_days=8))
    for invoices in advance.values():
        finance.mark_sent(invoices[0], admin)  # a draft is corrected, not credited
    db.session.commit()
    after = _complete(d, world.user("a", "director"))
    credits = {c.payer: c.total_pence for c in after if c.is_credit}
    # 1 day of LLE (£450) and its 10% fee (£45) are credited to the school
    assert credits == {"school": 49_500, "teaching_school": 45_000}
    db.session.refresh(advance["school"][0])
    assert advance["school"][0].net_pence == 148_500
    assert "Completed in 3 days of 4 days agreed" in after[-1].note


def test_a_three_hour_consultation_is_invoiced_for_three_hours(world):
    """Issue 15, item 5: a consultation was invoiced as one hour whatever its length."""
    world.a.request.hours_wanted = 3
    d = ff.priced_deployment(world.a, kind="consultation", half_days=1, status="completed")
    invoices = db.session.scalars(select(Invoice).where(Invoice.deployment_id == d.id)).all()
    school = [i for i in invoices if i.payer == "school"]
    assert len(school) == 1 and school[0].total_pence == 14_000  # 1 free, then 2 x £70
    assert "One-off consultation, 3 hours" in school[0].lines[0].description


def test_every_payer_is_told_of_a_credit_note_and_a_refund(world):
    """Issue 15, item 7: a credit note or a refund changed what a school or a Board pays, and
    nobody who pays was told."""
    from portal.models import Notification

    admin = world.user("a", "admin")
    d = ff.priced_deployment(world.a, model="east_sussex", designation="sle", half_days=12,
                             delivered=0, status="active", targeted=True)
    by = _by_payer(finance.raise_invoices(d, admin, half_days=12))
    school, board = by["school"][0], by["board"][0]
    for inv in (school, board):
        finance.mark_sent(inv, admin)
        finance.record_payment(inv, inv.total_pence, admin, received_on=date(2026, 10, 1))
    db.session.commit()
    _end_early(d, admin, 4)
    head, member = world.user("a", "headteacher"), world.user("a", "board")

    def said(user):
        return [n.message for n in db.session.scalars(
            select(Notification).where(Notification.user_id == user.id))]

    assert any(m.startswith("Credit note CN-") and f"against invoice {school.number}" in m
               and "£600.00 will be refunded" in m for m in said(head))
    assert any(m.startswith("Credit note CN-") and board.number in m for m in said(member))
    db.session.refresh(school)
    finance.record_refund(school, admin, on=date(2026, 11, 25))
    db.session.commit()
    assert any(m == f"Refund of £600.00 made on invoice {school.number}" for m in said(head))
    # the unsent supply-cover statement was credited too, but nobody had it: nobody is told
    cover = by["teaching_school"][0]
    home = world.user("a", "home_school")
    assert not any(cover.number in m for m in said(home))
