"""An EIP officer asks for support for a group of schools in a real browser, and the headteacher
of one school in the group confirms the proposed system leader for their own school (Sefton A.1,
East Sussex steps 2-3), on a phone, a tablet and a desktop."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.domain import brokering
from portal.extensions import db
from portal.models import DeploymentResponse, SupportRequest, User
from tests.factories import requests as fr

pytestmark = pytest.mark.browser

WIDTHS = {"phone": 390, "tablet": 820, "desktop": 1280}


def _sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Email address")).to_be_visible()


def _fits(page) -> None:
    """The page scrolls down, never sideways."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def _nav(page, width):
    nav = page.get_by_role("navigation", name="Main")
    if width <= 960:  # a phone or tablet: the links fold behind the menu button
        nav.get_by_role("button", name="Menu").click()
    return nav


@pytest.mark.parametrize("width", WIDTHS.values(), ids=list(WIDTHS))
def test_an_officer_asks_for_a_group_and_a_headteacher_confirms(page, sign_in, world, width):
    s = world.a
    fr.specialism()
    db.session.commit()
    officer_id, officer_email = s.users["officer"].id, s.users["officer"].email
    head_email, admin_id, leader_id = s.users["headteacher"].email, s.users["admin"].id, \
        s.leader.id
    receiving, other = (s.receiving.id, s.receiving.name), (s.other.id, s.other.name)
    home_name = s.home.name
    db.session.remove()  # the live server writes; the test reads afresh afterwards
    start = date.today() + timedelta(days=14)

    # 1. The officer files one request for two schools of the EIP; the home school (not in
    #    the EIP) is not offered; a missing school is shown beside the field.
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, officer_email)
    expect(page.get_by_role("heading", name="Alpha EIP")).to_be_visible()
    _nav(page, width).get_by_role("link", name="New request").click()
    expect(page.get_by_label(home_name)).to_have_count(0)
    page.get_by_label("Short title").fill("Reasoning across the EIP")
    page.get_by_label(re.compile(r"^TS2: Promote good progress")).check()
    page.get_by_label("Subject or specialism").select_option(label="Mathematics")
    page.get_by_label("Staff involved (roles, not names)").fill("Year 5 teachers in each school")
    page.get_by_label("Priorities").fill("Reasoning")
    page.get_by_label("Desired outcomes").fill("Pupils explain their reasoning")
    page.get_by_label("Measures of success").fill("Book looks")
    page.get_by_label("Time frame from").fill(start.isoformat())
    page.get_by_label("Time frame to").fill((start + timedelta(days=60)).isoformat())
    page.get_by_label("Days wanted").fill("6")
    _fits(page)
    page.get_by_role("button", name="Submit the request").click()
    expect(page.locator("#school_ids-error")).to_be_visible()
    page.get_by_label(receiving[1]).check()
    page.get_by_label(other[1]).check()
    page.get_by_role("button", name="Submit the request").click()
    expect(page.get_by_text("Awaiting triage").first).to_be_visible()
    expect(page.get_by_text("EIP-led").first).to_be_visible()
    _fits(page)
    _sign_out(page)

    # 2. The co-ordinator accepts it and proposes the leader (their journey is tested elsewhere).
    db.session.remove()
    req = db.session.scalars(select(SupportRequest).where(
        SupportRequest.requested_by_id == officer_id)).one()
    assert req.route == "eip" and {rs.school_id for rs in req.schools} == {receiving[0],
                                                                           other[0]}
    admin = db.session.get(User, admin_id)
    brokering.triage_request(req, "matching", admin)
    d_id = brokering.propose(req, leader_id, admin).id
    db.session.commit()
    db.session.remove()

    # 3. The headteacher of one school in the group confirms for their own school.
    sign_in(page, head_email)
    page.goto(f"/deployments/{d_id}")
    page.get_by_role("button", name="Confirm the system leader").click()
    expect(page.get_by_text("You confirmed the proposal")).to_be_visible()
    _fits(page)
    _sign_out(page)
    db.session.remove()
    answered = {(r.party, r.school_id) for r in db.session.scalars(select(DeploymentResponse)
                .where(DeploymentResponse.deployment_id == d_id))}
    assert ("receiving", receiving[0]) in answered
    assert ("receiving", other[0]) not in answered  # that school answers for itself
    db.session.remove()

    # 4. The officer follows it: the deployment and who has confirmed.
    sign_in(page, officer_email)
    page.goto(f"/deployments/{d_id}")
    expect(page.get_by_text(receiving[1]).first).to_be_visible()
    expect(page.get_by_role("button", name="Confirm the system leader")).to_have_count(0)
    assert page.csp_violations == []
