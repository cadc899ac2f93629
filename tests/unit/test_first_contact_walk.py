"""The alliance's "Waiting for first contact" walks a partial index of the confirmed
deployments not yet contacted, by when confirmed (issue 20: the director's home read every
open deployment of the alliance to find the few waiting): the rows are the rule's, in order."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.deployment_lists import DeploymentList
from portal.deployment_lists import fetch as fetch_lists
from portal.domain import access
from portal.domain.policy import plans as plan_policy
from portal.extensions import db
from portal.models import Deployment, utcnow
from tests import factories
from tests.querycount import index_plan


@pytest.fixture
def w(db):
    return factories.world()


def test_the_directors_waiting_list_is_the_rules_oldest_first(w):
    a = w.a
    head = a.users["headteacher"]
    now = utcnow()
    for i in range(9):
        d = factories.deployment(factories.support_request(a.alliance, head, [a.receiving],
                                                           title=f"Topic {i}"), a.leader)
        d.status = ("agreement", "active", "proposed")[i % 3]
        d.confirmed_at = None if d.status == "proposed" else now - timedelta(days=i % 4)
        d.first_contact_at = now if i % 4 == 3 else None
    db.session.flush()
    director = a.users["director"]
    waiting = plan_policy.waiting_first_contact(director)
    expected = db.session.scalars(
        select(Deployment.id).where(access.deployments_visible_to(director), waiting)
        .order_by(Deployment.confirmed_at, Deployment.id)).all()
    assert len(expected) >= 3
    got = fetch_lists(director, {"rows": DeploymentList(waiting, ("confirmed_at", "id"), 20)})
    assert [d.id for d in got["rows"]] == expected

    plan = index_plan(select(Deployment.id).where(access.deployments_visible_to(director),
                                                  waiting)
                      .order_by(Deployment.confirmed_at, Deployment.id).limit(20))
    assert "ix_deployment_alliance_waiting_contact" in plan, plan
