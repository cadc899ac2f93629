"""The headteacher of a school in two networks files a request to the second network in a real
browser, on a phone and a desktop (issue 21); that network's co-ordinator sees it, the home
network's does not."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import SupportRequest
from tests import factories
from tests.factories import alliances as fa
from tests.factories import requests as fr

pytestmark = pytest.mark.browser

WIDTHS = {"phone": 390, "desktop": 1280}


def _fits(page) -> None:
    """The page scrolls down, never sideways."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def _nav(page, width):
    nav = page.get_by_role("navigation", name="Main")
    if width <= 960:  # a phone: the links fold behind the menu button
        nav.get_by_role("button", name="Menu").click()
    return nav


@pytest.mark.parametrize("width", WIDTHS.values(), ids=list(WIDTHS))
def test_a_head_of_a_two_network_school_files_to_the_second_network(page, sign_in, world,
                                                                     width):
    fa.join(world.a.receiving, world.b.alliance)
    fr.specialism()
    factories.commit()
    head_email = world.user("a", "headteacher").email
    second, home = world.b.alliance.name, world.a.alliance.name
    second_id = world.b.alliance.id
    b_admin, a_admin = world.user("b", "admin").email, world.user("a", "admin").email
    db.session.remove()  # the live server writes; the test reads afresh afterwards
    start = date.today() + timedelta(days=14)

    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, head_email)
    _nav(page, width).get_by_role("link", name="New request").click()
    networks = page.get_by_role("group", name="Network to send it to")
    expect(networks.get_by_label(home)).to_be_checked()  # the home network by default
    networks.get_by_label(second).check()
    page.get_by_label("Short title").fill("Phonics with the second network")
    page.get_by_label(re.compile(r"^TS3: Demonstrate good subject")).check()
    page.get_by_label("Subject or specialism").select_option(label="Mathematics")
    page.get_by_label("Staff involved (roles, not names)").fill("Two Year 1 teachers")
    page.get_by_label("Priorities").fill("Phonics")
    page.get_by_label("Desired outcomes").fill("Pupils blend fluently")
    page.get_by_label("Measures of success").fill("Phonics screening")
    page.get_by_label("Time frame from").fill(start.isoformat())
    page.get_by_label("Time frame to").fill((start + timedelta(days=60)).isoformat())
    page.get_by_label("Days wanted").fill("4")
    _fits(page)
    page.get_by_role("button", name="Submit the request").click()
    expect(page.get_by_text("Awaiting triage").first).to_be_visible()
    _fits(page)
    req = db.session.scalar(select(SupportRequest).where(
        SupportRequest.title == "Phonics with the second network"))
    assert req is not None and req.alliance_id == second_id
    url = f"/requests/{req.id}"
    db.session.remove()

    # the second network's co-ordinator sees it; the home network's gets "not found"
    page.context.clear_cookies()
    sign_in(page, b_admin)
    page.goto(url)
    expect(page.get_by_role("heading", name=re.compile("Phonics with the second network"))
           ).to_be_visible()
    _fits(page)
    page.context.clear_cookies()
    sign_in(page, a_admin)
    response = page.goto(url)
    assert response is not None and response.status == 404
