"""Sign-in and sign-out in a real browser, for every role."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests import factories

pytestmark = pytest.mark.browser

ROLES = ("headteacher", "sle", "home_school", "director", "admin", "board")
HTMX_FILE = Path(__file__).resolve().parents[2] / "static" / "vendor" / "htmx.min.js"


@pytest.mark.parametrize("role", ROLES)
def test_each_role_signs_in_sees_its_home_and_signs_out(page, world, sign_in, role):
    user = world.user("a", role)
    sign_in(page, user.email)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{user.role_label} home")
    expect(page.locator(".who-name")).to_have_text(user.name)
    # the local copy of htmx loaded although the CDN failed (it loads without holding the
    # page up, so it may arrive just after the page is drawn)
    page.wait_for_function("() => typeof window.htmx === 'object'", timeout=5000)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=(%2F|/)$"))
    assert page.csp_violations == []


def test_wrong_password_is_explained_beside_the_field(page, world, sign_in):
    sign_in(page, world.user("a", "headteacher").email, "not the password")
    error = page.locator("#password-error")
    expect(error).to_contain_text("The email address or password is not right")
    expect(page.get_by_label("Password")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("alert")).to_contain_text("There is a problem")
    assert page.url.endswith("/login")
    assert page.csp_violations == []


def test_next_page_is_honoured_after_sign_in(page, world, sign_in):
    page.goto("/deployments/")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("Email address").fill(world.user("a", "admin").email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/deployments/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Deployments")


def test_status_filter_updates_results_without_a_reload(page, world, sign_in):
    sign_in(page, world.user("a", "admin").email)
    page.goto("/requests/")
    page.evaluate("window.__same_document = true")
    expect(page.locator("#results")).to_contain_text(world.a.request.reference)
    page.get_by_label("Status").select_option("withdrawn")
    expect(page.locator("#results")).to_contain_text("No requests match.")
    expect(page).to_have_url(re.compile(r"status=withdrawn"))
    assert page.evaluate("window.__same_document") is True  # htmx swapped, no navigation
    assert page.csp_violations == []


def test_cdn_copy_is_used_when_it_loads_and_matches_its_integrity_hash(browser, live_server,
                                                                       db, world, sign_in):
    context = browser.new_context(base_url=live_server)
    served = []

    def cdn(route):
        served.append(route.request.url)
        route.fulfill(status=200, body=HTMX_FILE.read_bytes(),
                      headers={"Content-Type": "application/javascript",
                               "Access-Control-Allow-Origin": "*"})

    context.route("https://cdn.jsdelivr.net/**", cdn)
    pg = context.new_page()
    local = []
    pg.on("request", lambda r: local.append(r.url) if "/static/vendor/" in r.url else None)
    sign_in(pg, world.user("a", "director").email)
    expect(pg.get_by_role("heading", level=1)).to_have_text("Teaching School Director home")
    pg.wait_for_function("() => typeof window.htmx === 'object'", timeout=5000)
    assert served, "the page asked the CDN for htmx"
    assert local == [], "the fallback was not needed"
    context.close()
