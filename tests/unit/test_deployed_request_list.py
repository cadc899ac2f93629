"""A system leader's and a home school's requests lists read their newest requests from one
index walk of their deployments by the request's date (issue 20: a leader deployed on 12,000
requests read and sorted them all, 120-200 ms a page at ten times national scale): the same
rows, order and count as the visibility rule, on every page and filter."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.domain import access
from portal.extensions import db
from portal.models import Deployment, SupportRequest, User, utcnow
from tests.factories import alliances as fa
from tests.factories import deployments as fd
from tests.factories import people as fpe
from tests.factories import requests as fr
from tests.paging import assert_every_page
from tests.querycount import index_plan


@pytest.fixture
def leader_world(db):
    a, b = fa.alliance("Alpha"), fa.alliance("Beta")
    home, other_home, far = fa.school(a, "Home"), fa.school(a, "Other home"), fa.school(b, "Far")
    ours = fa.school(a, "Receiving")
    leader = fpe.leader(a, home, name="Lead")
    commissioner = fpe.leader(a, other_home, name="Commissioner", designation="nle")
    stranger = fpe.leader(b, far, name="Stranger")
    head = fpe.user(a, "headteacher", ours)
    for i in range(23):
        r = fr.support_request(a if i % 6 else b, head, [ours], status="submitted")
        r.created_at = utcnow() - timedelta(hours=(i * 37) % 50, minutes=i)
        who = [leader, commissioner, stranger, leader][i % 4]
        fd.deployment(r, who)
        if i % 5 == 0:  # the commissioner deploys the leader on it too: listed once for each
            d2 = fd.deployment(r, leader)
            d2.commissioning_leader_id = commissioner.id
        if i % 3 == 0:
            r.status = "matched"
    db.session.flush()  # the copies follow the dates set after the deployments were made
    home_user = fpe.user(a, "home_school", home)
    return {"leader": leader, "commissioner": commissioner, "home_school": home_user}


def _expected(user, *where):
    return db.session.scalars(
        select(SupportRequest.id).where(access.requests_visible_to(user), *where)
        .order_by(*access.REQUESTS_NEWEST_FIRST)).all()


@pytest.mark.parametrize("who", ["leader", "commissioner", "home_school"])
@pytest.mark.parametrize("status", [None, "submitted", "matched"])
def test_every_page_and_count_match_the_visibility_rule(leader_world, who, status):
    user: User = leader_world[who]
    where = [] if status is None else [SupportRequest.status == status]
    expected = _expected(user, *where)
    assert len(expected) >= 3, (who, status)
    assert_every_page(expected, lambda shown: access.first_visible_requests(
        user, *where, limit=shown), SupportRequest.id, access.REQUESTS_NEWEST_FIRST,
        (1, 2, 5, 100), who)
    assert db.session.scalar(access.count_visible_requests(user, *where)) == len(expected)


@pytest.mark.parametrize("who", ["leader", "commissioner", "home_school"])
@pytest.mark.parametrize("status", ["submitted", "matched", "draft"])
def test_a_status_filter_reads_the_deployments_copy_and_matches_the_rule(leader_world, who,
                                                                         status):
    """The list's status filter (``status=``) walks each index of the request's status copied
    on the deployments; every page and the count are the rule's."""
    user: User = leader_world[who]
    expected = _expected(user, SupportRequest.status == status)
    assert_every_page(expected, lambda shown: access.first_visible_requests(
        user, limit=shown, status=status), SupportRequest.id, access.REQUESTS_NEWEST_FIRST,
        (1, 2, 100), who)
    assert db.session.scalar(access.count_visible_requests(user, status=status)) \
        == len(expected)


def test_the_deployments_copy_follows_the_requests_status(leader_world):
    leader = leader_world["leader"]
    r = db.session.scalars(select(SupportRequest).join(
        Deployment, Deployment.request_id == SupportRequest.id).where(
        Deployment.leader_id == leader.id, SupportRequest.status == "submitted")).first()
    r.status = "matching"
    db.session.flush()
    assert set(db.session.scalars(select(Deployment.request_status).where(
        Deployment.request_id == r.id))) == {"matching"}
    assert r.id in db.session.scalars(select(SupportRequest.id).where(
        access.first_visible_requests(leader, limit=100, status="matching"))).all()
    assert db.session.scalar(select(func.count()).select_from(Deployment).join(
        SupportRequest, SupportRequest.id == Deployment.request_id).where(
        Deployment.request_status != SupportRequest.status)) == 0


def test_a_deployment_takes_its_requests_date_however_it_is_made(db):
    a = fa.alliance("Alpha")
    home, ours = fa.school(a, "Home"), fa.school(a, "Ours")
    leader = fpe.leader(a, home)
    head = fpe.user(a, "headteacher", ours)
    r = fr.support_request(a, head, [ours])
    r.created_at = utcnow() - timedelta(days=3)
    db.session.flush()
    with_request = fd.deployment(r, leader)  # the request loaded in the session
    db.session.expire_all()
    by_id = Deployment(reference="D-T-BYID", request_id=r.id, alliance_id=a.id,
                       leader_id=leader.id, home_school_id=home.id)
    db.session.add(by_id)
    db.session.flush()
    dates = db.session.scalars(select(Deployment.request_created_at).where(
        Deployment.id.in_([with_request.id, by_id.id]))).all()
    created = db.session.scalar(select(SupportRequest.created_at).where(
        SupportRequest.id == r.id))
    assert dates == [created, created]
    # a request's date never changes in the portal; if it did, the copies would follow
    moved = db.session.get(SupportRequest, r.id)
    moved.created_at = created - timedelta(days=1)
    db.session.flush()
    assert db.session.scalars(select(Deployment.request_created_at).where(
        Deployment.request_id == r.id)).all() == [moved.created_at] * 2


@pytest.mark.parametrize("who, index", [
    ("leader", "ix_deployment_leader_request_created"),
    ("commissioner", "ix_deployment_commissioning_request_created"),
    ("home_school", "ix_deployment_home_school_request_created")])
def test_the_list_walks_the_deployments_index_by_the_requests_date(leader_world, who, index):
    stmt = (select(SupportRequest.id)
            .where(access.first_visible_requests(leader_world[who], limit=25))
            .order_by(*access.REQUESTS_NEWEST_FIRST).limit(25))
    plan = index_plan(stmt)
    assert index in plan, plan
    by_status = (select(SupportRequest.id)
                 .where(access.first_visible_requests(leader_world[who], limit=25,
                                                      status="submitted"))
                 .order_by(*access.REQUESTS_NEWEST_FIRST).limit(25))
    if db.engine.dialect.name != "sqlite":
        return  # on a few rows PostgreSQL may take any index that leads with the leader
    status_index = index.replace("_request_created", "_request_status")
    assert status_index in index_plan(by_status)
    assert status_index in index_plan(
        access.count_visible_requests(leader_world[who], status="submitted"))
