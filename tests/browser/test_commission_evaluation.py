"""The supported school's headteacher evaluates the commission as a whole in Chromium, on a
phone and a desktop: a draft with a comment on the colleague first, then each person rated and
the whole signed off, shown on the commission's deployment page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal.domain import evaluations as ev
from portal.extensions import db as _db
from tests.factories import advance, commit
from tests.factories import commissions as fc

pytestmark = pytest.mark.browser

WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}


@pytest.mark.parametrize("width", list(WIDTHS))
def test_the_school_evaluates_the_commission_as_a_whole(page, sign_in, db, width):
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
    cw = fc.commission_world()
    person = fc.deploy(cw)
    advance(person, "completed", delivered=12)
    advance(cw.commission, "evaluation", delivered=8)
    ev.forward(cw.commission, cw.w.user("a", "admin"))
    commit()
    commission_id, colleague = cw.commission.id, cw.colleague.name
    outcomes = len(ev.outcomes_for(cw.commission))
    head = cw.w.user("a", "headteacher").email
    _db.session.rollback()

    sign_in(page, head)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.goto(f"/deployments/{commission_id}")
    page.get_by_role("link", name="Evaluate the commission as a whole and sign off").click()
    expect(page.locator("#people-ratings")).to_contain_text(colleague)
    page.get_by_label(f"Comments on {colleague}'s work").fill("Strong coaching of Year 5")
    page.get_by_role("button", name="Save as draft").click()
    expect(page.locator("#draft-note")).to_contain_text("Only you can see it")
    expect(page.get_by_label(f"Comments on {colleague}'s work")).to_have_value(
        "Strong coaching of Year 5")
    # the form fits the screen: no sideways scrolling
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS[width][0]

    page.get_by_role("button", name="Sign off our evaluation").click()
    expect(page.locator(".error-summary")).to_contain_text(
        f"Score the quality of {colleague}'s support")
    page.get_by_label(f"Quality of {colleague}'s support").select_option("4")
    for n in range(1, outcomes + 1):
        page.get_by_label(f"Impact on outcome {n}").select_option("3")
    page.get_by_label("Quality of the system leader's support").select_option("4")
    page.get_by_label("Value for money").select_option("3")
    page.get_by_label("Would you use this system leader again?").select_option("yes")
    page.get_by_role("button", name="Sign off our evaluation").click()
    expect(page.locator(".flashes")).to_contain_text("signed off")
    ratings = page.locator("table.person-ratings")
    expect(ratings).to_contain_text(colleague)
    expect(ratings).to_contain_text("Strong coaching of Year 5")
