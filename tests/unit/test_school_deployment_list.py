"""A headteacher's deployments list reads the school's newest deployments from one index walk
(``deployment_school``; issue 20, item 4): the same rows, order and count as the visibility
rule, on every page and status filter, and never every deployment in the country."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.deployment_lists import DeploymentList
from portal.domain import access, brokering, workflow
from portal.domain.policy import requests as request_policy
from portal.extensions import db
from portal.models import (
    Alliance,
    Deployment,
    DeploymentSchool,
    RequestSchool,
    SupportRequest,
    utcnow,
)
from tests.factories import alliances as fa
from tests.factories import people as fpe
from tests.factories import requests as fr
from tests.factories._seq import next_number
from tests.paging import assert_every_page
from tests.querycount import index_plan

STATUSES = ("proposed", "agreement", "active", "completed", "declined")


def _deployment(r: SupportRequest, leader, proposed_at, status: str, **kw) -> Deployment:
    d = Deployment(reference=f"D-S-{next_number():05d}", alliance_id=r.alliance_id,
                   leader_id=leader.id, home_school_id=leader.profile.home_school_id,
                   designation="sle", status=status, proposed_at=proposed_at, **kw)
    if "request" not in kw:
        d.request_id = r.id
    db.session.add(d)
    db.session.flush()
    return d


@pytest.fixture
def school_world(db):
    a = fa.alliance("Alpha")
    b = fa.alliance("Beta")
    ours, theirs, far = fa.school(a, "Ours"), fa.school(a, "Theirs"), fa.school(b, "Far")
    home = fa.school(a, "Home")
    head = fpe.user(a, "headteacher", ours)
    other = fpe.user(a, "headteacher", theirs)
    stranger = fpe.user(b, "headteacher", far)
    leader = fpe.leader(a, home)
    far_leader = fpe.leader(b, far)
    base = utcnow() - timedelta(days=30)
    made = []
    for i in range(31):  # ours, a pair naming ours, others' only, another network's
        by, schools, who = [(head, [ours], leader), (other, [theirs, ours], leader),
                            (other, [theirs], leader), (stranger, [far], far_leader)][i % 4]
        r = fr.support_request(a if by is not stranger else b, by, schools)
        # some requests have two deployments (the first declined); some share a date
        for k in range(1 + (i % 3 == 0)):
            when = base + timedelta(hours=(i * 37) % 40 if i % 5 else 7, minutes=k)
            made.append(_deployment(r, who, when, STATUSES[(i + k) % len(STATUSES)]))
    # a request the headteacher wrote naming only another school: not theirs to list
    r = fr.support_request(a, head, [theirs])
    made.append(_deployment(r, leader, base, "active"))
    return head, made


def _expected(user, *where, order=access.DEPLOYMENTS_NEWEST_FIRST):
    return db.session.scalars(
        select(Deployment.id).where(access.deployments_visible_to(user), *where)
        .order_by(*order)).all()


@pytest.mark.parametrize("status", [None, *STATUSES, "cancelled"])
def test_every_page_and_count_match_the_visibility_rule(school_world, status):
    head, _made = school_world
    where = [] if status is None else [Deployment.status == status]
    expected = _expected(head, *where)
    if status is None:
        assert len(expected) > 15  # three pages of five, and ties on the date
    for per_page in (1, 5, 100):
        for page in range(1, len(expected) // per_page + 2):
            shown = page * per_page
            got = db.session.scalars(
                select(Deployment.id)
                .where(access.first_visible_deployments(
                    head, *where, order=access.DEPLOYMENTS_NEWEST_FIRST, limit=shown))
                .order_by(*access.DEPLOYMENTS_NEWEST_FIRST)
                .limit(per_page).offset((page - 1) * per_page)).all()
            assert got == expected[(page - 1) * per_page:shown], (per_page, page)
    assert db.session.scalar(access.count_visible_deployments(head, *where)) == len(expected)


@pytest.mark.parametrize("status", [*STATUSES, "cancelled"])
def test_a_status_filter_reads_the_schools_copy_and_matches_the_rule(school_world, status):
    """The list's status filter (``status=``) walks and counts the school's rows in that status
    from their copy of it; every page and the count are the rule's, for every role."""
    head, made = school_world
    overseers = [fpe.user(db.session.get(Alliance, head.alliance_id), role)
                 for role in ("admin", "director")]
    for user in (head, *{d.leader for d in made}, *overseers):
        expected = _expected(user, Deployment.status == status)
        assert_every_page(expected, lambda shown, user=user: access.first_visible_deployments(
            user, order=access.DEPLOYMENTS_NEWEST_FIRST, limit=shown, status=status),
            Deployment.id, access.DEPLOYMENTS_NEWEST_FIRST, (1, 5), user.id)
        assert db.session.scalar(access.count_visible_deployments(user, status=status)) \
            == len(expected), user.id


def test_the_schools_copy_follows_the_deployments_status(school_world):
    head, made = school_world
    d = next(x for x in made if x.status == "proposed")
    d.status = "agreement"
    db.session.flush()
    copies = db.session.scalars(select(DeploymentSchool.status).where(
        DeploymentSchool.deployment_id == d.id)).all()
    assert copies and set(copies) == {"agreement"}
    assert d.id in db.session.scalars(select(Deployment.id).where(
        access.first_visible_deployments(head, order=access.DEPLOYMENTS_NEWEST_FIRST,
                                         limit=100, status="agreement"))).all()
    assert db.session.scalar(select(func.count()).select_from(DeploymentSchool).join(
        Deployment, Deployment.id == DeploymentSchool.deployment_id).where(
        DeploymentSchool.status != Deployment.status)) == 0


def test_a_status_filter_walks_the_schools_status_index(school_world):
    head, _ = school_world
    order = access.DEPLOYMENTS_NEWEST_FIRST
    stmt = (select(Deployment.id)
            .where(access.first_visible_deployments(head, order=order, limit=25,
                                                    status="active"))
            .order_by(*order).limit(25))
    assert "ix_deployment_school_school_status" in index_plan(stmt)
    assert "ix_deployment_school_school_status" in index_plan(
        access.count_visible_deployments(head, status="active"))


@pytest.mark.parametrize("order", [
    (Deployment.proposed_at, Deployment.id),  # the evaluations panel: oldest first
    (Deployment.proposed_at.asc(), Deployment.id.asc()),
    (Deployment.confirmed_at, Deployment.id),  # not the school's index order: the rule itself
])
def test_other_orders_give_the_rules_first_rows(school_world, order):
    head, _ = school_world
    expected = _expected(head, order=order)[:7]
    got = db.session.scalars(
        select(Deployment.id).where(access.first_visible_deployments(head, order=order,
                                                                     limit=7))
        .order_by(*order).limit(7)).all()
    assert got == expected


def test_other_roles_count_by_their_rule(school_world):
    head, made = school_world
    for user in {d.leader for d in made}:
        assert db.session.scalar(access.count_visible_deployments(user)) == len(_expected(user))


def test_a_deployment_copies_its_requests_schools_however_it_is_added(db):
    a = fa.alliance("Alpha")
    s, t, home = fa.school(a, "One"), fa.school(a, "Two"), fa.school(a, "Home")
    head = fpe.user(a, "headteacher", s)
    leader = fpe.leader(a, home)
    when = utcnow() - timedelta(days=2)
    # by id, the request's schools already written: INSERT ... SELECT from request_school
    r = fr.support_request(a, head, [s, t])
    db.session.expire(r)
    by_id = _deployment(r, leader, when, "proposed")
    # a new request, its schools and its deployment in one flush: from the session's objects
    fresh = SupportRequest(reference="R-S-FRESH", alliance_id=a.id, requested_by_id=head.id,
                           status="draft", title="Phonics", standards_mask=0, phase="primary",
                           route="school")
    fresh.schools = [RequestSchool(school_id=t.id, position=0)]
    together = _deployment(fresh, leader, when + timedelta(hours=1), "proposed", request=fresh)
    rows = db.session.execute(select(DeploymentSchool.deployment_id, DeploymentSchool.school_id,
                                     DeploymentSchool.proposed_at)
                              .order_by(DeploymentSchool.deployment_id,
                                        DeploymentSchool.school_id)).all()
    assert [tuple(row) for row in rows] == sorted([
        (by_id.id, s.id, when), (by_id.id, t.id, when),
        (together.id, t.id, when + timedelta(hours=1))])


def test_a_requests_schools_change_only_before_any_deployment(school_world):
    """The copy is written once: the schools may change only while the request is editable,
    and no request with a deployment ever becomes editable again."""
    head, made = school_world
    matched = made[0].request
    matched.status = "matched"
    with pytest.raises(AssertionError):
        brokering.set_schools(matched, [head.school_id])
    reachable, todo = set(), ["matched"]
    while todo:
        status = todo.pop()
        for t in workflow.REQUEST_TRANSITIONS:
            if t.source == status and t.target not in reachable:
                reachable.add(t.target)
                todo.append(t.target)
    assert reachable and not reachable & set(request_policy.EDITABLE), reachable


@pytest.mark.parametrize("descending", [True, False])  # the lists; the evaluations panel
def test_the_list_walks_the_schools_index_by_date(school_world, descending):
    """Without deployment_school the database reads every deployment of the school's requests
    (or every deployment in the country) and sorts them; with it, it stops after the page."""
    head, _ = school_world
    order = DeploymentList(None, ("proposed_at", "id"), 25, descending=descending).columns()
    stmt = (select(Deployment.id)
            .where(access.first_visible_deployments(head, order=order, limit=25))
            .order_by(*order).limit(25))
    plan = index_plan(stmt)
    assert "ix_deployment_school_school_proposed" in plan, plan


def test_the_headteachers_pages_show_the_rules_rows(school_world, client_for, app, monkeypatch):
    """Through the route: each page (five a page here) lists the rule's rows for that page and
    says how many pages there are; a status filter narrows both; another school sees none."""
    head, made = school_world
    monkeypatch.setitem(app.config, "PAGE_SIZE", 5)
    by_id = {d.id: d.reference for d in made}
    db.session.commit()
    client = client_for(head)
    for status, where in (("", []), ("active", [Deployment.status == "active"])):
        expected = [by_id[i] for i in _expected(head, *where)]
        pages = -(-len(expected) // 5)
        for page in range(1, pages + 1):
            body = client.get(f"/deployments/?status={status}&page={page}").data.decode()
            assert f"Page {page} of {pages}" in body or pages == 1, (status, page)
            shown = [ref for ref in by_id.values() if ref in body]
            assert sorted(shown) == sorted(expected[(page - 1) * 5:page * 5]), (status, page)
    stranger = db.session.scalar(select(Deployment).where(
        ~access.deployments_visible_to(head)))
    assert stranger is not None and client.get(f"/deployments/{stranger.id}").status_code == 404
