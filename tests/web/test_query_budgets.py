"""Query budgets: every main page costs the same number of SQL queries with 2 rows or 20.

A page whose count grows with the data has an N+1 (a relationship loaded once per row); list
pages additionally run under ``no_lazy_loads`` so such a load raises and names the culprit.
"""

from __future__ import annotations

import pytest

from tests.factories.worlds import grow, side_ids
from tests.querycount import request_queries

ROLES = ("admin", "director", "headteacher", "sle", "home_school", "board")
LIST_PAGES = ("/", "/requests/", "/deployments/", "/notifications/",
              "/requests/?status=submitted", "/deployments/?status=proposed")
# A ceiling per page, so a page that is constant but wasteful is noticed too. 16: the
# deployment page also reads the navigation's "Needs your action" count and the "Reminder
# sent" date (issues 14 and 17); its confirmation facts are read once (they were read twice).
BUDGET = 16


def _detail_pages(ids):
    return (f"/requests/{ids.request}", f"/deployments/{ids.deployment}")


def _counts(client, urls):
    return {url: request_queries(client, url) for url in urls}


@pytest.mark.parametrize("role", ROLES)
def test_list_pages_cost_the_same_with_ten_times_the_rows(world, client_for, role,
                                                          no_lazy_loads):
    client = client_for(world.user("a", role))
    ids = side_ids(world)
    grow(ids, 2)
    small = _counts(client, LIST_PAGES)
    grow(ids, 18)
    large = _counts(client, LIST_PAGES)
    for url in LIST_PAGES:
        assert len(large[url]) == len(small[url]), (
            f"{role} {url}: {len(small[url])} queries with 2 rows, {len(large[url])} with 20:\n"
            + "\n".join(q[:120] for q in large[url])
        )
        assert len(large[url]) <= BUDGET, (role, url, large[url])


@pytest.mark.parametrize("role", ROLES)
def test_detail_pages_cost_the_same_with_ten_times_the_rows(world, client_for, role):
    client = client_for(world.user("a", role))
    ids = side_ids(world)
    grow(ids, 2)
    urls = _detail_pages(ids)
    status = 404 if role == "board" else 200  # side a's main request is not a Board request
    small = {u: len(request_queries(client, u, status=status)) for u in urls}
    grow(ids, 18)
    large = {u: len(request_queries(client, u, status=status)) for u in urls}
    assert large == small
    assert max(large.values()) <= BUDGET


def test_no_lazy_loads_catches_a_per_row_lazy_load(world, db, app):
    """The guard itself: a loop that lazy-loads per row raises; one lazy load does not, and
    the same loop with the relationship eager-loaded passes."""
    from sqlalchemy import select
    from sqlalchemy.orm import joinedload

    from portal.models import Deployment, User
    from tests.querycount import NPlusOne, lazy_loads_raise

    ids = side_ids(world)
    grow(ids, 4)  # deployments with different leaders
    with lazy_loads_raise(), app.test_request_context("/"):
        db.session.remove()
        one = db.session.get(User, ids.users["headteacher"])
        assert one.school.name  # a single lazy load is fine
        db.session.remove()
        rows = db.session.scalars(select(Deployment).order_by(Deployment.id)).all()
        with pytest.raises(NPlusOne, match="leader"):
            for d in rows:
                d.leader.name  # noqa: B018
        db.session.remove()
        rows = db.session.scalars(select(Deployment).options(joinedload(Deployment.leader))
                                  .order_by(Deployment.id)).all()
        assert len({d.leader.name for d in rows}) > 2
        db.session.remove()
