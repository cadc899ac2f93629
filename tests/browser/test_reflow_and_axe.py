"""Issue 18, done-when: for every role's main pages, at a phone (390), a tablet (820), a desktop
(1280) and a desktop at 200% zoom (1280 / 2 = a 640 px CSS viewport: device_scale_factor does
not zoom), no page scrolls sideways outside a table's own scroll area, every navigation link
is reachable and visible, and axe-core finds 0 violations and 0 colour-contrast "needs review"
results, on the pages and in their htmx states.

One browser for the suite; one signed-in context per role, resized between widths."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from portal.models import ROLES
from tests.factories import plans as fp

from . import axe

pytestmark = pytest.mark.browser

SIZES = {"phone": (390, 844), "tablet": (820, 1180), "desktop": (1280, 900),
         "desktop-200%": (640, 450)}
ERROR_TITLE = re.compile(r"^Error: ")
AXE_SIZES = ("phone", "desktop")  # axe at the extremes; layout checks at every size

# Elements that stick out past the window, unless inside an element that scrolls on its own.
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const scrolls = (el) => { for (let e = el.parentElement; e; e = e.parentElement) {
      const s = getComputedStyle(e);
      // a table's own scroll area, or a box that clips what is inside it (visually hidden)
      if (s.overflowX !== 'visible' || s.clip !== 'auto') return true; } return false; };
  const out = [];
  if (document.documentElement.scrollWidth > width + 1)
    out.push('page ' + document.documentElement.scrollWidth + 'px wide in ' + width + 'px');
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if ((r.right > width + 1 || r.left < -1) && !scrolls(el)
        && getComputedStyle(el).position !== 'fixed' && !el.closest('.visually-hidden, .skip-link'))
      out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + '.' + el.className
               + ' ' + Math.round(r.left) + '..' + Math.round(r.right));
  }
  return out.slice(0, 8);
}"""

NAV_OFF = """() => {
  const band = document.querySelector('.site-header').getBoundingClientRect();
  const bad = [];
  for (const a of document.querySelectorAll('.nav a')) {
    const r = a.getBoundingClientRect();
    const inside = r.width > 0 && r.height > 0 && r.left >= 0
      && r.right <= document.documentElement.clientWidth + 1
      && r.top >= band.top - 1 && r.bottom <= band.bottom + 1;
    if (!inside) bad.push(a.textContent.trim());
  }
  return bad;
}"""


def _open_menu(pg) -> None:
    toggle = pg.get_by_role("button", name="Menu")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") == "false":
        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "true")


def _close_menu(pg) -> None:
    toggle = pg.get_by_role("button", name="Menu")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") == "true":
        toggle.click()


def _check_page(pg, where: str, size: str, problems: list[str]) -> None:
    width, height = SIZES[size]
    pg.set_viewport_size({"width": width, "height": height})
    pg.wait_for_timeout(150)  # portal.js re-checks its scrolling tables 100 ms after a resize
    problems += [f"{where} at {size}: sticks out: {x}" for x in pg.evaluate(OVERFLOW)]
    if pg.locator(".nav a").count():
        folded = pg.get_by_role("button", name="Menu").is_visible()
        _open_menu(pg)
        problems += [f"{where} at {size}: nav link not visible: {x}"
                     for x in pg.evaluate(NAV_OFF)]
        if folded:
            problems += [f"{where} at {size}: sticks out with the menu open: {x}"
                         for x in pg.evaluate(OVERFLOW)]
            if size in AXE_SIZES:
                problems += axe.check(pg, f"{where} at {size} (menu open)")
            _close_menu(pg)
    if size in AXE_SIZES:
        problems += axe.check(pg, f"{where} at {size}")


def _main_pages(pg) -> list[str]:
    pg.goto("/")
    hrefs = pg.locator(".nav a").evaluate_all("els => els.map(a => a.getAttribute('href'))")
    return ["/", *dict.fromkeys(hrefs), "/notifications/"]


@pytest.mark.parametrize("role", list(ROLES))
def test_every_main_page_reflows_and_passes_axe(page, sign_in, world, role):
    axe.install()
    fp.plans_world(world)
    user = world.user("a", role) if role != "sle" else world.a.leader
    extra = [f"/deployments/{world.a.deployment.id}"]
    if role in ("sle", "headteacher", "director", "admin"):
        extra.append(f"/deployments/{world.a.deployment.id}/plan")
    sign_in(page, user.email)
    problems: list[str] = []
    for url in _main_pages(page) + extra:
        response = page.goto(url)
        if response is None or response.status >= 400:
            continue  # a page this role may not open is the access matrix's business
        for size in SIZES:
            _check_page(page, url, size, problems)
    assert problems == [], "\n".join(problems)
    assert page.csp_violations == []


def _axe_at(pg, where: str, problems: list[str]) -> None:
    for size in AXE_SIZES:
        width, height = SIZES[size]
        pg.set_viewport_size({"width": width, "height": height})
        pg.wait_for_timeout(150)
        problems += axe.check(pg, f"{where} at {size}")
        problems += [f"{where} at {size}: sticks out: {x}" for x in pg.evaluate(OVERFLOW)]


def test_the_htmx_states_of_signing_pass_axe(page, sign_in, db):
    from portal.extensions import db as _db
    from tests.factories import agreements as fa

    axe.install()
    w = fa.ready_world()
    deployment_id, leader = w.a.deployment.id, w.a.leader
    name = leader.name
    _db.session.rollback()
    sign_in(page, leader.email)
    page.goto(f"/deployments/{deployment_id}/agreement")
    problems: list[str] = []
    _axe_at(page, "agreement", problems)
    page.get_by_label("Type your full name to sign").fill("Not My Name")
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page).to_have_title(ERROR_TITLE)
    _axe_at(page, "agreement, wrong name", problems)
    page.get_by_label("Type your full name to sign").fill(name)
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.locator("#agreement-message")).to_have_text("Your signature is recorded.")
    expect(page).not_to_have_title(ERROR_TITLE)  # the swap took the error out of the title
    _axe_at(page, "agreement, signed", problems)
    page.goto(f"/deployments/{deployment_id}/agreement/print")
    _axe_at(page, "printable agreement", problems)
    assert problems == [], "\n".join(problems)


def test_the_htmx_states_of_the_plan_pass_axe(page, sign_in, world):
    axe.install()
    plan, o, a1, a2 = fp.plans_world(world)
    sign_in(page, world.a.leader.email)
    page.goto(f"/deployments/{world.a.deployment.id}/plan")
    problems: list[str] = []
    page.set_viewport_size({"width": 1280, "height": 900})
    page.locator(f"#action-{a1.id} .edit-link").click()
    row_form = page.locator(f"#action-{a1.id} form.row-form")
    expect(row_form).to_be_visible()
    _axe_at(page, "plan, row open", problems)
    page.set_viewport_size({"width": 1280, "height": 900})
    row_form.get_by_label("What will be done").fill("")
    row_form.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(f"#action-{a1.id} .error-summary")).to_be_visible()
    expect(page).to_have_title(ERROR_TITLE)
    _axe_at(page, "plan, row refused", problems)
    page.set_viewport_size({"width": 1280, "height": 900})
    row_form = page.locator(f"#action-{a1.id} form.row-form")
    row_form.get_by_label("What will be done").fill("Model reasoning in Years 4 and 5")
    row_form.get_by_label("By when").fill("26/03/2027")
    row_form.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#htmx-status")).to_have_text("Saved.")
    expect(page.locator(f"#action-{a1.id}")).to_contain_text("26 Mar 2027")
    expect(page).not_to_have_title(ERROR_TITLE)
    _axe_at(page, "plan, row saved", problems)
    page.goto(f"/deployments/{world.a.deployment.id}/plan/print")
    _axe_at(page, "printable plan", problems)
    assert problems == [], "\n".join(problems)


def test_report_charts_are_readable_on_a_phone_and_pass_axe_after_a_filter(page, sign_in,
                                                                           world):
    axe.install()
    sign_in(page, world.user("a", "director").email)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/reports/")
    problems: list[str] = []
    texts = page.locator(".chart .chart-label, .chart .chart-value, .chart .chart-tick, "
                         ".chart .chart-axis-label")
    assert texts.count() >= 6
    sizes = texts.evaluate_all("els => els.map(e => parseFloat(getComputedStyle(e).fontSize))")
    assert min(sizes) >= 12, sizes
    ticks = page.locator("#chart-standard .chart-tick")
    assert ticks.all_inner_texts() == ["1", "2", "3", "4"]
    for i in range(4):
        box = ticks.nth(i).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    # the numbers are read once: the charts are hidden from screen readers, the tables are not
    assert page.locator(".chart[aria-hidden=true]").count() == page.locator(".chart").count()
    expect(page.get_by_role("table", name="Deployments by status")).to_be_visible()
    _axe_at(page, "reports", problems)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_label("Phase", exact=True).select_option("primary")  # htmx swaps the report
    page.wait_for_url("**phase=primary**")
    expect(page.locator("#chart-status")).to_be_attached()
    _axe_at(page, "reports, filtered", problems)
    assert problems == [], "\n".join(problems)
