"""The step-6 policy: every action's decision, and its "waiting for me" SQL twins."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.domain import access
from portal.domain import evaluations as ev
from portal.domain.errors import Forbidden, NotNow
from portal.domain.policy import Decision, allow, forbid, not_now, require
from portal.domain.policy import evaluations as policy
from portal.extensions import db
from portal.models import Deployment, Evaluation, User
from tests import factories
from tests.factories import evaluations as factories_completion


def test_decisions_and_require():
    assert allow().allowed and bool(allow())
    refused = forbid("not yours")
    assert not refused and refused.forbidden and refused.reason == "not yours"
    later = not_now("not yet")
    assert not later and not later.forbidden
    require(allow())
    with pytest.raises(Forbidden, match="not yours"):
        require(refused)
    with pytest.raises(NotNow, match="not yet"):
        require(later)
    assert Decision(True) == allow()


def _evaluating(side, *, leader=None, schools=(), extra_schools=(), by="headteacher",
                group=None):
    """A deployment of ``side`` under evaluation: the leader's evaluation in ``leader`` status
    and each (school, status) school evaluation; ``extra_schools`` also receive the support.
    ``by="officer"``: filed by the side's EIP officer, with the group's evaluation in ``group``
    status."""
    r = factories.support_request(side.alliance, side.users[by],
                                  [side.receiving, *extra_schools], status="matching")
    d = factories.advance(factories.deployment(r, side.leader), "evaluation", delivered=2)
    admin = side.users["admin"]
    written = db.session.scalar(select(Evaluation).where(Evaluation.deployment_id == d.id,
                                                         Evaluation.kind == "leader"))
    if leader:
        written.status = leader  # the state under test, reached by hand
    else:
        db.session.delete(written)
    for school, status in schools:
        db.session.add(Evaluation(deployment_id=d.id, kind="school", school_id=school.id,
                                  author_id=admin.id, status=status))
    if group:
        db.session.add(Evaluation(deployment_id=d.id, kind="group", author_id=admin.id,
                                  status=group))
    db.session.flush()
    return d


@pytest.fixture
def eval_world(db):
    """Deployments at every step-6 state in two alliances, several receiving two schools."""
    w = factories_completion.evaluations_world()
    for s in (w.a, w.b):
        second = factories.school(s.alliance, f"{s.alliance.name} Second Primary")
        s.users["second_head"] = factories.user(s.alliance, "headteacher", second,
                                                name=f"{s.alliance.name} Second Head")
        _evaluating(s, leader="submitted")
        _evaluating(s, leader="returned", schools=[(s.receiving, "returned")])
        _evaluating(s, leader="forwarded", schools=[(s.receiving, "forwarded")])
        _evaluating(s, leader="forwarded", schools=[(s.receiving, "signed_off")])
        # two schools: one signed off, the other still to do (the sign-off must wait) ...
        _evaluating(s, leader="forwarded", schools=[(s.receiving, "signed_off"),
                                                    (second, "forwarded")],
                    extra_schools=[second])
        # ... while the second school has signed off a different deployment
        _evaluating(s, leader="forwarded", schools=[(second, "signed_off")],
                    extra_schools=[second])
        # an officer's request for their group: the group's evaluation waits for the officer
        # (and so does the director's sign-off), then is signed off
        _evaluating(s, leader="forwarded", schools=[(s.receiving, "signed_off")],
                    by="officer", group="forwarded")
        _evaluating(s, leader="forwarded", schools=[(s.receiving, "forwarded")],
                    by="officer", group="signed_off")
        _evaluating(s, leader="forwarded", schools=[(s.receiving, "signed_off")],
                    by="officer", group="signed_off")
        _evaluating(s)  # under evaluation with nothing written (an odd state, still answered)
        done = _evaluating(s, leader="forwarded", schools=[(s.receiving, "signed_off")])
        done.status = "completed"
    db.session.commit()
    return w


def test_sql_twins_agree_with_the_python_predicates(eval_world):
    from tests.policy import assert_twins_agree

    users = db.session.scalars(select(User).order_by(User.id)).all()
    checked = assert_twins_agree(users, Deployment, visible=access.deployments_visible_to,
                                 python=policy.waiting, sql=policy.WAITING_SQL)
    assert checked > 100


def test_the_old_home_query_counted_a_sign_off_on_another_deployment(eval_world):
    """The home panel's former sign-off clause: its inner EXISTS was not correlated, so a
    school's sign-off on ANY deployment counted. The agreement test fails on it."""
    from sqlalchemy import exists, not_

    from portal.models import RequestSchool
    from tests.policy import assert_twins_agree

    def old_sign_off(user):
        if user.role != "director":
            return policy.waiting_sign_off(user)
        unsigned = exists().where(
            RequestSchool.request_id == Deployment.request_id,
            not_(exists().where(Evaluation.deployment_id == Deployment.id,
                                Evaluation.kind == "school",
                                Evaluation.school_id == RequestSchool.school_id,
                                Evaluation.status == "signed_off")))
        return (Deployment.status == "evaluation") & not_(unsigned)

    users = db.session.scalars(select(User).where(User.role == "director")).all()
    with pytest.raises(AssertionError, match="sign_off"):
        assert_twins_agree(users, Deployment, visible=access.deployments_visible_to,
                           python=policy.waiting, sql={**policy.WAITING_SQL,
                                                       "sign_off": old_sign_off})


def _by_state(w, side="a"):
    s = getattr(w, side)
    return db.session.scalars(select(Deployment).where(Deployment.alliance_id == s.alliance.id)
                              .order_by(Deployment.id)).all()


def test_actions_answer_every_action_with_a_reason(eval_world):
    w = eval_world
    for d in _by_state(w):
        for user in w.a.users.values():
            can = policy.actions(d, user)
            assert set(can) == set(policy.ACTIONS)
            for name, decision in can.items():
                assert decision.allowed or decision.reason, (name, user.role, d.status)


def test_forbidden_for_the_wrong_part_not_now_for_the_wrong_moment(eval_world):
    w = eval_world
    submitted = next(d for d in _by_state(w) if d.status == "evaluation"
                     and ev.leader_evaluation(d) and ev.leader_evaluation(d).status == "submitted")
    can = policy.actions(submitted, w.a.users["admin"])
    assert can["forward"].allowed
    assert can["sign_off"].forbidden  # the director's
    assert not can["end_early"].forbidden and can["end_early"].allowed
    head = policy.actions(submitted, w.a.users["headteacher"])
    assert not head["sign_school"].allowed and not head["sign_school"].forbidden
    assert head["forward"].forbidden
    other = policy.actions(submitted, w.a.users["other_head"])
    assert other["sign_school"].forbidden  # not a receiving school
    director = policy.actions(submitted, w.a.users["director"])
    assert not director["sign_off"].allowed and not director["sign_off"].forbidden
    assert "Every receiving school" in director["sign_off"].reason


def test_the_officer_evaluates_the_group_they_asked_for(eval_world):
    """The group's evaluation is the filing officer's; the director's sign-off waits for it."""
    w = eval_world
    officer, head = w.a.users["officer"], w.a.users["headteacher"]
    waiting, *_ = [d for d in _by_state(w) if d.request.requested_by_id == officer.id]
    assert policy.actions(waiting, officer)["sign_group"].allowed
    assert policy.actions(waiting, head)["sign_group"].forbidden
    assert policy.actions(waiting, w.b.users["officer"])["sign_group"].forbidden
    assert not policy.actions(waiting, w.a.users["director"])["sign_off"].allowed
    assert policy.waiting(waiting, officer)["sign_group"]
    others = [d for d in _by_state(w) if d.request.requested_by_id != officer.id]
    assert not any(policy.actions(d, officer)["sign_group"] for d in others)


def test_domain_commands_require_the_policy(eval_world):
    w = eval_world
    submitted = next(d for d in _by_state(w) if d.status == "evaluation"
                     and ev.leader_evaluation(d) and ev.leader_evaluation(d).status == "submitted")
    with pytest.raises(ev.NotAllowed) as refused:
        ev.forward(submitted, w.a.users["headteacher"])
    assert refused.value.status == 403
    assert str(refused.value) == policy.actions(submitted, w.a.users["headteacher"])[
        "forward"].reason
    ev.forward(submitted, w.a.users["admin"])
    with pytest.raises(ev.EvaluationError) as later:
        ev.forward(submitted, w.a.users["admin"])
    assert later.value.status == 409
