"""Impact reports and Board-targeted requests over HTTP."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, select

from portal.domain import evaluations as ev
from portal.extensions import db
from portal.models import AuditEvent, Notification, SupportRequest, User

from .. import factories
from ..factories import evaluations as fc

ROLES = ["headteacher", "sle", "home_school", "director", "admin", "board"]
READERS = {"director", "admin", "board"}


@pytest.fixture
def client_for(client_for):
    from flask import g

    def make(user=None):
        c = client_for(user)
        for name in ("get", "post", "htmx_get"):
            method = getattr(c, name)

            def fresh(*a, _m=method, **kw):
                g.pop("_login_user", None)
                return _m(*a, **kw)

            setattr(c, name, fresh)
        return c

    return make


@pytest.fixture
def rw(db):
    """Side A's deployment targeted by its Primary Board, 3 days delivered, evaluated."""
    w = fc.evaluations_world()
    board = fc.board_for(w.a)
    la = factories.local_authority("Sefton")
    w.a.receiving.local_authority_id = la.id
    r = w.a.request
    r.board_id, r.route = board.id, "board"
    w.a.deployment.targeted = True
    leader = db.session.get(User, w.a.leader.id)
    d = w.a.deployment
    ev.submit_leader_evaluation(
        d, leader, ratings={o.id: ev.Rating(3 + i % 2, "seen") for i, o in
                            enumerate(ev.outcomes_for(d))},
        summary="s", changes_for_teachers="t", changes_for_pupils="p", recommendations="r",
        exit_arrangements="e")
    db.session.commit()
    w.board = board
    return w


@pytest.mark.parametrize("role", ROLES)
def test_report_pages_by_role(rw, client_for, role):
    c = client_for(rw.user("a", role))
    expected = 200 if role in READERS else 403
    assert c.get("/reports/").status_code == expected
    assert c.get("/reports/export.csv").status_code == expected


def test_strangers_are_sent_to_sign_in(db, anon):
    for path in ("/reports/", "/reports/export.csv", "/board/requests/new"):
        assert anon.get(path).status_code == 302


def test_director_report_figures(rw, client_for):
    body = client_for(rw.user("a", "director")).get("/reports/").data.decode()
    assert rw.a.deployment.reference in body and rw.b.deployment.reference not in body
    assert "<dd>3 days</dd>" in body  # 6 half days delivered
    assert "<dd>1.0 hours</dd>" in body  # matched an hour after submission
    assert "<dd>3.0 days</dd>" in body  # first contact 3 days after confirmation
    # Board subsidy: 3 days at the £200 grant = £600 of a £20,000 budget
    assert "£600.00" in body and "£20,000.00" in body and "£19,400.00" in body
    # ratings by standard: TS2 rated 3, TS6 rated 4
    assert "TS2: Promote good progress" in body and "3.00" in body and "4.00" in body


def test_charts_are_pictures_of_the_table_beside_them(rw, client_for):
    """Issue 18, item 9: screen readers read the numbers once, in the table; the chart is
    aria-hidden and its ratings have an axis with the 1-4 scale."""
    body = client_for(rw.user("a", "director")).get("/reports/").data.decode()
    assert 'role="img"' not in body and "<desc" not in body
    for chart in ("chart-status", "chart-standard", "chart-phase"):
        start = body.index(f'id="{chart}"')
        assert body[body.rindex("<figure", 0, start):start].endswith('<figure class="chart" ')
        assert body[start:start + 40].startswith(f'id="{chart}" aria-hidden="true"')
        assert f'id="{chart}-table"' in body
    assert '<caption>Deployments by status</caption>' in body
    rating = body[body.index('id="chart-standard"'):body.index('id="chart-standard-table"')]
    ticks = re.findall(r'class="chart-tick"[^>]*>(\d)</', rating)
    assert ticks == ["1", "2", "3", "4"] and "1 no impact, 4 outstanding" in rating
    assert "style=" not in body and "<script>" not in body


def test_board_sees_only_its_targeted_deployments(rw, client_for):
    extra = factories.deployment(rw.a.request, rw.a.leader)
    untargeted_req = factories.support_request(rw.a.alliance, rw.user("a", "headteacher"),
                                               [rw.a.receiving], title="Untargeted")
    other = factories.deployment(untargeted_req, rw.a.leader)
    db.session.commit()
    board_body = client_for(rw.user("a", "board")).get("/reports/").data.decode()
    assert rw.a.deployment.reference in board_body and extra.reference in board_body
    assert other.reference not in board_body
    director_body = client_for(rw.user("a", "director")).get("/reports/").data.decode()
    assert other.reference in director_body
    # the Board also reads its targeted deployment (and its evaluation once forwarded)
    c = client_for(rw.user("a", "board"))
    assert c.get(f"/deployments/{rw.a.deployment.id}").status_code == 200
    assert c.get(f"/deployments/{other.id}").status_code == 404
    assert c.get(f"/deployments/{rw.b.deployment.id}").status_code == 404


def test_a_board_member_without_a_board_sees_an_empty_report(rw, client_for):
    body = client_for(rw.user("b", "board")).get("/reports/").data.decode()
    assert "No deployments match." in body and rw.b.deployment.reference not in body


@pytest.mark.parametrize(("query", "shown"), [
    ("phase=primary", True), ("phase=secondary", False), ("la=Sefton", True),
    ("la=Nowhere", True),  # an unknown LA is ignored, not an error
    # a year before 2000 is refused with a 400: tests/web/test_input_ranges.py
])
def test_filters(rw, client_for, query, shown):
    body = client_for(rw.user("a", "director")).get(f"/reports/?{query}").data.decode()
    assert (rw.a.deployment.reference in body) is shown


def test_filter_by_academic_year(rw, client_for):
    from portal.domain.charging import academic_year

    year = academic_year(rw.a.deployment.proposed_at.date())
    c = client_for(rw.user("a", "director"))
    assert rw.a.deployment.reference in c.get(f"/reports/?year={year}").data.decode()
    rw.a.deployment.proposed_at = rw.a.deployment.proposed_at.replace(year=year - 3)
    db.session.commit()
    assert rw.a.deployment.reference not in c.get(f"/reports/?year={year}").data.decode()


def test_htmx_filter_returns_the_report_block(rw, client_for):
    r = client_for(rw.user("a", "director")).htmx_get("/reports/?phase=primary")
    assert r.status_code == 200 and "<html" not in r.data.decode()
    assert 'class="chart-svg"' in r.data.decode()


def test_csv_export(rw, client_for):
    r = client_for(rw.user("a", "board")).get("/reports/export.csv?phase=primary")
    assert r.mimetype == "text/csv"
    assert "attachment" in r.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(r.data.decode())))
    assert rows[0][0] == "Reference" and len(rows) == 2
    assert rows[1][0] == rw.a.deployment.reference
    assert rows[1][-1] == "600.00" and rows[1][4] == "Sefton"


def test_report_query_count_does_not_grow_with_the_data(rw, client_for, app):
    c = client_for(rw.user("a", "director"))

    from tests.querycount import counted

    def queries():
        seen = []

        def count(_conn, _cursor, statement, *_a, **_k):
            if counted(statement):  # not BEGIN/COMMIT/PRAGMA: a new connection's set-up
                seen.append(1)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert c.get("/reports/").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(seen)

    queries()  # warm up: a new pooled connection runs its own set-up queries
    before = queries()
    for i in range(6):
        r = factories.support_request(rw.a.alliance, rw.user("a", "headteacher"),
                                      [rw.a.receiving], title=f"More {i}")
        fc.live(factories.deployment(r, rw.a.leader))
    factories.commit()
    assert queries() == before


# -------------------------------------------------------------------- Board-targeted requests


def targeted_data(w, **over):
    """What the Board's "New request" form posts: everything matching needs."""
    from tests.factories import requests as fr

    spec = fr.specialism("phonics", "Phonics")
    db.session.commit()
    start = date.today() + timedelta(days=14)
    data = {"school_id": str(w.a.other.id), "title": "Early reading", "standards": ["TS3", "TS4"],
            "phase": "primary", "specialism_id": str(spec.id),
            "priorities": "KS1 phonics outcomes low",
            "desired_outcomes": "Phonics screening rises", "start_date": start.isoformat(),
            "end_date": (start + timedelta(days=60)).isoformat(), "days": "3",
            "concession": "25.50"}
    data.update(over)
    return data


@pytest.mark.parametrize("role", ROLES)
def test_targeted_request_page_by_role(rw, client_for, role):
    r = client_for(rw.user("a", role)).get("/board/requests/new")
    assert r.status_code == (200 if role == "board" else 403)


def test_board_targets_a_school(rw, client_for):
    c = client_for(rw.user("a", "board"))
    r = c.post("/board/requests/new", targeted_data(rw))
    assert r.status_code == 303
    req = db.session.scalar(select(SupportRequest).where(SupportRequest.title == "Early reading"))
    assert r.headers["Location"].endswith(f"/requests/{req.id}")
    assert (req.route, req.board_id, req.status) == ("board", rw.board.id, "submitted")
    assert req.concession_day_pence == 2550 and req.half_days_wanted == 6
    assert req.specialism.code == "phonics" and req.start_date and req.end_date
    assert [s.school_id for s in req.schools] == [rw.a.other.id]
    assert req.standards == ["TS3", "TS4"] and req.reference.startswith("R-")
    admin = rw.user("a", "admin")
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == admin.id)) >= 1
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"request.targeted", "supportrequest.submitted"} <= actions
    assert c.get(f"/requests/{req.id}").status_code == 200
    # the co-ordinator sees it in the queue
    assert req.reference in client_for(admin).get("/").data.decode()


def test_a_double_click_makes_one_targeted_request(rw, client_for):
    c = client_for(rw.user("a", "board"))
    sent = targeted_data(rw, idempotency_key="one-form-drawn-once-0001")  # one form, twice
    first = c.post("/board/requests/new", sent)
    second = c.post("/board/requests/new", sent)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert db.session.scalar(select(func.count()).select_from(SupportRequest).where(
        SupportRequest.title == "Early reading")) == 1


@pytest.mark.parametrize(("field", "value", "message"), [
    ("concession", "abc", "Enter an amount in pounds"),
    ("concession", "1.234", "Enter an amount in pounds"),
    ("title", "", "Give the focus of the support."),
    ("days", "0", "between 1 and 100"),
    ("days", "2.5", "Enter whole days"),
    ("standards", [], "Choose at least one of the Teachers&#39; Standards."),
    ("standards", ["TS9"], "Choose the Teachers&#39; Standards from the list."),
    ("specialism_id", "", "Choose a subject or specialism."),
    ("start_date", "", "Enter the date the support should start"),
    ("end_date", "", "Enter the date the support should end"),
    ("school_id", "", "Choose the school to support."),
    ("school_id", "99999", "Choose the school to support from the list."),
])
def test_targeted_request_bad_input(rw, client_for, field, value, message):
    r = client_for(rw.user("a", "board")).post("/board/requests/new",
                                               targeted_data(rw, **{field: value}))
    assert r.status_code == 422 and message in r.data.decode()
    assert db.session.scalar(select(func.count()).select_from(SupportRequest).where(
        SupportRequest.requested_by_id == rw.user("a", "board").id)) == 0


def test_a_school_of_another_alliance_cannot_be_targeted(rw, client_for):
    r = client_for(rw.user("a", "board")).post(
        "/board/requests/new", targeted_data(rw, school_id=str(rw.b.receiving.id)))
    assert r.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(SupportRequest).where(
        SupportRequest.requested_by_id == rw.user("a", "board").id)) == 0


def test_a_board_member_without_a_board_cannot_target(rw, client_for):
    assert client_for(rw.user("b", "board")).get("/board/requests/new").status_code == 403


def test_pounds_to_pence_never_uses_floats():
    from portal.validators import parse_pounds

    assert parse_pounds("25.5") == 2550 and parse_pounds("£0.07") == 7
    assert parse_pounds("100") == 10000
    for bad in ("", "-1", "1.999", "ten"):
        with pytest.raises(ValueError):
            parse_pounds(bad)


def test_director_filters_the_report_to_one_board(rw, client_for):
    from portal.models import Board

    second = Board(alliance_id=rw.a.alliance.id, name="Alpha Secondary Board", phase="secondary",
                   budget_pence=100_000)
    db.session.add(second)
    untargeted = factories.deployment(rw.a.request, rw.a.leader)
    untargeted.request.board_id = rw.board.id
    db.session.commit()
    c = client_for(rw.user("a", "director"))
    body = c.get("/reports/").data.decode()
    assert "The whole alliance" in body and "Alpha Secondary Board" in body
    body = c.get(f"/reports/?board={second.id}").data.decode()
    assert rw.a.deployment.reference not in body and "£1,000.00" in body
    assert "Alpha Primary Board</th>" not in body
    body = c.get(f"/reports/?board={rw.board.id}").data.decode()
    assert rw.a.deployment.reference in body and "£600.00" in body
    assert "Alpha Secondary Board</th>" not in body
    csv_rows = c.get(f"/reports/export.csv?board={second.id}").data.decode().splitlines()
    assert len(csv_rows) == 1  # the header only
