"""Issue 18, done-when: for every role's main pages, at a phone (390), a tablet (820), a desktop
(1280) and a desktop at 200% zoom (1280 / 2 = a 640 px CSS viewport: device_scale_factor does
not zoom), no page scrolls sideways outside a table's own scroll area, every navigation link
is reachable and visible, and axe-core finds 0 violations and 0 colour-contrast "needs review"
results, on the pages and in their htmx states.

One browser for the suite; one signed-in context per role, resized between widths."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal.models import ROLES
from tests.factories import plans as fp

from . import axe

pytestmark = pytest.mark.browser

SIZES = {"phone": (390, 844), "tablet": (820, 1180), "desktop": (1280, 900),
         "desktop-200%": (640, 450)}
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
        _open_menu(pg)
        problems += [f"{where} at {size}: nav link not visible: {x}"
                     for x in pg.evaluate(NAV_OFF)]
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
