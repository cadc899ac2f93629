"""The step-3 policy: each party's confirm/release/accept/decline, and their SQL twins."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.domain import access, brokering, errors
from portal.domain.policy import deployments as policy
from portal.extensions import db
from portal.models import Deployment, User
from tests import factories


@pytest.fixture
def proposal_world(db):
    """Proposals in two alliances: unanswered, partly answered by each party, two receiving
    schools with one answered, and a proposal already declined."""
    w = factories.world()
    for s in (w.a, w.b):
        second = factories.school(s.alliance, f"{s.alliance.name} Second Primary")
        s.users["second_head"] = factories.user(s.alliance, "headteacher", second,
                                                name=f"{s.alliance.name} Second Head")
        head, home, leader = s.users["headteacher"], s.users["home_school"], s.leader
        for answerer in (None, head, home, leader):
            r = factories.support_request(s.alliance, head, [s.receiving], status="matching")
            d = factories.deployment(r, leader)
            if answerer is not None:
                brokering.respond(d, answerer, "accepted")
        two = factories.support_request(s.alliance, head, [s.receiving, second],
                                        status="matching")
        d2 = factories.deployment(two, leader)
        brokering.respond(d2, s.users["second_head"], "accepted")
        gone = factories.support_request(s.alliance, head, [s.receiving], status="matching")
        brokering.respond(factories.deployment(gone, leader), home, "declined", "Not this term")
    db.session.commit()
    return w


def _proposals(w, side="a"):
    s = getattr(w, side)
    return db.session.scalars(select(Deployment).where(Deployment.alliance_id == s.alliance.id)
                              .order_by(Deployment.id)).all()


def test_sql_twins_agree_with_the_python_predicates(proposal_world):
    from tests.policy import assert_twins_agree

    users = db.session.scalars(select(User).order_by(User.id)).all()
    checked = assert_twins_agree(users, Deployment, visible=access.deployments_visible_to,
                                 python=policy.waiting, sql=policy.WAITING_SQL)
    assert checked > 50


def test_each_party_answers_once_while_proposed(proposal_world):
    w = proposal_world
    head, home, leader, other = (w.a.users[k] for k in ("headteacher", "home_school", "sle",
                                                        "other_head"))
    fresh = next(d for d in _proposals(w) if d.status == "proposed" and not d.responses)
    assert policy.actions(fresh, head)["confirm"] and policy.actions(fresh, head)["decline"]
    assert policy.actions(fresh, head)["release"].forbidden
    assert policy.actions(fresh, home)["release"] and policy.actions(fresh, leader)["accept"]
    assert policy.actions(fresh, other)["confirm"].forbidden  # not a receiving school
    assert policy.actions(fresh, other)["decline"].forbidden
    answered = next(d for d in _proposals(w) if d.status == "proposed"
                    and [r.party for r in d.responses] == ["home_school"])
    again = policy.actions(answered, home)["release"]
    assert not again and not again.forbidden and "already answered" in again.reason
    declined = next(d for d in _proposals(w) if d.status == "declined")
    assert not policy.actions(declined, head)["confirm"].forbidden
    assert not policy.actions(declined, head)["confirm"]


def test_domain_command_requires_the_policy(proposal_world):
    w = proposal_world
    fresh = next(d for d in _proposals(w) if d.status == "proposed" and not d.responses)
    other = w.a.users["other_head"]
    with pytest.raises(errors.Forbidden) as refused:
        brokering.respond(fresh, other, "accepted")
    assert refused.value.status == 403
    assert str(refused.value) == policy.actions(fresh, other)["decline"].reason
    home = w.a.users["home_school"]
    brokering.respond(fresh, home, "accepted")
    with pytest.raises(errors.NotNow) as later:
        brokering.respond(fresh, home, "declined", "Changed my mind")
    assert later.value.status == 409
    assert not fresh.responses[-1].decision == "declined"
