"""A headteacher's requests list reads the school's newest requests from one index walk
(issue 20, item 4): the same rows, order and count as the visibility rule, on every page and
filter, and never the whole country's requests."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.domain import access
from portal.extensions import db
from portal.models import RequestSchool, SupportRequest, User, utcnow
from tests.factories import alliances as fa
from tests.factories import people as fpe
from tests.factories import requests as fr
from tests.paging import assert_every_page
from tests.querycount import index_plan


@pytest.fixture
def school_world(db):
    a = fa.alliance("Alpha")
    b = fa.alliance("Beta")
    ours, theirs, far = fa.school(a, "Ours"), fa.school(a, "Theirs"), fa.school(b, "Far")
    head = fpe.user(a, "headteacher", ours)
    other = fpe.user(a, "headteacher", theirs)
    officer = fpe.user(a, "admin")
    stranger = fpe.user(b, "headteacher", far)
    made = []
    for i in range(23):  # interleaved: ours by us, ours by others, a pair, others' only
        by, schools = [(head, [ours]), (officer, [ours]), (other, [theirs, ours]),
                       (other, [theirs]), (stranger, [far])][i % 5]
        status = "draft" if i % 7 == 0 else "submitted"
        r = fr.support_request(a if by is not stranger else b, by, schools, status=status)
        r.created_at = utcnow() - timedelta(hours=(i * 37) % 50, minutes=i)
        made.append(r)
    # a request the headteacher wrote that names no school yet
    bare = fr.support_request(a, head, [], status="draft")
    made.append(bare)
    db.session.flush()
    for rs in db.session.scalars(select(RequestSchool)):  # the copy follows the request's date
        rs.requested_at = rs.request.created_at
    db.session.flush()
    return head, made


def _expected(user, *where):
    return db.session.scalars(
        select(SupportRequest.id).where(access.requests_visible_to(user), *where)
        .order_by(*access.REQUESTS_NEWEST_FIRST)).all()


@pytest.mark.parametrize("status", [None, "draft", "submitted", "matched"])
def test_every_page_and_count_match_the_visibility_rule(school_world, status):
    head, _made = school_world
    where = [] if status is None else [SupportRequest.status == status]
    expected = _expected(head, *where)
    if status is None:
        assert len(expected) > 12  # the world is big enough for three pages of five
    for per_page in (1, 5, 100):
        for page in range(1, len(expected) // per_page + 2):
            shown = page * per_page
            got = db.session.scalars(
                select(SupportRequest.id)
                .where(access.first_visible_requests(head, *where, limit=shown))
                .order_by(*access.REQUESTS_NEWEST_FIRST)
                .limit(per_page).offset((page - 1) * per_page)).all()
            assert got == expected[(page - 1) * per_page:shown], (per_page, page)
    assert db.session.scalar(access.count_visible_requests(head, *where)) == len(expected)


@pytest.mark.parametrize("status", ["draft", "submitted", "matched"])
def test_a_status_filter_reads_the_schools_copy_and_matches_the_rule(school_world, status):
    """The list's status filter (``status=``) walks each branch within the status (the
    writer's by (requested_by_id, status, created_at), the school's by its copy of the
    status); every page and the count are the rule's, for every role in the world."""
    head, made = school_world
    for user in {head, *(r.requested_by for r in made)}:
        expected = _expected(user, SupportRequest.status == status)
        assert_every_page(expected, lambda shown, user=user: access.first_visible_requests(
            user, limit=shown, status=status), SupportRequest.id,
            access.REQUESTS_NEWEST_FIRST, (1, 5), user.id)
        assert db.session.scalar(access.count_visible_requests(user, status=status)) \
            == len(expected), user.id


def test_the_schools_copy_follows_the_requests_status(school_world):
    head, made = school_world
    r = next(x for x in made if x.status == "submitted" and x.schools)
    r.status = "matching"
    db.session.flush()
    assert set(db.session.scalars(select(RequestSchool.status).where(
        RequestSchool.request_id == r.id))) == {"matching"}
    assert r.id in db.session.scalars(select(SupportRequest.id).where(
        access.first_visible_requests(head, limit=100, status="matching"))).all()
    assert db.session.scalar(select(func.count()).select_from(RequestSchool).join(
        SupportRequest, SupportRequest.id == RequestSchool.request_id).where(
        RequestSchool.status != SupportRequest.status)) == 0


def test_a_status_filter_walks_the_status_indexes(school_world):
    head, _ = school_world
    stmt = (select(SupportRequest.id)
            .where(access.first_visible_requests(head, limit=25, status="submitted"))
            .order_by(*access.REQUESTS_NEWEST_FIRST).limit(25))
    plan = index_plan(stmt)
    assert "ix_request_school_school_status" in plan, plan
    if db.engine.dialect.name == "sqlite":  # on a few rows PostgreSQL may take either index
        assert "ix_support_request_requested_by_status" in plan, plan  # of the writer's


def test_other_roles_keep_their_rule(school_world):
    head, made = school_world
    admin = db.session.scalar(select(User).where(User.role == "admin"))
    assert db.session.scalar(access.count_visible_requests(admin)) == db.session.scalar(
        select(func.count()).select_from(SupportRequest).where(access.requests_visible_to(admin)))


def test_a_school_row_takes_its_requests_date_however_it_is_added(db):
    a = fa.alliance("Alpha")
    s, t = fa.school(a, "One"), fa.school(a, "Two")
    head = fpe.user(a, "headteacher", s)
    r = fr.support_request(a, head, [s])
    assert r.schools[0].requested_at == r.created_at
    db.session.add(RequestSchool(request_id=r.id, school_id=t.id, position=1))  # by id alone
    db.session.flush()
    dates = db.session.scalars(select(RequestSchool.requested_at).where(
        RequestSchool.request_id == r.id)).all()
    assert dates == [r.created_at, r.created_at]


def test_the_list_walks_the_schools_index_by_date(school_world):
    """Without the dated index the database reads every request naming the school (or every
    request in the country) and sorts them; with it, it stops after the page's rows."""
    head, _ = school_world
    stmt = (select(SupportRequest.id).where(access.first_visible_requests(head, limit=25))
            .order_by(*access.REQUESTS_NEWEST_FIRST).limit(25))
    plan = index_plan(stmt)
    assert "ix_request_school_school_requested" in plan, plan
    assert "ix_support_request_requested_by_created" in plan, plan


def test_the_writers_waiting_requests_are_found_from_the_writer_and_status_index(school_world):
    """Issue 20: "add the information asked for" is one request among a school's thousands;
    without the (writer, status) index the count read every request the writer had made."""
    from sqlalchemy import insert, text

    from portal.domain.policy import requests as request_policy

    head, _ = school_world
    table = SupportRequest.__table__
    one = db.session.execute(select(table).where(table.c.requested_by_id == head.id)
                             .limit(1)).mappings().one()
    # a writer of many requests, few of them waiting: the planner's statistics must see that
    db.session.execute(insert(table), [
        {**{k: v for k, v in one.items() if k != "id"}, "reference": f"BULK-{i}",
         "status": "matched"} for i in range(400)])
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ANALYZE support_request"))
    else:
        db.session.execute(text("ANALYZE"))
    stmt = select(SupportRequest.id).where(request_policy.waiting_resubmit(head))
    assert "ix_support_request_requested_by_status" in index_plan(stmt)
