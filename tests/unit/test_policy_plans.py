"""The delivery policy: every plan, contact, visit and extra-days decision, and its "waiting for
me" SQL twins (``portal/domain/policy/plans.py``)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from portal.domain import access
from portal.domain import plans as domain
from portal.domain.errors import Forbidden, NotNow
from portal.domain.policy import plans as policy
from portal.extensions import db
from portal.models import Deployment, User, Variation
from tests import factories
from tests.policy import assert_twins_agree


def _deployment(s, to, *, schools=None, first_contact=False, name=""):
    """A deployment of side ``s`` (its own leader) moved on to ``to`` through the workflow."""
    leader = factories.leader(s.alliance, s.home, name=f"{s.alliance.name} Leader {name}")
    r = factories.support_request(s.alliance, s.users["headteacher"], schools or [s.receiving])
    d = factories.deployment(r, leader)
    if to != "proposed":
        factories.advance(d, to, confirmed_days_ago=3,
                          first_contact_days_ago=1 if first_contact else None)
    return d


def _variation(d, by, status="pending", *, head=None, director=None):
    v = Variation(deployment_id=d.id, half_days=2, reason="Two more visits", status=status,
                  requested_by_id=by.id, decline_reason="No" if status == "declined" else "",
                  head_approved_by_id=head.id if head else None,
                  director_approved_by_id=director.id if director else None)
    db.session.add(v)
    db.session.flush()
    return v


@pytest.fixture
def plan_world(db):
    """Deployments at every delivery state in two alliances; variations at every state; one
    deployment commissioned by another leader and one receiving two schools."""
    w = factories.world()
    for s in (w.a, w.b):
        second = factories.school(s.alliance, f"{s.alliance.name} Second Primary")
        s.users["second_head"] = factories.user(s.alliance, "headteacher", second,
                                                name=f"{s.alliance.name} Second Head")
        head, director = s.users["headteacher"], s.users["director"]
        _deployment(s, "agreement", name="waiting")  # confirmed, no first contact
        _deployment(s, "agreement", first_contact=True, name="contacted")
        fresh = _deployment(s, "active", name="fresh")  # active, no contact, no variation
        commissioner = factories.leader(s.alliance, s.home, designation="nle",
                                        name=f"{s.alliance.name} Commissioner")
        s.users["commissioner"] = commissioner
        fresh.commissioning_leader_id = commissioner.id
        asked = _deployment(s, "active", first_contact=True, name="asked")
        _variation(asked, asked.leader)  # nobody has approved yet
        _variation(asked, asked.leader, "declined")
        half = _deployment(s, "active", first_contact=True, name="half")
        _variation(half, half.leader, head=head)  # the head has, the director not yet
        other_half = _deployment(s, "active", first_contact=True, name="other half",
                                 schools=[s.receiving, second])
        _variation(other_half, other_half.leader, director=director)
        done = _deployment(s, "active", first_contact=True, name="done")
        _variation(done, done.leader, "approved", head=head, director=director)
        only_second = _deployment(s, "active", first_contact=True, name="second",
                                  schools=[second])
        _variation(only_second, s.users["admin"])
        late = _deployment(s, "evaluation", first_contact=True, name="late")
        _variation(late, late.leader)  # still pending when the work ended
    factories.commit()
    return w


def _users():
    return db.session.scalars(select(User).order_by(User.id)).all()


def _variations_visible_to(user):
    return Variation.deployment_id.in_(
        select(Deployment.id).where(access.plans_visible_to(user)).correlate(None))


def test_deployment_sql_twins_agree_with_the_python_predicates(plan_world):
    checked = assert_twins_agree(_users(), Deployment, visible=access.deployments_visible_to,
                                 python=policy.waiting, sql=policy.WAITING_SQL)
    assert checked > 50


def test_variation_sql_twins_agree_with_the_python_predicates(plan_world):
    checked = assert_twins_agree(_users(), Variation, visible=_variations_visible_to,
                                 python=policy.waiting_variation,
                                 sql=policy.WAITING_VARIATION_SQL)
    assert checked > 30


def test_the_twins_are_not_empty(plan_world):
    """The agreement test would pass on twins that never select anything: they do."""
    w = plan_world
    director, head = w.user("a", "director"), w.user("a", "headteacher")
    waiting = db.session.scalars(select(Variation).where(
        _variations_visible_to(director), policy.waiting_approve(director))).all()
    assert len(waiting) == 4  # nobody; the head only; the second school's; the late one
    for_head = db.session.scalars(select(Variation).where(
        _variations_visible_to(head), policy.waiting_approve(head))).all()
    assert len(for_head) == 3  # nobody; the director only; the late one (not the second's)
    second = db.session.scalars(select(Variation).where(
        _variations_visible_to(w.user("a", "second_head")),
        policy.waiting_approve(w.user("a", "second_head")))).all()
    assert len(second) == 2
    contact = db.session.scalars(select(Deployment).where(
        access.deployments_visible_to(director), policy.waiting_first_contact(director))).all()
    assert len(contact) == 2  # the agreement and the fresh active one
    commissioner = w.user("a", "commissioner")
    assert [d.id for d in db.session.scalars(select(Deployment).where(
        access.deployments_visible_to(commissioner),
        policy.waiting_first_contact(commissioner)))] == [commissioner_of(w).id]


def commissioner_of(w):
    return db.session.scalar(select(Deployment).where(
        Deployment.commissioning_leader_id == w.user("a", "commissioner").id))


def _side_deployments(w, side="a"):
    s = getattr(w, side)
    return db.session.scalars(select(Deployment).where(Deployment.alliance_id == s.alliance.id)
                              .order_by(Deployment.id)).all()


def test_actions_answer_every_action_with_a_reason(plan_world):
    w = plan_world
    for d in _side_deployments(w):
        variations = db.session.scalars(select(Variation).where(
            Variation.deployment_id == d.id)).all()
        for user in w.a.users.values():
            can = policy.actions(d, user)
            assert set(can) == set(policy.ACTIONS)
            for v in variations:
                vcan = policy.actions(v, user)
                assert set(vcan) == set(policy.VARIATION_ACTIONS)
                can = {**can, **vcan}
            for name, decision in can.items():
                assert decision.allowed or decision.reason, (name, user.role, d.status)


def test_forbidden_for_the_wrong_part_not_now_for_the_wrong_moment(plan_world):
    w = plan_world
    fresh = commissioner_of(w)
    leader, commissioner = fresh.leader, w.user("a", "commissioner")
    for editor in (leader, commissioner):
        can = policy.actions(fresh, editor)
        assert can["edit_plan"] and can["log_visit"] and can["log_first_contact"]
        assert can["request_variation"]
    admin = policy.actions(fresh, w.user("a", "admin"))
    assert admin["edit_plan"].forbidden and admin["log_visit"].forbidden
    assert admin["request_variation"].allowed
    assert policy.actions(fresh, w.user("a", "headteacher"))["request_variation"].forbidden
    late = next(d for d in _side_deployments(w) if d.status == "evaluation")
    can = policy.actions(late, late.leader)
    assert not can["edit_plan"] and not can["edit_plan"].forbidden
    assert not can["log_visit"] and not can["log_visit"].forbidden
    assert not can["log_first_contact"] and "already" in can["log_first_contact"].reason
    asked = next(d for d in _side_deployments(w) if d.leader.name.endswith("asked"))
    assert policy.actions(asked, asked.leader)["request_variation"].reason == \
        domain.ONE_PENDING_VARIATION
    half_v = next(v for v in db.session.scalars(select(Variation))
                  if v.head_approved_by_id and v.status == "pending"
                  and v.deployment.alliance_id == w.a.alliance.id)
    head = policy.actions(half_v, w.user("a", "headteacher"))
    assert not head["approve"] and not head["approve"].forbidden and head["decline"]
    assert policy.actions(half_v, w.user("a", "director"))["approve"]
    assert policy.actions(half_v, w.user("a", "other_head"))["approve"].forbidden
    assert policy.actions(half_v, w.user("a", "admin"))["decline"].forbidden


def test_domain_commands_require_the_policy(plan_world):
    """Each command refuses with the policy's reason: 403 for the wrong user, 409 (not now)
    for the wrong moment; and does it once allowed."""
    w = plan_world
    fresh = commissioner_of(w)
    admin, head, director = w.user("a", "admin"), w.user("a", "headteacher"), \
        w.user("a", "director")

    def refused(call, user, obj, action, status):
        with pytest.raises(domain.NotAllowed) as exc:
            call()
        assert exc.value.status == status
        assert isinstance(exc.value, Forbidden if status == 403 else NotNow)
        assert str(exc.value) == policy.actions(obj, user)[action].reason

    refused(lambda: domain.log_first_contact(fresh, admin), admin, fresh,
            "log_first_contact", 403)
    refused(lambda: domain.log_visit(fresh, admin, visit_date=date.today(), half_days=1),
            admin, fresh, "log_visit", 403)
    plan = domain.ensure_plan(fresh)
    refused(lambda: domain.add_row(plan, "outcome", {"text": "x"}, head), head, fresh,
            "edit_plan", 403)
    refused(lambda: domain.request_variation(fresh, head, 2, "More"), head, fresh,
            "request_variation", 403)
    domain.log_first_contact(fresh, fresh.leader)
    refused(lambda: domain.log_first_contact(fresh, fresh.leader), fresh.leader, fresh,
            "log_first_contact", 409)
    v = domain.request_variation(fresh, admin, 2, "Two more visits")
    refused(lambda: domain.request_variation(fresh, fresh.leader, 2, "More"), fresh.leader,
            fresh, "request_variation", 409)
    refused(lambda: domain.approve_variation(v, admin), admin, v, "approve", 403)
    refused(lambda: domain.decline_variation(v, w.user("a", "other_head"), "No"),
            w.user("a", "other_head"), v, "decline", 403)
    assert domain.approve_variation(v, head) is False
    refused(lambda: domain.approve_variation(v, head), head, v, "approve", 409)
    assert domain.approve_variation(v, director) is True
    refused(lambda: domain.decline_variation(v, director, "No"), director, v, "decline", 409)
    factories.advance(fresh, "evaluation")
    refused(lambda: domain.add_row(plan, "outcome", {"text": "x"}, fresh.leader),
            fresh.leader, fresh, "edit_plan", 409)
    refused(lambda: domain.log_visit(fresh, fresh.leader, visit_date=date.today(),
                                     half_days=1), fresh.leader, fresh, "log_visit", 409)


def test_the_log_first_contact_twin_is_the_leaders_alone(plan_world):
    """The leader's own "Log first contact" list: confirmed (agreement) or active without
    contact, theirs or commissioned by them; never an overseer's (they watch, they do not log)."""
    w = plan_world

    def waiting(user):
        return db.session.scalars(select(Deployment).where(
            access.deployments_visible_to(user), policy.waiting_log_first_contact(user))).all()

    commissioner = w.user("a", "commissioner")
    assert [d.id for d in waiting(commissioner)] == [commissioner_of(w).id]
    waiting_leader = next(d.leader for d in _side_deployments(w)
                          if d.status == "agreement" and d.first_contact_at is None)
    assert [d.status for d in waiting(waiting_leader)] == ["agreement"]
    assert waiting(w.user("a", "director")) == [] and waiting(w.user("a", "admin")) == []
