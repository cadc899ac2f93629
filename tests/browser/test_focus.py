"""Where focus lands after each htmx swap (issue 18, item 4). Before, it fell to <body> after a
wrong name when signing, a signature, and every plan save, move, removal and addition (16 Tabs
back to the name field, 46 back to a plan field)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal.extensions import db as _db
from tests.factories import agreements as fa
from tests.factories import plans as fp

pytestmark = pytest.mark.browser


def _focused(pg) -> str:
    return pg.evaluate("""() => { const e = document.activeElement;
        return e === document.body ? 'BODY' : (e.id || e.tagName + '.' + e.className); }""")


def test_focus_after_signing_swaps(page, sign_in, db):
    w = fa.ready_world()
    deployment_id = w.a.deployment.id
    leader = w.a.leader
    _db.session.rollback()
    sign_in(page, leader.email)
    page.goto(f"/deployments/{deployment_id}/agreement")
    page.get_by_label("Type your full name to sign").fill("Not My Name")
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.locator(":focus")).to_be_attached()  # focus lands (after the settle)
    assert _focused(page) != "BODY"
    assert page.evaluate("document.activeElement.closest('.error-summary') !== null")
    page.get_by_label("Type your full name to sign").fill(leader.name)
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.locator("#agreement-message")).to_have_text("Your signature is recorded.")
    expect(page.locator(":focus")).to_be_attached()
    assert _focused(page) != "BODY"
    assert page.evaluate("document.getElementById('agreement-body').contains("
                         "document.activeElement)")


def test_focus_after_plan_edits(page, sign_in, world):
    plan, o, a1, a2 = fp.plans_world(world)
    url = f"/deployments/{world.a.deployment.id}/plan"
    sign_in(page, world.a.leader.email)
    page.goto(url)
    # save a row: focus on the saved row, and "Saved." is announced
    page.locator(f"#action-{a1.id} .edit-link").click()
    row_form = page.locator(f"#action-{a1.id} form.row-form")
    expect(row_form).to_be_visible()
    row_form.get_by_label("What will be done").fill("Model reasoning in Years 4 and 5")
    row_form.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(f"#action-{a1.id}")).to_contain_text("Years 4 and 5")
    expect(page.locator("#htmx-status")).to_have_text("Saved.")
    assert _focused(page) == f"action-{a1.id}"
    # move a row down: focus stays on that row's "Down" button in the new table
    page.locator(f"#action-{a1.id}").get_by_role("button", name="Down").click()
    expect(page.locator("#htmx-status")).to_have_text("Moved down.")
    assert page.evaluate("document.activeElement.closest('tr') && "
                         "document.activeElement.closest('tr').id") == f"action-{a1.id}"
    # remove a row: focus goes to its table, and "Removed." is announced
    page.once("dialog", lambda d: d.accept())
    page.locator(f"#action-{a2.id}").get_by_role("button", name="Remove").click()
    expect(page.locator(f"#action-{a2.id}")).to_have_count(0)
    expect(page.locator("#htmx-status")).to_have_text("Removed.")
    assert _focused(page) != "BODY"
