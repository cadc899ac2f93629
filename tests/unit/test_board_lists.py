"""A Board's request and deployment lists read their newest rows from one index walk each
(issue 20: a Board's home and lists read and sorted every request and deployment it ever
funded, 120-260 ms at ten times national scale): the same rows, order and count as the
visibility rule, on every page and filter, including after the co-ordinator changes who pays."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.domain import access, boards
from portal.extensions import db
from portal.models import Deployment, SupportRequest, utcnow
from tests import factories
from tests.paging import assert_every_page
from tests.querycount import index_plan


@pytest.fixture
def bw(db):
    w = factories.world()
    a = w.a
    a.board = factories.board(a.alliance, "Primary Board")
    a.other = factories.board(a.alliance, "Other Board", phase="secondary")
    member = factories.user(a.alliance, "board", board=a.board, name="Member")
    head = a.users["headteacher"]
    made = []
    for i in range(23):
        by = member if i % 6 == 0 else head
        board = [a.board, a.other, None, a.board][i % 4]
        r = factories.support_request(a.alliance, by, [a.receiving],
                                      status="draft" if i % 7 == 3 else "submitted",
                                      board=board)
        r.created_at = utcnow() - timedelta(hours=(i * 37) % 50, minutes=i)
        if r.status != "draft":
            d = factories.deployment(r, a.leader)
            d.proposed_at = utcnow() - timedelta(hours=(i * 29) % 40, minutes=i)
            if i % 5 == 0:
                d.status = "declined"  # and proposed again
                factories.deployment(r, a.leader)
        made.append(r)
    db.session.flush()
    w.member = member
    return w


@pytest.mark.parametrize("status", [None, "submitted", "draft"])
def test_every_page_and_count_of_requests_match_the_rule(bw, status):
    user = bw.member
    where = [] if status is None else [SupportRequest.status == status]
    expected = db.session.scalars(
        select(SupportRequest.id).where(access.requests_visible_to(user), *where)
        .order_by(*access.REQUESTS_NEWEST_FIRST)).all()
    assert expected or status == "draft"

    assert_every_page(expected, lambda shown: access.first_visible_requests(
        user, *where, limit=shown), SupportRequest.id, access.REQUESTS_NEWEST_FIRST,
        (1, 2, 5, 100))
    assert db.session.scalar(access.count_visible_requests(user, *where)) == len(expected)


def _check_deployments(user, *where):
    expected = db.session.scalars(
        select(Deployment.id).where(access.deployments_visible_to(user), *where)
        .order_by(*access.DEPLOYMENTS_NEWEST_FIRST)).all()

    assert_every_page(expected, lambda shown: access.first_visible_deployments(
        user, *where, order=access.DEPLOYMENTS_NEWEST_FIRST, limit=shown), Deployment.id,
        access.DEPLOYMENTS_NEWEST_FIRST, (1, 2, 5, 100))
    assert db.session.scalar(access.count_visible_deployments(user, *where)) == len(expected)
    return expected


@pytest.mark.parametrize("status", [None, "proposed", "declined"])
def test_every_page_and_count_of_deployments_match_the_rule(bw, status):
    where = [] if status is None else [Deployment.status == status]
    assert _check_deployments(bw.member, *where)


def test_a_change_of_who_pays_moves_the_copies_with_it(bw):
    """The co-ordinator moves a request (with a declined deployment and a live one) from the
    Board to another and back: the Board's lists follow the request's Board each time."""
    admin = bw.a.users["admin"]
    ours = db.session.scalars(select(Deployment).join(SupportRequest).where(
        SupportRequest.board_id == bw.a.board.id, Deployment.status == "proposed")
        .order_by(Deployment.id)).all()
    d = next(x for x in ours if db.session.scalar(select(Deployment.id).where(
        Deployment.request_id == x.request_id, Deployment.status == "declined")))
    before = _check_deployments(bw.member)
    assert d.id in before
    boards.change_funding(d, admin, route="board", board_id=bw.a.other.id)
    db.session.flush()
    db.session.expire_all()
    after = _check_deployments(bw.member)
    assert d.id not in after and len(after) == len(before) - 2  # and the declined one
    copies = db.session.scalars(select(Deployment.request_board_id).where(
        Deployment.request_id == d.request_id)).all()
    assert copies == [bw.a.other.id] * 2
    boards.change_funding(db.session.get(Deployment, d.id), admin, route="school",
                          board_id=None)
    db.session.flush()
    db.session.expire_all()
    assert db.session.scalars(select(Deployment.request_board_id).where(
        Deployment.request_id == d.request_id)).all() == [None, None]
    _check_deployments(bw.member)


def test_a_deployment_takes_its_requests_board_however_it_is_made(bw):
    r = factories.support_request(bw.a.alliance, bw.a.users["headteacher"], [bw.a.receiving],
                                  board=bw.a.board)
    loaded = factories.deployment(r, bw.a.leader)
    db.session.expire_all()
    by_id = Deployment(reference="D-T-BYID", request_id=r.id, alliance_id=r.alliance_id,
                       leader_id=bw.a.leader.id, home_school_id=loaded.home_school_id)
    db.session.add(by_id)
    db.session.flush()
    assert db.session.scalars(select(Deployment.request_board_id).where(
        Deployment.id.in_([loaded.id, by_id.id]))).all() == [bw.a.board.id] * 2


def test_the_lists_walk_the_boards_indexes_by_date(bw):
    requests = (select(SupportRequest.id)
                .where(access.first_visible_requests(bw.member, limit=25))
                .order_by(*access.REQUESTS_NEWEST_FIRST).limit(25))
    assert "ix_support_request_board_created" in index_plan(requests)
    deployments = (select(Deployment.id)
                   .where(access.first_visible_deployments(
                       bw.member, order=access.DEPLOYMENTS_NEWEST_FIRST, limit=25))
                   .order_by(*access.DEPLOYMENTS_NEWEST_FIRST).limit(25))
    assert "ix_deployment_request_board_proposed" in index_plan(deployments)
