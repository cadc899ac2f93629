"""Issue 15 item 2 through the web: the Board approves the funding of a Board-funded deployment,
sees it at every stage and counts it; the co-ordinator sees and changes who pays."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.domain import brokering
from portal.extensions import db
from portal.models import AuditEvent, Deployment, SupportRequest
from tests import factories
from tests.factories import evaluations as fc
from tests.factories import requests as fr

ROLES = ["headteacher", "sle", "home_school", "director", "admin", "board"]


@pytest.fixture
def bw(db):
    """Side a: a Primary Board (budget £20,000), a Board-funded proposal of 6 days everyone has
    confirmed, waiting for the Board; side b likewise."""
    w = factories.world()
    for s in (w.a, w.b):
        s.board = fc.board_for(s)
        r = s.request
        r.route, r.board_id = "board", s.board.id
        s.deployment.targeted = True
        s.deployment.half_days_agreed = 12
        for who in (s.users["headteacher"], s.users["home_school"], s.leader):
            brokering.respond(s.deployment, who, "accepted")
    db.session.commit()
    return w


def _approve_url(d) -> str:
    return f"/deployments/{d.id}/funding/approve"


@pytest.mark.parametrize("role", ROLES)
def test_approval_page_by_role(bw, client_for, role):
    r = client_for(bw.user("a", role)).get(_approve_url(bw.a.deployment))
    assert r.status_code == (200 if role == "board" else 403)


@pytest.mark.parametrize("role", ROLES)
def test_change_page_by_role(bw, client_for, role):
    r = client_for(bw.user("a", role)).get(f"/deployments/{bw.a.deployment.id}/funding")
    assert r.status_code == (200 if role in ("admin", "director") else 403)


def test_another_alliance_or_another_board_gets_404(bw, client_for):
    assert client_for(bw.user("b", "board")).get(
        _approve_url(bw.a.deployment)).status_code == 404
    assert client_for(bw.user("b", "admin")).get(
        f"/deployments/{bw.a.deployment.id}/funding").status_code == 404
    second = factories.board(bw.a.alliance, "Secondary Board", phase="secondary")
    member = factories.user(bw.a.alliance, "board", board=second)
    db.session.commit()
    assert client_for(member).get(_approve_url(bw.a.deployment)).status_code == 404
    assert client_for(member).get(f"/deployments/{bw.a.deployment.id}").status_code == 404


def test_approval_page_shows_budget_left_subsidy_and_concession(bw, client_for):
    body = client_for(bw.user("a", "board")).get(_approve_url(bw.a.deployment)).data.decode()
    assert "Budget left" in body and "£20,000.00" in body
    assert "£1,200.00" in body  # the Board's grant: 6 days at £200
    assert "£900.00" in body and "£2,100.00" in body  # the school's share; without the Board
    assert 'name="concession"' in body


def test_the_deployment_page_says_it_waits_for_the_board_then_the_board_approves(
        bw, client_for):
    d = bw.a.deployment
    for role in ("headteacher", "admin", "board"):
        page = client_for(bw.user("a", role)).get(f"/deployments/{d.id}").data.decode()
        assert f"Waiting for {bw.a.board.name} to approve the funding" in page, role
    board = client_for(bw.user("a", "board"))
    r = board.post(_approve_url(d), {"concession": "10.00"})
    assert r.status_code == 303
    d = db.session.get(Deployment, d.id)
    assert d.status == "agreement" and d.concession_day_pence == 1_000
    page = board.get(f"/deployments/{d.id}").data.decode()
    assert "Funding approved by" in page
    agreement = board.get(f"/deployments/{d.id}/agreement")
    assert agreement.status_code == 200
    text = agreement.data.decode()
    assert "Funding Board" in text and bw.a.board.name in text
    assert f"{bw.a.board.name} pays" in text and "£1,260.00" in text  # 6 × (£200 + £10)
    printed = board.get(f"/deployments/{d.id}/agreement/print").data.decode()
    assert "Funding Board" in printed


@pytest.mark.parametrize(("value", "message"), [
    ("abc", "Enter an amount in pounds"),
    ("1.234", "Enter an amount in pounds"),
    ("150.01", "That concession cannot be granted"),
])
def test_bad_concession_is_shown_beside_the_field_and_nothing_is_saved(bw, client_for, value,
                                                                      message):
    r = client_for(bw.user("a", "board")).post(_approve_url(bw.a.deployment),
                                               {"concession": value})
    assert r.status_code == 422
    body = r.data.decode()
    error = re.search(r'id="concession-error">(.*?)</p>', body, re.S)
    assert error and message in error.group(1)
    d = db.session.get(Deployment, bw.a.deployment.id)
    assert d.board_approved_at is None and d.status == "proposed"


def test_over_budget_is_refused_beside_the_field(bw, client_for):
    bw.a.board.budget_pence = 100_000
    db.session.commit()
    r = client_for(bw.user("a", "board")).post(_approve_url(bw.a.deployment), {"concession": ""})
    assert r.status_code == 422 and "more than its budget left" in r.data.decode()
    assert db.session.get(Deployment, bw.a.deployment.id).board_approved_at is None


def test_approval_without_csrf_is_refused(bw, client_for):
    r = client_for(bw.user("a", "board")).post(_approve_url(bw.a.deployment),
                                               {"concession": "0"}, csrf=False)
    # refused: nothing saved, the form is kept to send again (portal/drafts.py)
    assert r.status_code == 303 and "portal_draft=" in r.headers.get("Set-Cookie", "")
    assert db.session.get(Deployment, bw.a.deployment.id).board_approved_at is None


def test_approving_twice_is_a_409(bw, client_for):
    board = client_for(bw.user("a", "board"))
    assert board.post(_approve_url(bw.a.deployment), {"concession": "0"}).status_code == 303
    assert board.post(_approve_url(bw.a.deployment), {"concession": "0"}).status_code == 409


def test_the_co_ordinator_sees_which_board_pays_and_changes_it(bw, client_for):
    admin = client_for(bw.user("a", "admin"))
    d = bw.a.deployment
    page = admin.get(f"/deployments/{d.id}").data.decode()
    assert bw.a.board.name in page and "Change who pays" in page
    bad = admin.post(f"/deployments/{d.id}/funding", {"route": "board", "board_id": ""})
    assert bad.status_code == 422
    assert re.search(r'id="board_id-error">.*Choose the Board that pays', bad.data.decode(),
                     re.S)
    assert admin.post(f"/deployments/{d.id}/funding", {"route": "school", "board_id": ""},
                      csrf=False).status_code == 303  # refused (the form kept), nothing saved
    assert db.session.get(Deployment, d.id).targeted
    r = admin.post(f"/deployments/{d.id}/funding", {"route": "school", "board_id": ""})
    assert r.status_code == 303
    d = db.session.get(Deployment, d.id)
    assert not d.targeted and d.request.board_id is None and d.status == "agreement"
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "deployment.funding_changed")) is not None
    # after the proposal, who pays is fixed with the agreement
    assert admin.get(f"/deployments/{d.id}/funding").status_code == 409


def test_a_headteachers_board_targeted_request_is_the_boards_at_every_stage(bw, client_for):
    """The Board sees the request and deployment from filing to completion, and its report
    and CSV count the spend."""
    spec = fr.specialism()
    db.session.commit()
    head = client_for(bw.user("a", "headteacher"))
    r = head.post("/requests/new", fr.form_data([bw.a.receiving.id], spec.id, route="board",
                                                submit_now="1", days_wanted="3"))
    assert r.status_code == 303
    req = db.session.scalar(select(SupportRequest).order_by(SupportRequest.id.desc()).limit(1))
    assert req.board_id == bw.a.board.id
    board = client_for(bw.user("a", "board"))
    assert board.get(f"/requests/{req.id}").status_code == 200
    d = factories.deployment(req, bw.a.leader, half_days=6)
    d.targeted = True
    db.session.commit()
    assert board.get(f"/deployments/{d.id}").status_code == 200
    for stage in ("agreement", "active", "completed"):
        factories.advance(db.session.get(Deployment, d.id), stage, delivered=6)
        factories.commit()
        assert board.get(f"/deployments/{d.id}").status_code == 200, stage
        assert board.get(f"/requests/{req.id}").status_code == 200, stage
    csv = board.get("/reports/export.csv").data.decode()
    assert d.reference in csv
    assert "600.00" in csv  # 3 days at the Board's £200
    assert client_for(bw.user("b", "board")).get(f"/deployments/{d.id}").status_code == 404


def test_no_board_for_the_phase_is_shown_beside_the_route(db, client_for):
    w = factories.world()
    spec = fr.specialism()
    db.session.commit()
    r = client_for(w.user("a", "headteacher")).post(
        "/requests/new", fr.form_data([w.a.receiving.id], spec.id, route="board"))
    assert r.status_code == 422
    assert re.search(r'id="route-error">.*No Board of the alliance funds primary support',
                     r.data.decode(), re.S)
    assert db.session.scalar(select(SupportRequest).where(
        SupportRequest.title == "Reasoning in Year 5")) is None


def test_a_board_member_has_one_new_request_entry(bw, client_for):
    board = client_for(bw.user("a", "board"))
    home = board.get("/").data.decode()
    nav = home[home.find("<nav"):home.find("</nav>")]
    assert nav.count(">New request<") == 1 and "/board/requests/new" in nav
    assert "Target a school" not in nav
    r = board.get("/requests/new")
    assert r.status_code == 303 and r.headers["Location"].endswith("/board/requests/new")
    head_nav = client_for(bw.user("a", "headteacher")).get("/").data.decode()
    assert head_nav.count(">New request<") == 1


def test_the_boards_home_lists_funding_to_approve(bw, client_for):
    body = client_for(bw.user("a", "board")).get("/").data.decode()
    assert "Funding to approve" in body and bw.a.deployment.reference in body
    assert bw.b.deployment.reference not in body


def test_the_primary_boards_picker_offers_primary_schools_and_finds_by_name(bw, client_for):
    secondary = factories.school(bw.a.alliance, "Alpha High School")
    secondary.phase = "secondary"
    db.session.commit()
    board = client_for(bw.user("a", "board"))
    page = board.get("/board/requests/new").data.decode()
    assert "Alpha Other Primary" in page and "Alpha High School" not in page
    assert "Beta Other Primary" not in page
    assert 'type="radio"' in page and "multiple" not in page
    found = board.post("/board/requests/new", {"school_q": "other", "find": "1"})
    assert found.status_code == 200
    text = found.data.decode()
    assert "Alpha Other Primary" in text and "Alpha Receiving Primary" not in text
    # the Find button saves nothing
    assert db.session.scalar(select(SupportRequest).where(
        SupportRequest.requested_by_id == bw.user("a", "board").id)) is None
