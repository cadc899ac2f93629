"""A headteacher's "Needs your action" in Chromium at phone, tablet and desktop widths: the
proposal to confirm is the first thing on home, a few key presses away, and its link lands on
the confirmation form."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from portal.extensions import db

pytestmark = pytest.mark.browser

WIDTHS = {"phone": (390, 844), "tablet": (820, 1180), "desktop": (1280, 900)}


def _focused(page) -> str:
    return page.evaluate("document.activeElement ? (document.activeElement.textContent || '')"
                         ".replace(/\\s+/g, ' ').trim() : ''")


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_a_headteacher_confirms_from_the_top_of_home(page, sign_in, world, width):
    w, h = WIDTHS[width]
    page.set_viewport_size({"width": w, "height": h})
    head = world.user("a", "headteacher")
    d = world.a.deployment
    sentence = f"Confirm {d.leader.name} for {d.reference} ({d.request.title})"
    deployment_id = d.id
    db.session.rollback()  # hold no read transaction while the live server reads

    sign_in(page, head.email)
    section = page.locator("#needs-action")
    expect(section.get_by_role("heading", name="Needs your action")).to_be_visible()
    link = section.get_by_role("link", name=sentence)
    expect(link).to_be_visible()
    # it is the first section of the page, and in view without scrolling
    first = page.locator("main section").first
    expect(first).to_have_id("needs-action")
    box = link.bounding_box()
    assert box is not None and box["y"] + box["height"] <= h, (width, box)
    # the count is in the navigation, with words for a screen reader
    # (on a phone or tablet the navigation is folded behind its menu button, so look for the
    # link itself rather than by its role, which a folded menu hides from the tree)
    expect(page.locator('.nav a[aria-label="Home, 1 thing needs your action"]')).to_be_attached()

    # keyboard: the skip link, then one Tab, reaches it
    page.keyboard.press("Tab")
    assert _focused(page) == "Skip to main content"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert _focused(page) == sentence, width
    # and without the skip link it is within the first few Tabs too
    page.goto("/")
    for _presses in range(1, 16):
        page.keyboard.press("Tab")
        if _focused(page) == sentence:
            break
    else:
        pytest.fail(f"{width}: the first action is not within 15 Tabs")

    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/deployments/{deployment_id}#panel-responses$"))
    expect(page.get_by_role("button", name="Confirm the system leader")).to_be_visible()
    assert page.csp_violations == []
