"""Reminders and escalations (issue 17): each kind at its boundaries, once only, per-alliance
settings, digest or immediate emails, other alliances untouched, and a fixed query count."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import event, func, select

from portal.domain import brokering, finance, reminders
from portal.extensions import db
from portal.models import (
    AllianceSettings,
    DeploymentResponse,
    Notification,
    OutboxEmail,
    ReminderSent,
    utcnow,
)
from tests import factories
from tests.factories import plans as fp

LONDON = reminders.LONDON


@pytest.fixture
def world(db):
    """The test world, its requests matched (each has its deployment proposed), so only the
    objects a test makes are due a match reminder."""
    w = factories.world()
    for side in (w.a, w.b):
        side.request.status, side.request.matched_at = "matched", utcnow()
    factories.commit()
    return w


def told(user) -> list[str]:
    return list(db.session.scalars(select(Notification.message).where(
        Notification.user_id == user.id).order_by(Notification.id)))


def reminder_count(kind: str | None = None) -> int:
    stmt = select(func.count()).select_from(ReminderSent)
    if kind:
        stmt = stmt.where(ReminderSent.kind == kind)
    return db.session.scalar(stmt) or 0


def emails_to(user) -> list[OutboxEmail]:
    return list(db.session.scalars(select(OutboxEmail).where(OutboxEmail.to == user.email)))


def london(y, m, d, hh=10, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=LONDON).astimezone(UTC)


def fresh_request(side, *, hours_ago=0):
    r = factories.support_request(side.alliance, side.users["headteacher"], [side.receiving],
                                  hours_ago=hours_ago)
    factories.commit()
    return r


# ------------------------------------------------------------------------- working days


def test_working_days_skip_weekends_christmas_and_the_boxing_day_substitute():
    assert not reminders.is_working_day(date(2026, 12, 25))  # Christmas Day, a Friday
    assert not reminders.is_working_day(date(2026, 12, 26))  # Saturday
    assert not reminders.is_working_day(date(2026, 12, 28))  # Boxing Day (substitute day)
    assert reminders.is_working_day(date(2026, 12, 29))
    # Wed 23 Dec 10:00 + 2 working days: Thu 24, then Tue 29 (25 to 28 are not working days)
    assert reminders.add_working_days(london(2026, 12, 23), 2) == london(2026, 12, 29)
    # Friday + 2 = Tuesday; a Saturday start counts from Monday's start
    assert reminders.add_working_days(london(2026, 12, 4), 2) == london(2026, 12, 8)
    assert reminders.add_working_days(london(2026, 12, 5), 1) == london(2026, 12, 8, 0, 0)
    # the library knows the years ahead too (Easter Monday 2027 is 29 March)
    assert not reminders.is_working_day(date(2027, 3, 29))


# ----------------------------------------------------------------------------- matching


def test_matching_reminder_at_36_hours_to_the_coordinator_and_at_48_escalated(world):
    a = world.a
    r = fresh_request(a)
    t = r.submitted_at
    admin, director = a.users["admin"], a.users["director"]
    assert reminders.remind_matching(t + timedelta(hours=35, minutes=59)) == 0
    assert reminders.remind_matching(t + timedelta(hours=36)) == 1
    assert told(admin)[-1].startswith(f"Reminder: request {r.reference} has waited 36 hours")
    assert reminders.remind_matching(t + timedelta(hours=40)) == 0  # never twice
    assert reminders.remind_matching(t + timedelta(hours=47, minutes=59)) == 0
    assert reminders.remind_matching(t + timedelta(hours=48)) == 2
    assert f"Request {r.reference} is overdue" in told(admin)[-1]
    assert f"Request {r.reference} is overdue" in told(director)[-1]
    assert reminders.remind_matching(t + timedelta(hours=60)) == 0
    # the other alliance heard nothing about it
    assert not any(r.reference in m for m in told(world.b.users["admin"]))
    assert not any(r.reference in m for m in told(world.b.users["director"]))


def test_a_matched_request_is_not_reminded(world):
    a = world.a
    r = fresh_request(a)
    r.status, r.matched_at = "matched", utcnow()
    factories.commit()
    assert reminders.remind_matching(r.submitted_at + timedelta(hours=50)) == 0


def test_per_alliance_settings_move_the_match_thresholds(world):
    a, b = world.a, world.b
    db.session.add(AllianceSettings(alliance_id=a.alliance.id, match_remind_hours=10,
                                    match_overdue_hours=20))
    ra, rb = fresh_request(a), fresh_request(b)
    t = max(ra.submitted_at, rb.submitted_at)
    assert reminders.remind_matching(t + timedelta(hours=10)) == 1  # Alpha only
    assert any(ra.reference in m for m in told(a.users["admin"]))
    assert not any(rb.reference in m for m in told(b.users["admin"]))
    assert reminders.remind_matching(t + timedelta(hours=20)) == 2  # Alpha escalates
    assert reminders.remind_matching(t + timedelta(hours=36)) == 1  # Beta on the defaults


# ---------------------------------------------------------------- confirmation and release


def test_unanswered_proposal_after_two_working_days_then_the_coordinator_after_four(world):
    a = world.a
    d = a.deployment
    d.proposed_at = london(2026, 12, 23)  # Wednesday before Christmas
    world.b.deployment.proposed_at = london(2027, 6, 1)  # not due in this test
    # the home school has already released: only the headteacher and the leader are awaited
    brokering.respond(d, a.users["home_school"], "accepted")
    factories.commit()
    assert reminders.remind_responses(london(2026, 12, 28, 23, 59)) == 0
    assert reminders.remind_responses(london(2026, 12, 29, 9, 59)) == 0
    assert reminders.remind_responses(london(2026, 12, 29)) == 2
    assert "waiting for your answer" in told(a.users["headteacher"])[-1]
    assert "waiting for your answer" in told(a.leader)[-1]
    assert not any(d.reference in m for m in told(a.users["home_school"])
                   if "Reminder" in m)
    assert reminders.remind_responses(london(2026, 12, 30)) == 0
    # 4 working days: Thu 24, Tue 29, Wed 30, Thu 31
    assert reminders.remind_responses(london(2026, 12, 31, 9, 59)) == 0
    assert reminders.remind_responses(london(2026, 12, 31)) == 1
    assert "4 working days" in told(a.users["admin"])[-1]
    assert not any(d.reference in m for m in told(world.b.users["admin"]))


def test_a_party_that_answered_is_not_reminded(world):
    a = world.a
    d = a.deployment
    d.proposed_at = london(2026, 12, 1)
    world.b.deployment.proposed_at = london(2027, 6, 1)  # not due in this test
    for who in (a.users["home_school"], a.users["headteacher"], a.leader):
        brokering.respond(d, who, "accepted")
    factories.commit()
    assert d.status == "agreement"
    assert db.session.scalar(select(func.count()).select_from(DeploymentResponse)) == 3
    assert reminders.remind_responses(london(2026, 12, 10)) == 0


# ------------------------------------------------------------------------- signatures


def _agreement_of(d):
    from portal.domain import agreements

    return agreements.current(d.id)


def test_agreement_unsigned_reminds_each_awaited_signatory_every_three_days(world):
    a = world.a
    d = factories.advance(a.deployment, "agreement")
    factories.commit()
    ag = _agreement_of(d)
    t = ag.created_at
    signatories = [a.leader, a.users["home_school"], a.users["director"],
                   a.users["headteacher"]]
    assert reminders.remind_signatures(t + timedelta(days=3) - timedelta(seconds=1)) == 0
    assert reminders.remind_signatures(t + timedelta(days=3)) == 4
    for u in signatories:
        assert "waiting for your signature" in told(u)[-1]
    assert reminders.remind_signatures(t + timedelta(days=5)) == 0
    # the leader signs; at day 6 the other three are reminded again
    from tests.factories.agreements import sign

    sign(ag, a.leader)
    factories.commit()
    assert reminders.remind_signatures(t + timedelta(days=6)) == 3
    assert reminders.remind_signatures(t + timedelta(days=13, hours=23)) == 3  # day 12 step
    assert reminders.remind_signatures(t + timedelta(days=14)) == 1  # the co-ordinator
    assert "still unsigned after 14 days" in told(a.users["admin"])[-1]
    assert reminders.remind_signatures(t + timedelta(days=14, hours=1)) == 0


# ----------------------------------------------------------------------- first contact


def test_first_contact_day_5_to_the_leader_day_7_with_the_director(world):
    a = world.a
    d = factories.advance(a.deployment, "agreement")
    factories.commit()
    t = d.confirmed_at
    assert reminders.remind_first_contact(t + timedelta(days=5) - timedelta(minutes=1)) == 0
    assert reminders.remind_first_contact(t + timedelta(days=5)) == 1
    assert "log first contact" in told(a.leader)[-1]
    assert reminders.remind_first_contact(t + timedelta(days=6)) == 0
    assert reminders.remind_first_contact(t + timedelta(days=7)) == 2
    assert "First contact" in told(a.users["director"])[-1]
    assert "overdue" in told(a.leader)[-1]


def test_first_contact_escalates_to_the_commissioner_instead_of_the_director(world):
    a = world.a
    nle = factories.leader(a.alliance, a.other, designation="nle", name="Alpha NLE")
    d = factories.advance(a.deployment, "agreement")
    d.commissioning_leader_id = nle.id
    factories.commit()
    assert reminders.remind_first_contact(d.confirmed_at + timedelta(days=7)) >= 2
    assert any("First contact" in m for m in told(nle))
    assert not any("First contact" in m for m in told(a.users["director"]))


def test_first_contact_logged_means_no_reminder(world):
    d = factories.advance(world.a.deployment, "agreement", first_contact_days_ago=0)
    factories.commit()
    assert reminders.remind_first_contact(d.confirmed_at + timedelta(days=8)) == 0


# ------------------------------------------------------------------------ plan actions


def test_plan_actions_due_tomorrow_or_overdue_in_one_message_a_day(world):
    a = world.a
    d = factories.advance(a.deployment, "active")
    plan = fp.plan_of(d)
    now = london(2026, 12, 2, 8)
    fp.action(plan, "Tomorrow's action", due=date(2026, 12, 3))
    fp.action(plan, "Late action", due=date(2026, 11, 20))
    fp.action(plan, "Done action", due=date(2026, 11, 20), status="done")
    fp.action(plan, "Later action", due=date(2026, 12, 10))
    factories.commit()
    assert reminders.remind_plan_actions(now) == 1
    msg = told(a.leader)[-1]
    assert msg.startswith("2 plan actions are due tomorrow or overdue: ")
    assert "Tomorrow's action (due tomorrow)" in msg
    assert "Late action (overdue since 20 Nov 2026)" in msg
    assert "Done action" not in msg and "Later action" not in msg
    assert reminders.remind_plan_actions(now + timedelta(hours=10)) == 0  # same day
    assert reminders.remind_plan_actions(now + timedelta(days=1)) == 1  # the next day


# ------------------------------------------------------------------------- evaluations


def test_no_final_evaluation_ten_days_after_the_agreed_days_were_used(world):
    a = world.a
    d = factories.advance(a.deployment, "active", delivered=8)
    factories.commit()
    assert d.half_days_delivered >= d.half_days_agreed
    last = d.last_day_delivered
    day_10 = reminders.start_of(last + timedelta(days=10))
    assert reminders.remind_evaluations(day_10 - timedelta(minutes=1)) == 0
    assert reminders.remind_evaluations(day_10) == 1
    assert "write the final evaluation" in told(a.leader)[-1]
    assert reminders.remind_evaluations(day_10 + timedelta(days=1)) == 0


def test_school_sign_off_pending_ten_days_to_the_headteacher_then_qa_to_the_director(world):
    a = world.a
    d = factories.advance(a.deployment, "evaluation", delivered=8)
    from portal.domain import evaluations

    evaluations.forward(d, a.users["admin"])
    factories.commit()
    own = evaluations.school_evaluation(d, a.receiving.id)
    t = own.created_at
    assert reminders.remind_evaluations(t + timedelta(days=10) - timedelta(seconds=1)) == 0
    assert reminders.remind_evaluations(t + timedelta(days=10)) == 1
    assert "waiting for your sign-off" in told(a.users["headteacher"])[-1]
    evaluations.sign_off_school(
        d, a.users["headteacher"],
        ratings={o.id: evaluations.Rating(3, "") for o in evaluations.outcomes_for(d)},
        support_quality=4, value_for_money=4, would_use_again=True, summary="Good.")
    factories.commit()
    signed_at = evaluations.school_evaluation(d, a.receiving.id).submitted_at
    assert reminders.remind_evaluations(signed_at + timedelta(days=9)) == 0
    assert reminders.remind_evaluations(signed_at + timedelta(days=10)) == 1
    assert "final quality-assurance sign-off" in told(a.users["director"])[-1]


# ---------------------------------------------------------------------------- invoices


def _sent_invoice(side):
    d = factories.priced_deployment(side, status="completed")
    inv = finance.charge_invoices(d.id)[0]
    if inv.status == "draft":
        finance.mark_sent(inv, side.users["admin"])
    factories.commit()
    return inv


def test_invoice_reminders_on_the_due_date_and_14_and_28_days_after(world):
    a = world.a
    inv = _sent_invoice(a)
    payer = a.users["headteacher"] if inv.payer == "school" else None
    due = inv.due_on
    assert due == inv.issued_on + timedelta(days=30)
    on = datetime.combine(due, datetime.min.time(), tzinfo=LONDON)
    assert reminders.remind_invoices(on - timedelta(minutes=1)) == 0
    assert reminders.remind_invoices(on + timedelta(hours=9)) >= 2  # payer(s) + co-ordinator
    assert f"Invoice {inv.number} is due for payment today" in told(a.users["admin"])[-1]
    if payer is not None:
        assert f"Invoice {inv.number}" in told(payer)[-1]
    assert reminders.remind_invoices(on + timedelta(days=13)) == 0
    assert reminders.remind_invoices(on + timedelta(days=14)) >= 2
    assert "is overdue" in told(a.users["admin"])[-1]
    assert reminders.remind_invoices(on + timedelta(days=28)) >= 2
    assert reminders.remind_invoices(on + timedelta(days=60)) == 0
    assert not any(inv.number in m for m in told(world.b.users["admin"]))


def test_payment_terms_per_alliance_and_overdue_status(world, monkeypatch):
    a = world.a
    db.session.add(AllianceSettings(alliance_id=a.alliance.id, payment_terms_days=14))
    inv = _sent_invoice(a)
    assert inv.due_on == inv.issued_on + timedelta(days=14)
    assert inv.status_label != "Overdue"
    monkeypatch.setattr("portal.formatting.london_today",
                        lambda: inv.due_on + timedelta(days=1))
    assert inv.is_overdue and inv.status_label == "Overdue"


# ------------------------------------------------------------------ digest or immediate


def test_a_digest_user_gets_the_notification_but_no_email_until_the_digest(world):
    a = world.a
    admin = a.users["admin"]
    admin.daily_digest = True
    r = fresh_request(a)
    before_admin, before_director = len(emails_to(admin)), len(emails_to(a.users["director"]))
    now = r.submitted_at + timedelta(hours=48)
    assert reminders.remind_matching(now) == 2
    assert "is overdue" in told(admin)[-1]
    assert len(emails_to(admin)) == before_admin  # digest: no email yet
    assert len(emails_to(a.users["director"])) == before_director + 1  # immediate
    seven = datetime.combine(reminders.london_day(now), time(7), tzinfo=LONDON)
    if seven <= now:
        seven += timedelta(days=1)
    morning = seven - timedelta(hours=7)
    assert reminders.send_digests(seven - timedelta(minutes=1)) == 0  # before 07:00
    assert reminders.send_digests(seven) == 1
    digest = emails_to(admin)[-1]
    assert digest.subject.startswith("Your School Support Portal digest for ")
    assert f"Request {r.reference} is overdue" in digest.body
    assert reminders.send_digests(morning + timedelta(hours=9)) == 0  # once a day
    assert reminders.send_digests(morning + timedelta(days=1, hours=8)) == 0  # nothing new


def test_sweep_all_runs_every_kind_and_reports_counts(world):
    r = fresh_request(world.a)
    counts = reminders.sweep_all(r.submitted_at + timedelta(hours=36))
    assert set(counts) == set(reminders.SWEEPS)
    assert counts["matching"] == 1
    assert reminders.sweep_all(r.submitted_at + timedelta(hours=36))["matching"] == 0
    with pytest.raises(ValueError):
        reminders.sweep_all(datetime(2026, 12, 2))  # naive


# ------------------------------------------------------------------------- query count


class Counter:
    def __init__(self):
        self.n = 0

    def __call__(self, *_args, **_kw):
        self.n += 1


def _count(fn) -> int:
    c = Counter()
    event.listen(db.engine, "before_cursor_execute", c)
    try:
        fn()
        db.session.flush()
    finally:
        event.remove(db.engine, "before_cursor_execute", c)
    return c.n


def _requests(side, n):
    for _ in range(n):
        factories.support_request(side.alliance, side.users["headteacher"], [side.receiving],
                                  hours_ago=50)
    factories.commit()


def _proposals(side, n):
    for _ in range(n):
        r = factories.support_request(side.alliance, side.users["headteacher"],
                                      [side.receiving], hours_ago=300)
        d = factories.deployment(r, side.leader)
        d.proposed_at = utcnow() - timedelta(days=20)
    factories.commit()


def _agreements(side, n):
    for _ in range(n):
        r = factories.support_request(side.alliance, side.users["headteacher"],
                                      [side.receiving], hours_ago=300)
        factories.advance(factories.deployment(r, side.leader), "agreement")
    factories.commit()


def _actions(side, n):
    if side.deployment.status == "proposed":
        factories.advance(side.deployment, "active")
    plan = fp.plan_of(side.deployment)
    for i in range(n):  # each leader gets one message a day: more leaders, more messages
        r = factories.support_request(side.alliance, side.users["headteacher"],
                                      [side.receiving], hours_ago=300)
        other = factories.leader(side.alliance, side.home, name=f"Leader {i} {n}")
        d = factories.advance(factories.deployment(r, other), "active")
        fp.action(fp.plan_of(d), "Late action", due=date(2026, 11, 1))
    fp.action(plan, "Late action", due=date(2026, 11, 1))
    factories.commit()


def _invoices(side, n):
    from portal.models import Invoice

    base = db.session.scalar(select(func.count()).select_from(Invoice)) or 0
    for i in range(n):
        db.session.add(Invoice(number=f"INV-Q-{base + i}", alliance_id=side.alliance.id,
                               deployment_id=side.deployment.id, payer="school",
                               payer_school_id=side.receiving.id, status="sent",
                               issued_on=date(2026, 10, 1), due_on=date(2026, 10, 31),
                               total_pence=10_000, sequence=base + i + 1, academic_year=2026))
    factories.commit()


@pytest.mark.parametrize("build,sweep", [
    (_actions, reminders.remind_plan_actions),
    (_invoices, reminders.remind_invoices),
    (_requests, reminders.remind_matching),
    (_proposals, reminders.remind_responses),
    (_agreements, reminders.remind_signatures),
    (_agreements, reminders.remind_first_contact),
])
def test_a_sweep_query_count_does_not_grow_with_the_objects(world, build, sweep):
    now = utcnow() + timedelta(days=30)
    counts = []
    for n in (3, 30):
        db.session.execute(ReminderSent.__table__.delete())
        factories.commit()
        build(world.a, n if not counts else n - 3)
        db.session.expire_all()
        issued: list[int] = []
        counts.append(_count(lambda out=issued: out.append(sweep(now))))
        assert issued[0] >= n  # every object was reminded about
    assert counts[0] == counts[1], counts
