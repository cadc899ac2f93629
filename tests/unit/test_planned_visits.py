"""Visits planned ahead, then logged as delivered (issue 15, item 6).

Before: future visits were refused, so nothing could be planned. Now a visit is planned (date,
half or full day; the school and the leader see it), counts no days until it is logged as
delivered on or after its day, and planned days never exceed the days left."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.domain import errors
from portal.domain import plans as domain
from portal.domain.policy import plans as policy
from portal.extensions import db
from portal.models import AuditEvent, Notification, Visit
from tests.factories import plans as fd

TODAY = date.today()


@pytest.fixture
def setup(world):
    plan, o, a1, a2 = fd.plans_world(world)
    return world, plan, a1


def _plan(w, days_ahead=7, half_days=2, **kw):
    return domain.plan_visit(w.a.deployment, w.a.leader, visit_date=TODAY + timedelta(days_ahead),
                             half_days=half_days, **kw)


def test_a_planned_visit_counts_no_days_and_the_school_is_told(setup):
    w, *_ = setup
    v = _plan(w, notes="Observe Year 4 maths")
    db.session.flush()
    assert v.status == "planned" and w.a.deployment.half_days_delivered == 0
    assert domain.planned_half_days(w.a.deployment) == 2
    head = w.user("a", "headteacher")
    assert db.session.scalar(select(Notification).where(
        Notification.user_id == head.id, Notification.message.contains("a visit is planned")))
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "visit.planned"))


def test_planning_today_or_later_only_and_within_the_time_frame(setup):
    w, *_ = setup
    with pytest.raises(errors.Invalid, match="today or later") as past:
        _plan(w, days_ahead=-1)
    assert past.value.field == "visit_date"
    end = w.a.deployment.request.end_date
    with pytest.raises(errors.Invalid, match="agreed time frame"):
        domain.plan_visit(w.a.deployment, w.a.leader, visit_date=end + timedelta(days=1),
                          half_days=2)
    assert _plan(w, days_ahead=0).visit_date == TODAY  # today is fine


@pytest.mark.parametrize("half_days", [0, 3, -1])
def test_a_visit_is_a_half_or_a_full_day(setup, half_days):
    w, *_ = setup
    with pytest.raises(errors.Invalid) as exc:
        _plan(w, half_days=half_days)
    assert exc.value.field == "half_days"


def test_planned_days_never_exceed_the_days_left(setup):
    w, *_ = setup
    d = w.a.deployment
    d.half_days_agreed = 3
    _plan(w, days_ahead=5)
    with pytest.raises(domain.DaysExceeded, match="half a day left"):
        _plan(w, days_ahead=6)
    _plan(w, days_ahead=6, half_days=1)
    # a visit logged without planning may not take the planned days either
    with pytest.raises(domain.DaysExceeded):
        domain.log_visit(d, w.a.leader, visit_date=TODAY, half_days=1)


def test_one_visit_a_day_planned_or_delivered(setup):
    w, *_ = setup
    _plan(w, days_ahead=3)
    with pytest.raises(errors.Invalid, match="already planned"):
        _plan(w, days_ahead=3, half_days=1)
    domain.log_visit(w.a.deployment, w.a.leader, visit_date=TODAY, half_days=1)
    with pytest.raises(errors.Invalid, match="already logged"):
        _plan(w, days_ahead=0, half_days=1)


def test_delivering_counts_the_days_once_the_day_has_come(setup):
    w, plan, a1 = setup
    v = _plan(w, days_ahead=2)
    with pytest.raises(errors.NotNow, match="from "):
        domain.deliver_visit(v, w.a.leader)
    assert w.a.deployment.half_days_delivered == 0
    domain.deliver_visit(v, w.a.leader, today=v.visit_date, notes="Team-taught",
                         actions=[a1], statuses={a1.id: "on_track"})
    db.session.flush()
    assert v.status == "delivered" and v.delivered_at is not None and v.notes == "Team-taught"
    assert w.a.deployment.half_days_delivered == 2
    assert w.a.deployment.last_day_delivered == v.visit_date
    assert a1.status == "on_track" and [a.id for a in v.actions] == [a1.id]
    with pytest.raises(errors.NotNow, match="already logged"):
        domain.deliver_visit(v, w.a.leader, today=v.visit_date)  # a double click: once
    assert w.a.deployment.half_days_delivered == 2


def test_cancel_frees_the_date_and_a_delivered_visit_cannot_be_cancelled(setup):
    w, *_ = setup
    v = _plan(w, days_ahead=4)
    domain.cancel_visit(v, w.a.leader)
    assert db.session.scalar(select(Visit).where(Visit.status == "planned")) is None
    again = _plan(w, days_ahead=4)
    domain.deliver_visit(again, w.a.leader, today=again.visit_date)
    with pytest.raises(errors.NotNow, match="cannot be cancelled"):
        domain.cancel_visit(again, w.a.leader)


@pytest.mark.parametrize("role", ["headteacher", "home_school", "director", "admin", "board"])
def test_only_the_leader_plans_delivers_or_cancels(setup, role):
    w, *_ = setup
    v = _plan(w, days_ahead=0)
    other = w.user("a", role)
    with pytest.raises(errors.Forbidden):
        domain.plan_visit(w.a.deployment, other, visit_date=TODAY + timedelta(days=1),
                          half_days=2)
    for name, command in (("deliver", domain.deliver_visit), ("cancel", domain.cancel_visit)):
        assert policy.visit_actions(v, other)[name].forbidden
        with pytest.raises(errors.Forbidden):
            command(v, other)
    assert v.status == "planned"


def test_another_leader_cannot_touch_a_visit(setup):
    w, *_ = setup
    v = _plan(w, days_ahead=0)
    with pytest.raises(errors.Forbidden):
        domain.deliver_visit(v, w.b.leader)


def test_the_policy_answers_for_every_state(setup):
    w, *_ = setup
    v = _plan(w, days_ahead=1)
    can = policy.visit_actions(v, w.a.leader, today=TODAY)
    assert not can["deliver"] and not can["deliver"].forbidden and can["cancel"]
    can = policy.visit_actions(v, w.a.leader, today=v.visit_date)
    assert can["deliver"] and can["cancel"]
    assert policy.actions(w.a.deployment, w.a.leader)["plan_visit"]
    assert policy.actions(w.a.deployment, w.user("a", "headteacher"))["plan_visit"].forbidden
