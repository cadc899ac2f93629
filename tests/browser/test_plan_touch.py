"""The action plan by touch on a phone (390 px) and a portrait tablet (820 px): a leader edits,
saves, moves and removes a row with taps; the page never scrolls sideways, every row button is
on screen and at least 44 px tall (issue 18, item 2)."""

from __future__ import annotations

import pytest

from tests.factories import plans as fd

pytestmark = pytest.mark.browser

SIZES = {"phone": (390, 844), "tablet": (820, 1180)}


@pytest.fixture(params=sorted(SIZES))
def touch_page(request, browser, live_server, db):
    width, height = SIZES[request.param]
    context = browser.new_context(base_url=live_server, locale="en-GB",
                                  timezone_id="Europe/London", has_touch=True, is_mobile=False,
                                  viewport={"width": width, "height": height})
    context.set_default_timeout(10_000)
    context.route("https://cdn.jsdelivr.net/**", lambda route: route.abort())
    pg = context.new_page()
    pg.csp_violations = []
    pg.on("console", lambda msg: pg.csp_violations.append(msg.text)
          if "Content Security Policy" in msg.text else None)
    yield pg
    context.close()


def no_sideways_scroll(pg):
    scroll, client = pg.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert scroll <= client, f"the page scrolls sideways: {scroll}px in a {client}px window"


def row_buttons_fit(pg, row_id: str):
    width = pg.viewport_size["width"]
    tools = pg.locator(f"#{row_id} .row-tools").locator("a, button")
    assert tools.count() == 4  # Edit, Up, Down, Remove
    for i in range(tools.count()):
        box = tools.nth(i).bounding_box()
        name = tools.nth(i).inner_text()
        assert box is not None, name
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, (name, box, width)
        assert box["height"] >= 44, (name, box)
        assert box["width"] >= 44, (name, box)


def test_plan_by_touch_edit_save_move_remove(touch_page, sign_in, world):
    from playwright.sync_api import expect

    pg = touch_page
    plan, o, a1, a2 = fd.plans_world(world)
    url = f"/deployments/{world.a.deployment.id}/plan"
    sign_in(pg, world.a.leader.email)
    pg.goto(url)
    expect(pg.locator("h1")).to_contain_text("Action plan")
    no_sideways_scroll(pg)
    for a in (a1, a2):
        row_buttons_fit(pg, f"action-{a.id}")
    # the hint speaks to a touch screen as well as a mouse
    hint = pg.locator("p.hint").first.inner_text()
    assert "Click" not in hint

    # a plan textarea is a sensible height (the admin's tall terms box stays on the admin page)
    add_box = pg.locator("#add-action").get_by_label("What will be done")
    assert add_box.bounding_box()["height"] < 200

    # edit by tapping the row's Edit link; the open form fits the screen
    pg.locator(f"#action-{a1.id} .edit-link").tap()
    row = pg.locator(f"#action-{a1.id}")
    box = row.get_by_label("What will be done")
    expect(box).to_be_focused()
    no_sideways_scroll(pg)
    width = pg.viewport_size["width"]
    for label in ("What will be done", "Who", "By when", "Status", "Success criteria"):
        field = row.get_by_label(label, exact=True)
        fb = field.bounding_box()
        assert fb["x"] >= 0 and fb["x"] + fb["width"] <= width, (label, fb, width)
    box.fill("Model reasoning talk in Years 4 and 5")
    row.get_by_label("Status").select_option("on_track")
    # saving shows "Saving…" and disables the button while the request is under way
    pg.evaluate("""() => document.body.addEventListener("htmx:beforeSend", (e) => {
        const form = e.target.closest("form"); if (!form || !form.matches(".row-form")) return;
        window.sending = {note: getComputedStyle(form.querySelector(".saving-note")).display,
                          text: form.querySelector(".saving-note").textContent,
                          disabled: form.querySelector("button[type=submit]").disabled};
    })""")
    row.get_by_role("button", name="Save", exact=True).tap()
    expect(row).to_contain_text("Model reasoning talk in Years 4 and 5")
    expect(row).to_contain_text("On track")
    assert pg.evaluate("window.sending") == {"note": "inline", "text": "Saving…",
                                             "disabled": True}
    assert pg.url.endswith(url)
    no_sideways_scroll(pg)
    row_buttons_fit(pg, f"action-{a1.id}")

    # move the first action down by tapping
    body = pg.locator("#actions-body tr.plan-row")
    expect(body.first).to_have_id(f"action-{a1.id}")
    pg.locator(f"#action-{a1.id}").get_by_role("button", name="Down").tap()
    expect(body.first).to_have_id(f"action-{a2.id}")
    expect(body.nth(1)).to_have_id(f"action-{a1.id}")
    no_sideways_scroll(pg)
    for a in (a1, a2):
        row_buttons_fit(pg, f"action-{a.id}")

    # remove it, accepting the confirmation
    pg.once("dialog", lambda dialog: dialog.accept())
    pg.locator(f"#action-{a1.id}").get_by_role("button", name="Remove").tap()
    expect(pg.locator(f"#action-{a1.id}")).to_have_count(0)
    expect(body).to_have_count(1)
    no_sideways_scroll(pg)
    row_buttons_fit(pg, f"action-{a2.id}")
    assert pg.csp_violations == []


def test_phone_shows_each_action_as_a_labelled_card(touch_page, sign_in, world):
    pg = touch_page
    plan, o, a1, a2 = fd.plans_world(world)
    sign_in(pg, world.a.leader.email)
    pg.goto(f"/deployments/{world.a.deployment.id}/plan")
    row = pg.locator(f"#action-{a1.id}")
    display = row.evaluate("el => getComputedStyle(el).display")
    label = row.locator("td[data-label='Who']").evaluate(
        "el => getComputedStyle(el, '::before').content")
    if pg.viewport_size["width"] < 768:
        assert display == "block"  # a card, not a table row
        assert label == '"Who"'
        # the cards are not squeezed into the tables' sideways-scrolling area
        assert pg.locator("#action-table").evaluate(
            "el => getComputedStyle(el).overflowX") == "visible"
    else:
        assert display == "table-row"
        # the table fits the tablet's width: nothing hangs off the edge
        tb = pg.locator("#action-table").bounding_box()
        assert tb["x"] + tb["width"] <= pg.viewport_size["width"]


def test_the_merge_view_fits_the_screen(touch_page, sign_in, world):
    """A stale save answers 409 with the merge view: it fits the phone and the tablet, its
    form is usable and the words are not one to a line."""
    from playwright.sync_api import expect

    pg = touch_page
    plan, o, a1, a2 = fd.plans_world(world)
    sign_in(pg, world.a.leader.email)
    pg.goto(f"/deployments/{world.a.deployment.id}/plan")
    pg.locator(f"#action-{a1.id} .edit-link").tap()
    row = pg.locator(f"#action-{a1.id}")
    row.get_by_label("What will be done").fill("My wording from the classroom")

    other = pg.context.new_page()  # a second tab saves first, so this form is stale
    other.goto(f"/deployments/{world.a.deployment.id}/plan")
    other.locator(f"#action-{a1.id} .edit-link").tap()
    other.locator(f"#action-{a1.id}").get_by_label("What will be done").fill(
        "Someone else's wording, saved first")
    other.locator(f"#action-{a1.id}").get_by_role("button", name="Save", exact=True).tap()
    expect(other.locator(f"#action-{a1.id}")).to_contain_text("saved first")
    other.close()

    row.get_by_role("button", name="Save", exact=True).tap()
    expect(row).to_contain_text("Someone else changed this action")
    no_sideways_scroll(pg)
    width = pg.viewport_size["width"]
    for part in (".conflict", ".merge-theirs", ".merge-mine"):
        b = row.locator(part).bounding_box()
        assert b["x"] >= 0 and b["x"] + b["width"] <= width, (part, b, width)
        assert b["width"] >= 150, (part, b)  # room for more than a word a line
    for label in ("What will be done", "Who", "By when", "Status", "Success criteria"):
        fb = row.locator(".merge-mine").get_by_label(label, exact=True).bounding_box()
        assert fb["x"] >= 0 and fb["x"] + fb["width"] <= width, (label, fb, width)
    row.get_by_role("button", name="Save my merged version").tap()
    expect(row).to_contain_text("My wording from the classroom")
    expect(pg.locator(f"#action-{a1.id}.editing")).to_have_count(0)


def test_an_empty_action_gets_the_portals_error_summary_not_a_browser_bubble(touch_page,
                                                                             sign_in, world):
    """The plan's forms are novalidate: an empty "What will be done" goes to the server, which
    answers with the error summary (focused) and the message beside the field (item 7)."""
    from playwright.sync_api import expect

    pg = touch_page
    plan, o, a1, a2 = fd.plans_world(world)
    sign_in(pg, world.a.leader.email)
    pg.goto(f"/deployments/{world.a.deployment.id}/plan")
    add = pg.locator("#add-action")
    add.get_by_role("button", name="Add action").tap()
    summary = pg.locator("#add-action .error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("Describe the action")
    expect(summary).to_be_focused()
    no_sideways_scroll(pg)
    expect(pg.locator("#actions-body tr.plan-row")).to_have_count(2)  # nothing added
