"""The Board's whole path in a real browser (issue 15 items 1 and 2): the Board member targets a
school from its one "New request" (at phone, tablet and desktop widths), the co-ordinator
finds and proposes a leader, the parties confirm, and the Board approves its funding, after which
the agreement names the Board. No CSP violations, and nothing wider than the screen."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from tests import factories
from tests.factories import evaluations as fc
from tests.factories import requests as fr

pytestmark = pytest.mark.browser

WIDTHS = {"phone": 390, "tablet": 820, "desktop": 1280}


def _sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Email address")).to_be_visible()


def _fits(page) -> None:
    """The page scrolls down, never sideways."""
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
        .slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className + ' '
                         + Math.round(e.getBoundingClientRect().right))""")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), wide


@pytest.mark.parametrize("width", WIDTHS.values(), ids=list(WIDTHS))
def test_board_targets_a_school_the_coordinator_proposes_and_the_board_approves(
        page, sign_in, world, width):
    board = fc.board_for(world.a)
    phonics = fr.specialism("phonics", "Phonics")
    world.a.leader.profile.specialisms = [phonics]
    for i in range(4):  # enough primary schools that the search matters
        factories.school(world.a.alliance, f"Alpha Infant {i}")
    high = factories.school(world.a.alliance, "Alpha High School")
    high.phase = "secondary"
    db.session.commit()
    member = world.user("a", "board")
    start = date.today() + timedelta(days=14)

    # 1. The Board member's one "New request": pick a primary school from a searchable list.
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, member.email)
    nav = page.get_by_role("navigation", name="Main")
    if width <= 960:  # a phone or tablet: the links fold behind the menu button
        nav.get_by_role("button", name="Menu").click()
    expect(nav.get_by_role("link", name="New request")).to_have_count(1)
    nav.get_by_role("link", name="New request").click()
    expect(page.get_by_role("heading", name=re.compile("target a school"))).to_be_visible()
    expect(page.get_by_label("Alpha High School")).to_have_count(0)  # a Primary Board
    page.get_by_label("Find a school").fill("other")
    page.get_by_role("button", name="Find schools").click()
    expect(page.get_by_label(re.compile("Alpha Infant"))).to_have_count(0)
    page.get_by_label(re.compile("^Alpha Other Primary")).check()
    page.get_by_label("Focus of the support").fill("Early reading")
    page.get_by_label(re.compile(r"^TS1: Set high expectations")).check()
    page.get_by_label(re.compile(r"^TS3: Demonstrate good subject")).check()
    page.get_by_label("Subject or specialism").select_option(label="Phonics")
    page.get_by_label("Why the Board is targeting this school").fill("Phonics outcomes low")
    page.get_by_label("Desired outcomes").fill("Screening results rise")
    page.get_by_label("Time frame from").fill(start.isoformat())
    page.get_by_label("Time frame to").fill((start + timedelta(days=60)).isoformat())
    page.get_by_label("Days of support").fill("2.5")
    _fits(page)
    page.get_by_role("button", name="Send to the co-ordinator").click()
    expect(page.locator("#days-error")).to_contain_text("whole days")
    expect(page.get_by_label(re.compile("^Alpha Other Primary"))).to_be_checked()  # kept
    page.get_by_label("Days of support").fill("3")
    page.get_by_role("button", name="Send to the co-ordinator").click()
    expect(page.get_by_text("was sent to the co-ordinator")).to_be_visible()
    request_url = page.url
    _sign_out(page)

    # 2. The co-ordinator accepts it, finds a system leader and proposes (the crash of old).
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, world.user("a", "admin").email)
    page.goto(request_url)
    page.get_by_label("Accept for matching").check()
    page.get_by_role("button", name="Save the decision").click()
    page.get_by_role("link", name="Find a system leader").click()
    expect(page.get_by_role("heading", name=re.compile("Ranked system leaders"))).to_be_visible()
    page.get_by_role("button", name="Propose Alpha Leader").click()
    expect(page.get_by_text("Proposed, awaiting confirmation")).to_be_visible()
    expect(page.get_by_text(f"{board.name} pays its grant")).to_be_visible()
    deployment_url = page.url
    _sign_out(page)

    # 3. The receiving school, the home school and the leader confirm: the agreement waits.
    other_head = world.user("a", "other_head")
    for email, button in ((other_head.email, "Confirm the system leader"),
                          (world.user("a", "home_school").email, "Agree the release"),
                          (world.a.leader.email, "Accept the deployment")):
        sign_in(page, email)
        page.goto(deployment_url)
        page.get_by_role("button", name=button).click()
        expect(page.get_by_text("You confirmed the proposal")).to_be_visible()
        _sign_out(page)

    # 4. The Board approves its funding, seeing its budget left; then the agreement names it.
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, member.email)
    expect(page.get_by_role("heading", name=re.compile("Funding to approve"))).to_be_visible()
    page.goto(deployment_url)
    expect(page.get_by_text(f"Waiting for {board.name} to approve the funding")).to_be_visible()
    page.get_by_role("link", name="Review and approve the funding").click()
    expect(page.get_by_text("Budget left", exact=True)).to_be_visible()
    expect(page.get_by_text("£20,000.00").first).to_be_visible()
    expect(page.get_by_text("£600.00").first).to_be_visible()  # 3 days at £200
    _fits(page)
    page.get_by_label("Further concession per day (£)").fill("abc")
    page.get_by_role("button", name="Approve the Board's funding").click()
    expect(page.locator("#concession-error")).to_be_visible()
    page.get_by_label("Further concession per day (£)").fill("0")
    page.get_by_role("button", name="Approve the Board's funding").click()
    expect(page.get_by_text("The Board's funding is approved.")).to_be_visible()
    expect(page.get_by_text("Agreement being signed")).to_be_visible()
    page.get_by_role("link", name=re.compile("agreement", re.I)).first.click()
    expect(page.get_by_text("Funding Board")).to_be_visible()
    expect(page.get_by_text(board.name).first).to_be_visible()
    _fits(page)
    assert page.csp_violations == []
