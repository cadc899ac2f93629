"""Delivery rules: versioned plan edits, revisions, first contact, visits and variations."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.domain import plans as domain
from portal.domain import workflow
from portal.extensions import db
from portal.models import Action, AuditEvent, Notification, Outcome, PlanRevision, Variation, Visit
from tests import factories
from tests.factories import agreements as fa
from tests.factories import plans as fd


@pytest.fixture
def setup(world):
    plan, o, a1, a2 = fd.plans_world(world)
    return world, plan, o, a1, a2


def _revisions(plan):
    return db.session.scalars(select(PlanRevision).where(PlanRevision.plan_id == plan.id)
                              .order_by(PlanRevision.revision)).all()


def _actions(name):
    return db.session.scalars(select(AuditEvent.action).where(AuditEvent.action == name)).all()


# ----------------------------------------------------------------------- who may edit


@pytest.mark.parametrize("role", ["headteacher", "home_school", "director", "admin", "board"])
def test_only_the_leader_edits(setup, role):
    w, plan, o, a1, _ = setup
    user = w.user("a", role)
    assert not domain.can_edit(w.a.deployment, user)
    with pytest.raises(domain.NotAllowed) as exc:
        domain.save_row(plan, a1, a1.version, {"owner": "x"}, user)
    assert exc.value.forbidden


def test_another_leader_cannot_edit(setup):
    w, plan, o, a1, _ = setup
    with pytest.raises(domain.NotAllowed) as exc:
        domain.add_row(plan, "action", {"description": "x"}, w.user("b", "sle"))
    assert exc.value.forbidden


def test_commissioning_leader_may_edit(setup):
    w, plan, *_ = setup
    w.a.deployment.commissioning_leader_id = w.user("b", "sle").id
    assert domain.can_edit(w.a.deployment, w.user("b", "sle"))


@pytest.mark.parametrize("status", ["proposed", "agreement", "evaluation", "completed",
                                    "ended_early", "cancelled"])
def test_plan_is_frozen_outside_active(setup, status):
    w, plan, o, a1, _ = setup
    w.a.deployment.status = status
    assert not domain.can_edit(w.a.deployment, w.a.leader)
    with pytest.raises(domain.NotAllowed) as exc:
        domain.save_row(plan, a1, a1.version, {"owner": "x"}, w.a.leader)
    assert not exc.value.forbidden


# --------------------------------------------------------------------- versioned saves


def test_save_records_revision_before_and_after_and_audit(setup):
    w, plan, o, a1, _ = setup
    start = plan.revision
    rev = domain.save_row(plan, a1, a1.version, {"status": "on_track", "owner": "Ms Khan"},
                          w.a.leader)
    db.session.commit()
    assert rev.revision == start + 1 and plan.revision == start + 1
    assert rev.before["status"] == "not_started" and rev.after["status"] == "on_track"
    assert rev.before["owner"] == "Class teacher" and rev.after["owner"] == "Ms Khan"
    assert rev.user_id == w.a.leader.id and rev.entity == "action" and rev.entity_id == a1.id
    assert a1.version == 2
    assert _actions("plan.action.update")


def test_stale_version_is_refused_and_nothing_saved(setup):
    w, plan, o, a1, _ = setup
    domain.save_row(plan, a1, 1, {"description": "First tab's words"}, w.a.leader)
    db.session.commit()
    with pytest.raises(domain.StaleEdit) as exc:
        domain.save_row(plan, a1, 1, {"description": "Second tab's words"}, w.a.leader)
    assert exc.value.current is a1
    db.session.rollback()
    assert db.session.get(Action, a1.id).description == "First tab's words"


def test_saving_on_the_new_version_after_a_conflict_works(setup):
    w, plan, o, a1, _ = setup
    domain.save_row(plan, a1, 1, {"description": "A"}, w.a.leader)
    db.session.commit()
    domain.save_row(plan, a1, 2, {"description": "A and B merged"}, w.a.leader)
    db.session.commit()
    assert a1.description == "A and B merged" and a1.version == 3


def test_unchanged_save_makes_no_revision(setup):
    w, plan, o, a1, _ = setup
    before = plan.revision
    assert domain.save_row(plan, a1, 1, {"description": a1.description}, w.a.leader) is None
    db.session.commit()
    assert plan.revision == before and a1.version == 1


def test_save_of_a_removed_row_is_stale(setup):
    w, plan, *_ = setup
    with pytest.raises(domain.StaleEdit) as exc:
        domain.save_row(plan, None, 1, {"owner": "x"}, w.a.leader)
    assert exc.value.current is None


@pytest.mark.parametrize(("kind", "values", "message"), [
    ("action", {"description": "  "}, "description"),
    ("action", {"status": "finished"}, "status"),
    ("action", {"outcome_id": 999999}, "outcome"),
    ("action", {"colour": "red"}, "unknown"),
    ("outcome", {"text": ""}, "text"),
])
def test_bad_values_are_refused(setup, kind, values, message):
    w, plan, o, a1, _ = setup
    row = a1 if kind == "action" else o
    with pytest.raises(ValueError, match=message):
        domain.save_row(plan, row, row.version, values, w.a.leader)


def test_action_may_link_an_outcome_of_its_plan_only(setup):
    w, plan, o, a1, a2 = setup
    domain.save_row(plan, a2, 1, {"outcome_id": o.id}, w.a.leader)
    assert a2.outcome_id == o.id
    other = fd.outcome(fd.plan_of(w.b.deployment))
    with pytest.raises(ValueError):
        domain.save_row(plan, a2, a2.version, {"outcome_id": other.id}, w.a.leader)


def test_add_appends_and_records(setup):
    w, plan, o, a1, a2 = setup
    row = domain.add_row(plan, "action", {"description": " Book scrutiny ", "status": "on_track"},
                         w.a.leader)
    db.session.commit()
    assert row.position == a2.position + 1 and row.description == "Book scrutiny"
    rev = _revisions(plan)[-1]
    assert rev.before is None and rev.after["description"] == "Book scrutiny"


def test_remove_checks_version_and_keeps_history(setup):
    w, plan, o, a1, _ = setup
    with pytest.raises(domain.StaleEdit):
        domain.remove_row(plan, a1, 7, w.a.leader)
    domain.remove_row(plan, a1, 1, w.a.leader)
    db.session.commit()
    assert db.session.get(Action, a1.id) is None
    rev = _revisions(plan)[-1]
    assert rev.after is None and rev.before["description"] == "Model reasoning talk in Year 4"


def test_removing_an_outcome_unlinks_its_actions(setup):
    w, plan, o, a1, _ = setup
    domain.remove_row(plan, o, 1, w.a.leader)
    db.session.commit()
    assert db.session.get(Outcome, o.id) is None
    assert db.session.get(Action, a1.id).outcome_id is None


def test_move_swaps_neighbours_without_touching_versions(setup):
    w, plan, o, a1, a2 = setup
    domain.move_row(plan, a2, -1, w.a.leader)
    db.session.commit()
    assert [a.id for a in plan.actions] == [a2.id, a1.id]
    assert a1.version == 1 and a2.version == 1  # a concurrent text edit does not conflict
    assert domain.move_row(plan, a2, -1, w.a.leader) is None  # already first
    assert domain.move_row(plan, a1, 1, w.a.leader) is None  # already last
    with pytest.raises(ValueError):
        domain.move_row(plan, a1, 2, w.a.leader)


def test_text_has_its_own_version(setup):
    w, plan, o, a1, _ = setup
    domain.save_row(plan, a1, 1, {"owner": "Y"}, w.a.leader)  # a row edit elsewhere ...
    domain.save_text(plan, 1, "Observe Year 4", "Good start", w.a.leader)  # ... no clash
    db.session.commit()
    assert plan.next_steps == "Observe Year 4" and plan.text_version == 2
    with pytest.raises(domain.StaleEdit):
        domain.save_text(plan, 1, "Stale", "Stale", w.a.leader)
    assert domain.save_text(plan, 2, "Observe Year 4", "Good start", w.a.leader) is None


def test_every_change_gets_a_new_revision_number(setup):
    w, plan, o, a1, a2 = setup
    domain.save_row(plan, a1, 1, {"owner": "1"}, w.a.leader)
    domain.add_row(plan, "outcome", {"text": "Better feedback"}, w.a.leader)
    domain.move_row(plan, a2, -1, w.a.leader)
    domain.save_text(plan, 1, "n", "", w.a.leader)
    domain.remove_row(plan, a1, a1.version, w.a.leader)
    db.session.commit()
    numbers = [r.revision for r in _revisions(plan)]
    assert numbers == list(range(2, 7)) and plan.revision == 6


def test_ensure_plan_is_idempotent_and_created_when_agreement_signed(world):
    d = world.a.deployment
    factories.advance(d, "agreement")
    workflow.transition(d, "active", None)
    db.session.commit()
    plan = fd.plan_of(d)
    assert domain.ensure_plan(d).id == plan.id


# --------------------------------------------------------------------------- contact


def test_first_contact_once_by_the_leader(setup):
    w, *_ = setup
    d = w.a.deployment
    with pytest.raises(domain.NotAllowed) as exc:
        domain.log_first_contact(d, w.user("a", "admin"))
    assert exc.value.forbidden
    domain.log_first_contact(d, w.a.leader, note="Phoned the head")
    db.session.commit()
    assert d.first_contact_at is not None
    assert _actions("deployment.first_contact")
    head = w.user("a", "headteacher")
    assert db.session.scalar(select(Notification).where(Notification.user_id == head.id))
    with pytest.raises(domain.NotAllowed) as exc:
        domain.log_first_contact(d, w.a.leader)
    assert not exc.value.forbidden


@pytest.mark.parametrize(("status", "ok"), [("proposed", False), ("agreement", True),
                                            ("active", True), ("completed", False)])
def test_first_contact_statuses(setup, status, ok):
    w, *_ = setup
    w.a.deployment.status = status
    if ok:
        domain.log_first_contact(w.a.deployment, w.a.leader)
    else:
        with pytest.raises(domain.NotAllowed):
            domain.log_first_contact(w.a.deployment, w.a.leader)


# ---------------------------------------------------------------------------- visits


def test_visit_counts_days_and_links_actions(setup):
    w, plan, o, a1, a2 = setup
    d = w.a.deployment
    v = domain.log_visit(d, w.a.leader, visit_date=date.today(), half_days=2, notes="Observed",
                         actions=[a1])
    db.session.commit()
    assert d.half_days_delivered == 2 and d.last_day_delivered == date.today()
    assert [a.id for a in v.actions] == [a1.id]
    assert _actions("visit.logged")


def test_visits_cannot_go_beyond_agreed_days(setup):
    w, *_ = setup
    d = w.a.deployment
    d.half_days_agreed = 3
    domain.log_visit(d, w.a.leader, visit_date=date.today() - timedelta(days=2), half_days=2)
    with pytest.raises(domain.DaysExceeded):
        domain.log_visit(d, w.a.leader, visit_date=date.today() - timedelta(days=1), half_days=2)
    domain.log_visit(d, w.a.leader, visit_date=date.today() - timedelta(days=1), half_days=1)
    assert d.half_days_delivered == 3 and domain.half_days_left(d) == 0
    with pytest.raises(domain.DaysExceeded):
        domain.log_visit(d, w.a.leader, visit_date=date.today(), half_days=1)


@pytest.mark.parametrize(("kwargs", "error"), [
    ({"half_days": 3}, ValueError),
    ({"half_days": 0}, ValueError),
    ({"visit_date": date.today() + timedelta(days=1)}, ValueError),
])
def test_visit_bad_input(setup, kwargs, error):
    w, *_ = setup
    args = {"visit_date": date.today(), "half_days": 2} | kwargs
    with pytest.raises(error):
        domain.log_visit(w.a.deployment, w.a.leader, **args)
    assert w.a.deployment.half_days_delivered == 0


def test_one_visit_a_day(setup):
    w, *_ = setup
    domain.log_visit(w.a.deployment, w.a.leader, visit_date=date.today(), half_days=1)
    with pytest.raises(ValueError, match="already logged"):
        domain.log_visit(w.a.deployment, w.a.leader, visit_date=date.today(), half_days=1)
    assert w.a.deployment.half_days_delivered == 1


def test_visit_actions_must_belong_to_the_plan(setup):
    w, *_ = setup
    other = fd.action(fd.plan_of(w.b.deployment))
    with pytest.raises(ValueError):
        domain.log_visit(w.a.deployment, w.a.leader, visit_date=date.today(), half_days=1,
                         actions=[other])


@pytest.mark.parametrize("role", ["headteacher", "admin", "director", "home_school"])
def test_only_the_leader_logs_visits(setup, role):
    w, *_ = setup
    with pytest.raises(domain.NotAllowed):
        domain.log_visit(w.a.deployment, w.user("a", role), visit_date=date.today(),
                         half_days=1)
    assert db.session.scalar(select(Visit.id)) is None


def test_no_visits_unless_active(setup):
    w, *_ = setup
    factories.advance(w.a.deployment, "evaluation")
    with pytest.raises(domain.NotAllowed):
        domain.log_visit(w.a.deployment, w.a.leader, visit_date=date.today(), half_days=1)


# ------------------------------------------------------------------------ variations


def _variation(w, half_days=4):
    v = domain.request_variation(w.a.deployment, w.a.leader, half_days, "Two more visits")
    db.session.commit()
    return v


@pytest.mark.parametrize("first", ["headteacher", "director"])
def test_agreed_days_rise_only_when_both_approve(setup, first):
    w, *_ = setup
    d = w.a.deployment
    v = _variation(w)
    second = "director" if first == "headteacher" else "headteacher"
    assert domain.approve_variation(v, w.user("a", first)) is False
    db.session.commit()
    assert d.half_days_agreed == 8 and v.status == "pending"
    assert domain.approve_variation(v, w.user("a", second)) is True
    db.session.commit()
    # approved: the days rise once every party signs the new version of the agreement
    assert d.half_days_agreed == 8 and v.status == "approved"
    fa.sign_all(d)
    assert d.half_days_agreed == 12
    assert v.head_approved_by_id == w.user("a", "headteacher").id
    assert v.director_approved_by_id == w.user("a", "director").id
    assert _actions("variation.approved")
    leader_notes = db.session.scalars(select(Notification.message).where(
        Notification.user_id == w.a.leader.id)).all()
    assert any("extra days approved" in m for m in leader_notes)


def test_same_party_cannot_approve_twice(setup):
    w, *_ = setup
    v = _variation(w)
    domain.approve_variation(v, w.user("a", "headteacher"))
    with pytest.raises(domain.NotAllowed):
        domain.approve_variation(v, w.user("a", "headteacher"))
    assert w.a.deployment.half_days_agreed == 8


@pytest.mark.parametrize("role", ["sle", "admin", "home_school", "board"])
def test_only_head_and_director_approve(setup, role):
    w, *_ = setup
    v = _variation(w)
    with pytest.raises(domain.NotAllowed) as exc:
        domain.approve_variation(v, w.user("a", role))
    assert exc.value.forbidden
    with pytest.raises(domain.NotAllowed):
        domain.decline_variation(v, w.user("a", role), "no")


def test_decline_ends_it_and_days_stay(setup):
    w, *_ = setup
    v = _variation(w)
    domain.approve_variation(v, w.user("a", "headteacher"))
    with pytest.raises(ValueError):
        domain.decline_variation(v, w.user("a", "director"), "  ")
    domain.decline_variation(v, w.user("a", "director"), "Budget is spent")
    db.session.commit()
    assert v.status == "declined" and w.a.deployment.half_days_agreed == 8
    with pytest.raises(domain.NotAllowed):
        domain.approve_variation(v, w.user("a", "director"))
    with pytest.raises(domain.NotAllowed):
        domain.decline_variation(v, w.user("a", "headteacher"), "again")


def test_approved_variation_cannot_be_approved_or_declined_again(setup):
    w, *_ = setup
    v = _variation(w)
    domain.approve_variation(v, w.user("a", "headteacher"))
    domain.approve_variation(v, w.user("a", "director"))
    for role in ("headteacher", "director"):
        with pytest.raises(domain.NotAllowed):
            domain.approve_variation(v, w.user("a", role))
    fa.sign_all(w.a.deployment)
    assert w.a.deployment.half_days_agreed == 12


def test_variation_request_rules(setup):
    w, *_ = setup
    d = w.a.deployment
    with pytest.raises(domain.NotAllowed) as exc:
        domain.request_variation(d, w.user("a", "headteacher"), 2, "x")
    assert exc.value.forbidden
    for bad in (0, domain.MAX_VARIATION_HALF_DAYS + 1):
        with pytest.raises(ValueError):
            domain.request_variation(d, w.a.leader, bad, "x")
    with pytest.raises(ValueError):
        domain.request_variation(d, w.a.leader, 2, "  ")
    domain.request_variation(d, w.user("a", "admin"), 2, "More time")
    with pytest.raises(domain.NotAllowed, match="already"):
        domain.request_variation(d, w.a.leader, 2, "Another")
    assert db.session.scalar(select(Variation.id).where(Variation.status == "pending"))
    factories.advance(d, "completed")
    with pytest.raises(domain.NotAllowed):
        domain.request_variation(d, w.user("a", "director"), 2, "late")


def test_visits_may_use_days_added_by_a_variation(setup):
    w, *_ = setup
    d = w.a.deployment
    d.half_days_agreed = 1
    # the day before today: the factory's agreement was signed two days ago
    domain.log_visit(d, w.a.leader, visit_date=date.today() - timedelta(days=1), half_days=1)
    with pytest.raises(domain.DaysExceeded):
        domain.log_visit(d, w.a.leader, visit_date=date.today(), half_days=2)
    v = _variation(w, 2)
    domain.approve_variation(v, w.user("a", "headteacher"))
    domain.approve_variation(v, w.user("a", "director"))
    fa.sign_all(d)
    domain.log_visit(d, w.a.leader, visit_date=date.today(), half_days=2)
    assert d.half_days_delivered == 3 and d.half_days_agreed == 3


def test_visits_beyond_the_signed_days_wait_for_every_signature(setup):
    from portal.domain.agreements import current
    from portal.domain.policy import plans as plans_policy

    w, *_ = setup
    d = w.a.deployment
    d.half_days_agreed = 1
    domain.log_visit(d, w.a.leader, visit_date=date.today() - timedelta(days=1), half_days=1)
    v = _variation(w, 2)
    domain.approve_variation(v, w.user("a", "headteacher"))
    domain.approve_variation(v, w.user("a", "director"))
    db.session.commit()
    assert current(d.id).version == 2 and d.status == "active"
    with pytest.raises(domain.DaysExceeded, match="sign version 2") as exc:
        domain.log_visit(d, w.a.leader, visit_date=date.today(), half_days=1)
    assert exc.value.field == "half_days"
    with pytest.raises(domain.DaysExceeded, match="sign version 2"):
        domain.plan_visit(d, w.a.leader, visit_date=date.today() + timedelta(days=1),
                          half_days=1)
    note = plans_policy.days_waiting_for_signatures(d)
    assert note and "version 2" in note and "waiting for every party" in note
    assert d.half_days_delivered == 1
    fa.sign_all(d)
    assert plans_policy.days_waiting_for_signatures(d) is None
    domain.log_visit(d, w.a.leader, visit_date=date.today(), half_days=2)
    assert d.half_days_delivered == 3


def test_snapshot_is_json_safe(setup):
    *_, a1, _ = setup
    snap = domain.snapshot(a1)
    assert isinstance(snap["due_date"], str) and set(snap) == set(domain.FIELDS["action"])


def test_visit_updates_the_status_of_linked_actions(setup):
    w, plan, o, a1, a2 = setup
    start = plan.revision
    domain.log_visit(w.a.deployment, w.a.leader, visit_date=date.today(), half_days=1,
                     actions=[a1], statuses={a1.id: "done"})
    db.session.commit()
    assert a1.status == "done" and a1.version == 2 and a2.status == "not_started"
    rev = _revisions(plan)[-1]
    assert rev.revision == start + 1 and rev.after["status"] == "done"


@pytest.mark.parametrize("statuses", [{0: "done"}, {-1: "finished"}])
def test_visit_status_updates_only_for_linked_actions_and_known_statuses(setup, statuses):
    w, plan, o, a1, a2 = setup
    target = a2.id if 0 in statuses else a1.id
    with pytest.raises(ValueError):
        domain.log_visit(w.a.deployment, w.a.leader, visit_date=date.today(), half_days=1,
                         actions=[a1], statuses={target: next(iter(statuses.values()))})
    assert w.a.deployment.half_days_delivered == 0


def test_starting_a_plan_requires_the_leader_of_an_active_deployment(world):
    """``start_plan`` (the route's one command) refuses anyone but the deployment's leader
    (403) and a deployment not active (409), by itself; the start is audited."""
    from portal.domain import errors
    from portal.models import ActionPlan

    d = world.a.deployment  # proposed
    with pytest.raises(errors.Forbidden):
        domain.start_plan(d, world.user("a", "admin"))
    with pytest.raises(errors.NotNow) as early:
        domain.start_plan(d, world.a.leader)
    assert early.value.status == 409
    assert db.session.scalar(select(ActionPlan).where(ActionPlan.deployment_id == d.id)) is None
    factories.advance(d, to="active")
    plan = domain.start_plan(d, world.a.leader, ip="10.0.0.1")
    assert plan.deployment_id == d.id and _actions("plan.started")
    with pytest.raises(errors.Forbidden):
        domain.start_plan(d, world.user("b", "sle"))
