"""The main navigation on a phone, a tablet, a desktop and at 200% zoom (issue 18, item 1).

Before: ``ul.nav`` was a flex row that never wrapped; at 820 px a co-ordinator lost Admin,
Agreement terms, Outbox and Your data off the blue band (white on white), and at 390 px a
director lost eight links. Now every link is reachable and visible at every width: behind a
Menu button with JavaScript, wrapped onto the band without it, and the page never scrolls
sideways."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

# (width, height, device scale) — 1280 at 200% zoom lays out like 640 CSS pixels
SIZES = {"320": (320, 640), "phone": (390, 844), "tablet": (820, 1180), "desktop": (1280, 900),
         "desktop-200%": (640, 450)}


def _links_visible_on_the_band(pg) -> list[str]:
    """The nav links that are off screen or not drawn on the header's blue band."""
    return pg.evaluate("""() => {
      const band = document.querySelector('.site-header').getBoundingClientRect();
      const bad = [];
      for (const a of document.querySelectorAll('.nav a')) {
        const r = a.getBoundingClientRect();
        const inside = r.width > 0 && r.height > 0 && r.left >= 0 && r.right <= innerWidth + 1
          && r.top >= band.top - 1 && r.bottom <= band.bottom + 1;
        if (!inside) bad.push(a.textContent.trim());
      }
      return bad;
    }""")


def _scrolls_sideways(pg) -> bool:
    return pg.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("role", ["admin", "director"])
def test_every_navigation_link_is_reachable_and_visible(page, sign_in, world, role, size):
    page.set_viewport_size(dict(zip(("width", "height"), SIZES[size], strict=True)))
    sign_in(page, world.user("a", role).email)
    page.goto("/")
    links = page.locator(".nav a")
    assert links.count() >= 5
    toggle = page.get_by_role("button", name="Menu")
    if toggle.is_visible():
        assert toggle.get_attribute("aria-expanded") == "false"
        assert not links.first.is_visible()
        toggle.click()
        assert toggle.get_attribute("aria-expanded") == "true"
        assert links.first.evaluate("el => el === document.activeElement")
    else:
        assert SIZES[size][0] > 960  # only a wide screen shows the links without a menu
    assert _links_visible_on_the_band(page) == []
    assert not _scrolls_sideways(page)
    # Escape folds the menu again and puts focus back on the button
    if toggle.is_visible():
        page.keyboard.press("Escape")
        assert toggle.get_attribute("aria-expanded") == "false"
        assert toggle.evaluate("el => el === document.activeElement")


@pytest.mark.parametrize("width", [320, 390, 820])
def test_without_javascript_every_link_wraps_onto_the_band(browser, live_server, world, width):
    from tests.factories import PASSWORD

    context = browser.new_context(base_url=live_server, java_script_enabled=False,
                                  viewport={"width": width, "height": 800})
    try:
        pg = context.new_page()
        pg.goto("/login")
        pg.get_by_label("Email address").fill(world.user("a", "director").email)
        pg.get_by_label("Password").fill(PASSWORD)
        pg.get_by_role("button", name="Sign in").click()
        pg.wait_for_url("**/")
        assert not pg.get_by_role("button", name="Menu").is_visible()
        assert pg.locator(".nav a").count() >= 5
        assert _links_visible_on_the_band(pg) == []
        assert not _scrolls_sideways(pg)
    finally:
        context.close()


def _luminance(rgb: str) -> float:
    import re

    r, g, b = (int(x) / 255 for x in re.findall(r"\d+", rgb)[:3])

    def lin(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)


def test_the_open_button_on_notifications_is_not_white_on_white(page, sign_in, world):
    """Issue 18, item 6: "Open" reused the header's white .button-link."""
    from portal.domain import notify
    from portal.extensions import db

    head = world.user("a", "headteacher")
    notify.notify([head], "Something to open", "/", email=False)
    db.session.commit()
    sign_in(page, head.email)
    page.goto("/notifications/")
    button = page.get_by_role("button", name="Open").first
    colour = button.evaluate("el => getComputedStyle(el).color")
    backdrop = button.evaluate("""el => { let e = el; while (e) { const c = getComputedStyle(e)
        .backgroundColor; if (c && c !== 'rgba(0, 0, 0, 0)' && c !== 'transparent') return c;
        e = e.parentElement; } return 'rgb(255, 255, 255)'; }""")
    hi, lo = sorted((_luminance(colour), _luminance(backdrop)), reverse=True)
    assert (hi + 0.05) / (lo + 0.05) >= 4.5, (colour, backdrop)


def test_the_menu_opens_with_one_click_when_htmx_arrives_late(page, sign_in, world):
    """htmx-loader.js repeats DOMContentLoaded for an htmx that arrived late; the menu must not
    wire its button twice (two listeners toggled it open and shut again on one click)."""
    page.set_viewport_size({"width": 390, "height": 800})
    sign_in(page, world.user("a", "director").email)
    page.goto("/")
    page.wait_for_function("window.htmx !== undefined")
    page.evaluate("document.dispatchEvent(new Event('DOMContentLoaded'))")
    toggle = page.get_by_role("button", name="Menu")
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    assert page.locator(".nav a").first.is_visible()
