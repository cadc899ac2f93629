"""The co-ordinator's inbox (the home page's queue, "Needs your action" to triage and match)
reads the first rows of one index walk per inbox status, oldest first (issue 20: every waiting
request of the alliance was read and sorted, 8.7 ms at ten times national scale and growing):
the same rows in the same order as the inbox rule, on every page and for each kind of item;
the inbox's counts match it too."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.domain import brokering
from portal.domain.policy import requests as request_policy
from portal.extensions import db
from portal.models import SupportRequest, utcnow
from tests import factories
from tests.paging import assert_every_page
from tests.querycount import index_plan

STATUSES = ("submitted", "matching", "more_info", "draft", "withdrawn", "declined", "matched")


@pytest.fixture
def iw(db):
    w = factories.world()
    a = w.a
    head = a.users["headteacher"]
    now = utcnow()
    for i in range(31):
        r = factories.support_request(a.alliance, head, [a.receiving],
                                      status="matching" if i % 5 == 1 else "submitted")
        r.status = STATUSES[i % len(STATUSES)]
        # ties on the submission time too: the id breaks them
        r.submitted_at = None if r.status == "draft" else now - timedelta(hours=(i * 17) % 90)
    other = factories.support_request(w.b.alliance, w.b.users["headteacher"], [w.b.receiving])
    db.session.flush()
    w.other_request = other
    return w


@pytest.mark.parametrize("role", ["admin", "director"])
@pytest.mark.parametrize("kind", [None, "triage", "match", "on_school"])
def test_every_page_of_the_inbox_walk_matches_the_rule(iw, role, kind):
    user = iw.a.users[role]
    where = [] if kind is None else [request_policy.WAITING_SQL[kind](user)]
    expected = db.session.scalars(
        select(SupportRequest.id).where(brokering.in_inbox(user), *where)
        .order_by(*brokering.INBOX_ORDER)).all()
    assert expected and iw.other_request.id not in expected
    assert_every_page(expected, lambda shown: brokering.first_in_inbox(
        user, *where, limit=shown), SupportRequest.id, brokering.INBOX_ORDER, (1, 2, 5, 100),
        who=(role, kind))


def test_the_inbox_counts_match_the_rule(iw):
    user = iw.a.users["admin"]
    now = utcnow()
    rows = db.session.execute(select(SupportRequest.status, SupportRequest.submitted_at)
                              .where(brokering.in_inbox(user))).all()
    counts = brokering.inbox_counts(user, now)
    waiting = [at for status, at in rows if status in brokering.WAITING_FOR_MATCH]
    assert counts.for_match == len(waiting) > 0
    assert counts.for_school == sum(1 for status, _at in rows if status == "more_info") > 0
    assert counts.overdue == sum(1 for at in waiting if at < now - timedelta(hours=48)) > 0


def test_no_inbox_for_those_who_do_not_triage(iw):
    head = iw.a.users["headteacher"]
    assert db.session.scalars(select(SupportRequest.id).where(
        brokering.first_in_inbox(head, limit=10))).all() == []


def test_each_walk_is_an_index_range_by_status(iw):
    user = iw.a.users["admin"]
    plan = index_plan(select(SupportRequest.id)
                      .where(brokering.first_in_inbox(user, limit=10))
                      .order_by(*brokering.INBOX_ORDER).limit(10))
    assert plan.count("ix_support_request_alliance_status_submitted") >= 3, plan
