"""Planning a visit ahead and logging it as delivered, in a real browser, as a leader on a
phone, a tablet and a desktop (issue 15, item 6)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.factories import plans as fd

pytestmark = pytest.mark.browser

WIDTHS = {"phone": (390, 844), "tablet": (820, 1180), "desktop": (1280, 900)}


@pytest.mark.parametrize("device", list(WIDTHS))
def test_leader_plans_a_visit_then_logs_it_as_delivered(page, sign_in, world, device):
    from playwright.sync_api import expect

    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[device], strict=True)))
    fd.plans_world(world)
    d = world.a.deployment
    sign_in(page, world.a.leader.email)
    page.goto(f"/deployments/{d.id}")
    page.get_by_role("link", name="Plan a visit").click()
    today = date.today()
    page.get_by_label("Date of the visit").fill(today.isoformat())
    page.get_by_label("Half day").check()
    page.get_by_label("What is planned (optional)").fill("Observe Year 4 maths")
    page.get_by_role("button", name="Plan the visit").click()
    expect(page.locator("body")).to_contain_text(f"Visit planned for {today.day} {today:%b %Y}")
    planned = page.locator("table", has_text="What is planned")
    expect(planned).to_contain_text("half a day")
    expect(planned).to_contain_text("Observe Year 4 maths")
    # a date in the past is refused beside the field, nothing saved
    page.get_by_role("link", name="Plan a visit").click()
    page.get_by_label("Date of the visit").fill((today - timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Plan the visit").click()
    expect(page.locator("#visit_date-error")).to_contain_text("today or later")
    page.go_back()
    page.goto(f"/deployments/{d.id}")
    page.get_by_role("link", name="Log as delivered").first.click()
    page.get_by_label("What was done").fill("Team-taught a lesson")
    page.get_by_role("button", name="Log as delivered").click()
    expect(page.locator("body")).to_contain_text("logged as delivered")
    expect(page.locator("#delivery-days")).to_contain_text("half a day of 4 days agreed")
