"""The live action plan in a real browser: edits appear for viewers; stale saves show a merge."""

from __future__ import annotations

import pytest

from tests.factories import plans as fd

pytestmark = pytest.mark.browser


@pytest.fixture
def second_page(browser, live_server):
    """Another browser (its own cookies), as the headteacher's or a second tab's."""
    context = browser.new_context(base_url=live_server, locale="en-GB",
                                  timezone_id="Europe/London")
    context.set_default_timeout(10_000)
    pg = context.new_page()
    pg.csp_violations = []
    pg.on("console", lambda msg: pg.csp_violations.append(msg.text)
          if "Content Security Policy" in msg.text else None)
    yield pg
    context.close()


@pytest.fixture
def delivery(world):
    plan, o, a1, a2 = fd.plans_world(world)
    return world, plan, a1


def test_leader_edits_during_a_visit_and_the_head_sees_it(page, second_page, sign_in, delivery):
    from playwright.sync_api import expect

    w, plan, a1 = delivery
    url = f"/deployments/{w.a.deployment.id}/plan"
    head = second_page
    sign_in(head, w.user("a", "headteacher").email)
    head.goto(url)
    expect(head.locator(f"#action-{a1.id}")).to_contain_text("Model reasoning talk in Year 4")
    head.evaluate("window.notReloaded = true")  # gone if the page were reloaded

    sign_in(page, w.a.leader.email)
    page.goto(url)
    # click the row itself (not a link) to open it for editing
    page.locator(f"#action-{a1.id} td").first.click()
    box = page.get_by_label("What will be done").first
    expect(box).to_be_focused()
    box.fill("Model reasoning talk in Years 4 and 5")
    page.get_by_label("Status").first.select_option("on_track")
    page.get_by_role("button", name="Save", exact=True).click()
    row = page.locator(f"#action-{a1.id}")
    expect(row).to_contain_text("Model reasoning talk in Years 4 and 5")
    expect(row).to_contain_text("On track")
    assert page.url.endswith(url)  # saved without leaving the page

    # the head's open page picks the change up by polling, without a reload
    expect(head.locator(f"#action-{a1.id}")).to_contain_text(
        "Model reasoning talk in Years 4 and 5", timeout=10_000)
    expect(head.locator(f"#action-{a1.id}")).to_contain_text("On track")
    assert head.evaluate("window.notReloaded") is True

    # keyboard: the Edit link opens a row, Escape closes it unchanged
    page.locator(f"#action-{a1.id} .edit-link").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("What will be done").first).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator(f"#action-{a1.id}.editing")).to_have_count(0)

    # add a row without a reload; the head sees it too
    page.locator("#add-action").get_by_label("What will be done").fill("Book scrutiny in June")
    page.get_by_role("button", name="Add action").click()
    expect(page.locator("#actions-body")).to_contain_text("Book scrutiny in June")
    expect(page.locator("#add-action").get_by_label("What will be done")).to_have_value("")
    expect(head.locator("#actions-body")).to_contain_text("Book scrutiny in June",
                                                           timeout=10_000)
    assert page.csp_violations == [] and head.csp_violations == []


def test_two_leader_tabs_the_stale_save_shows_the_merge_view(page, second_page, sign_in,
                                                             delivery):
    from playwright.sync_api import expect

    w, plan, a1 = delivery
    url = f"/deployments/{w.a.deployment.id}/plan"
    tab1, tab2 = page, second_page
    for tab in (tab1, tab2):
        sign_in(tab, w.a.leader.email)
        tab.goto(url)
        tab.locator(f"#action-{a1.id} .edit-link").click()
        expect(tab.get_by_label("What will be done").first).to_be_visible()

    tab1.get_by_label("What will be done").first.fill("Tab one wording")
    tab1.get_by_role("button", name="Save", exact=True).click()
    expect(tab1.locator(f"#action-{a1.id}")).to_contain_text("Tab one wording")

    tab2.get_by_label("What will be done").first.fill("Tab two wording")
    tab2.get_by_role("button", name="Save", exact=True).click()
    merge = tab2.locator(f"#action-{a1.id}")
    expect(merge).to_contain_text("Someone else changed this action")
    expect(merge.locator(".merge-theirs")).to_contain_text("Tab one wording")
    expect(merge.locator(".merge-mine").get_by_label("What will be done")).to_have_value(
        "Tab two wording")
    expect(merge.locator(".conflict")).to_be_focused()

    merge.locator(".merge-mine").get_by_label("What will be done").fill(
        "Tab one wording, and tab two's")
    tab2.get_by_role("button", name="Save my merged version").click()
    expect(tab2.locator(f"#action-{a1.id}")).to_contain_text("Tab one wording, and tab two's")
    expect(tab2.locator(f"#action-{a1.id}.editing")).to_have_count(0)
    assert tab1.csp_violations == [] and tab2.csp_violations == []
