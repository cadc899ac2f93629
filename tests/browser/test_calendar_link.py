"""A headteacher adds the portal to their own calendar: the private link is shown once, and
"Reset the link" makes a new one, on a phone, a tablet and a desktop (issue 21, item 4)."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser

WIDTHS = {"phone": (390, 844), "tablet": (820, 1180), "desktop": (1280, 900)}


@pytest.mark.parametrize("device", list(WIDTHS))
def test_headteacher_makes_then_resets_a_calendar_link(page, sign_in, world, device):
    from playwright.sync_api import expect

    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[device], strict=True)))
    sign_in(page, world.user("a", "headteacher").email)
    page.goto("/account/data")
    page.get_by_role("link", name="Add your visits and deadlines to your own calendar").click()
    expect(page.locator("body")).to_contain_text("You have no calendar link yet")
    page.get_by_role("button", name="Make a calendar link").click()
    link = page.get_by_role("textbox", name="Calendar link")
    expect(link).to_have_value(re.compile(r"/account/calendar/[\w-]+\.ics$"))
    first = link.input_value()
    box = link.bounding_box()
    assert box is not None and box["x"] + box["width"] <= WIDTHS[device][0]  # fits the screen
    feed = page.request.get(first)
    assert feed.status == 200 and feed.text().startswith("BEGIN:VCALENDAR")
    page.goto("/account/calendar")
    expect(page.get_by_role("textbox", name="Calendar link")).to_have_count(0)  # shown once only
    page.get_by_role("button", name="Reset the link").click()
    assert page.get_by_role("textbox", name="Calendar link").input_value() != first
    assert page.request.get(first).status == 404
