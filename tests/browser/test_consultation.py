"""A headteacher asks for a one-off consultation in hours, at phone, tablet and desktop width
(issue 15, item 5): the hours are asked for, a missing number is shown beside its field, and
the request reads "3 hours"."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from tests.factories import requests as fr

pytestmark = pytest.mark.browser

WIDTHS = {"phone": 390, "tablet": 820, "desktop": 1280}


@pytest.mark.parametrize("device", list(WIDTHS))
def test_a_headteacher_asks_for_a_consultation_in_hours(page, sign_in, world, device):
    fr.specialism()
    db.session.commit()
    page.set_viewport_size({"width": WIDTHS[device], "height": 900})
    sign_in(page, world.user("a", "headteacher").email)
    page.goto("/requests/new")
    start = date.today() + timedelta(days=14)
    page.get_by_label("Short title").fill("Subject leader consultation")
    page.get_by_label(re.compile(r"^TS3: Demonstrate good subject")).check()
    page.get_by_label("Subject or specialism").select_option(label="Mathematics")
    page.get_by_label("Staff involved (roles, not names)").fill("The maths subject leader")
    page.get_by_label("Priorities").fill("Curriculum sequencing")
    page.get_by_label("Desired outcomes").fill("A sequenced curriculum map")
    page.get_by_label("Measures of success").fill("The map is in use by spring")
    page.get_by_label("Time frame from").fill(start.isoformat())
    page.get_by_label("Time frame to").fill((start + timedelta(days=30)).isoformat())
    page.get_by_label("One-off consultation").check()
    page.get_by_role("button", name="Submit the request").click()
    expect(page.locator("#hours_wanted-error")).to_contain_text(
        "Enter the hours of consultation wanted")
    page.get_by_label("Hours wanted").fill("3")
    page.get_by_role("button", name="Submit the request").click()
    expect(page.get_by_text("Awaiting triage").first).to_be_visible()
    expect(page.locator("main")).to_contain_text("Hours wanted")
    expect(page.locator("main")).to_contain_text("3 hours")
