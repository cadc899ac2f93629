"""The leader saves the final evaluation as a draft during a visit and finishes it later, in a
browser with JavaScript switched off (the button is a plain submit button), on a phone, a tablet
and a desktop."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.factories import evaluations as fc

pytestmark = pytest.mark.browser

WIDTHS = {"phone": 390, "tablet": 820, "desktop": 1280}


@pytest.mark.parametrize("width", WIDTHS.values(), ids=list(WIDTHS))
def test_the_leader_saves_a_draft_without_javascript_and_finishes_it(browser, live_server, db,
                                                                     width):
    w = fc.evaluations_world()
    d_id, email = w.a.deployment.id, w.user("a", "sle").email
    db.session.remove()
    context = browser.new_context(base_url=live_server, locale="en-GB",
                                  timezone_id="Europe/London", java_script_enabled=False,
                                  viewport={"width": width, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto("/login")
        page.get_by_label("Email address").fill(email)
        page.get_by_label("Password").fill(factories.PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.goto(f"/deployments/{d_id}/evaluations/evaluation")
        page.get_by_label("Overall impact of the deployment").fill("Half way: reasoning grows")
        page.get_by_role("button", name="Save as draft").click()
        expect(page.locator(".flash")).to_contain_text("Your draft is saved")
        expect(page.locator("#draft-note")).to_contain_text("Only you can see it")
        expect(page.get_by_label("Overall impact of the deployment")).to_have_value(
            "Half way: reasoning grows")
        # later: everything else, and send it (still checked in full)
        page.get_by_role("button", name="Submit the final evaluation").click()
        expect(page.locator(".error-summary")).to_contain_text("Choose the impact on outcome 1.")
        for n in (1, 2):
            page.get_by_label(f"Impact on outcome {n}").select_option("3")
            page.get_by_label(f"Evidence for outcome {n}").fill(f"Lesson visits show {n}")
        page.get_by_label("What changed for the teacher or teachers").fill("Planning")
        page.get_by_label("What changed for the pupils").fill("Pupils explain")
        page.get_by_label("Recommendations").fill("Moderate termly")
        page.get_by_label("Exit arrangements").fill("The maths lead coaches")
        page.get_by_role("button", name="Submit the final evaluation").click()
        expect(page.locator(".flash")).to_contain_text("sent to the co-ordinator")
        expect(page.locator("#panel-evaluations")).to_contain_text("Half way: reasoning grows")
    finally:
        context.close()
