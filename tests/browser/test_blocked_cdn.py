"""Issue 15 item 11: a network that silently drops the CDN never stalls a page. The CDN is
routed to a request that never answers: pages still render at once, a plain form posts, and
within a few seconds htmx runs from the portal's own copy (an htmx panel swaps in place). When
the CDN answers late, after the portal's copy took over, its copy never runs as well."""

from __future__ import annotations

import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import expect

from portal.extensions import db as _db
from tests.factories import PASSWORD
from tests.factories import agreements as fa

pytestmark = pytest.mark.browser

CDN = "https://cdn.jsdelivr.net/**"
VENDOR = Path(__file__).resolve().parents[2] / "static" / "vendor" / "htmx.min.js"
# how many times htmx initialised the page (each copy that runs fires htmx:load on <body>)
COUNT_INITS = """document.addEventListener("htmx:load", function (e) {
  if (e.target === document.body) { window.__htmxInits = (window.__htmxInits || 0) + 1; }
}, true);"""


@pytest.fixture
def blackhole(page):
    """The CDN swallows every request and never answers (as a filtering proxy may)."""
    held = []
    page.context.unroute(CDN)
    page.context.route(CDN, lambda route: held.append(route))  # never fulfilled
    yield held


def _dom_ready_ms(page) -> float:
    """From the page's first byte to DOMContentLoaded, measured in the page."""
    return page.evaluate("(() => { const n = performance.getEntriesByType('navigation')[0];"
                         " return n.domContentLoadedEventEnd - n.responseStart; })()")


def _sign_in(page, email):
    page.goto("/login", wait_until="domcontentloaded")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_a_page_renders_and_works_at_once_when_the_cdn_never_answers(page, db, blackhole):
    w = fa.ready_world()
    deployment_id = w.a.deployment.id
    email, name = w.user("a", "director").email, w.user("a", "director").name
    _db.session.rollback()
    page.add_init_script(COUNT_INITS)
    started = time.monotonic()
    _sign_in(page, email)  # a plain form posts before any htmx is there
    assert time.monotonic() - started < 5
    assert _dom_ready_ms(page) < 1000
    page.goto(f"/deployments/{deployment_id}/agreement", wait_until="domcontentloaded")
    assert _dom_ready_ms(page) < 1000
    assert blackhole, "the page asked the CDN (and was never answered)"
    # the portal's own copy takes over within a few seconds
    page.wait_for_function("() => window.htmx !== undefined", timeout=5000)
    assert page.locator('script[data-htmx-source="local"]').count() == 1
    # and htmx works: the signing panel is swapped in place, not a new page
    page.evaluate("window.__samePage = true")
    page.get_by_label("Type your full name to sign").fill(name)
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.locator("#agreement-message")).to_have_text("Your signature is recorded.")
    assert page.evaluate("window.__samePage") is True
    assert page.evaluate("window.__htmxInits") == 1
    # the rest of the visit goes straight to the portal's copy: no wait on the next page
    held = len(blackhole)
    page.goto(f"/deployments/{deployment_id}", wait_until="load")
    page.wait_for_function("() => window.htmx !== undefined", timeout=1000)
    assert len(blackhole) == held
    assert page.csp_violations == []


@pytest.fixture
def slow_cdn():
    """A stand-in CDN on loopback that answers with the same htmx file after four seconds."""
    body = VENDOR.read_bytes()

    class Slow(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            time.sleep(4)
            self.send_response(200)
            self.send_header("Content-Type", "application/javascript")
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/htmx.min.js"
    server.shutdown()


def test_a_late_cdn_copy_never_runs_beside_the_portals_own(page, db, slow_cdn):
    """The CDN answers after the fallback took over: only one htmx handles the page."""
    def late(route):
        answer = route.fetch(url=slow_cdn)
        route.fulfill(response=answer)

    page.context.unroute(CDN)
    page.context.route(CDN, late)
    page.add_init_script(COUNT_INITS)
    page.goto("/login", wait_until="domcontentloaded")
    page.wait_for_function("() => window.htmx !== undefined", timeout=5000)
    assert page.locator('script[data-htmx-source="local"]').count() == 1
    page.evaluate("window.__first = window.htmx")
    page.wait_for_load_state("load")  # the CDN copy has arrived meanwhile
    page.wait_for_timeout(500)
    assert page.evaluate("window.__htmxInits") == 1
    assert page.evaluate("window.htmx === window.__first")  # the CDN copy never ran
    assert page.csp_violations == []


def test_a_cdn_that_answers_is_used(page, db):
    """When the CDN answers (here with the same file), its copy runs and the portal's is not
    fetched."""
    body = VENDOR.read_bytes()
    page.context.unroute(CDN)
    page.context.route(CDN, lambda route: route.fulfill(
        status=200, body=body, content_type="application/javascript",
        headers={"Access-Control-Allow-Origin": "*"}))
    page.goto("/login", wait_until="load")
    page.wait_for_function("() => window.htmx !== undefined", timeout=5000)
    assert page.locator('script[data-htmx-source="cdn"]').count() == 1
    assert page.locator('script[data-htmx-source="local"]').count() == 0
    assert re.search(r"htmx", page.evaluate("Object.keys(window).join(' ')"))


def test_a_filter_changed_before_htmx_arrives_still_filters(page, db, sign_in):
    """A filter that updates as it changes (the Money page's "Paid by") had its Filter button
    in <noscript>: changed before htmx started (a slow fallback; here htmx never arrives at
    all), it did nothing. The change now sends the form as a plain GET. (Found as a browser
    test that timed out only on a loaded machine.)"""
    from tests import factories

    w = factories.world()
    _db.session.commit()
    page.context.route("**/static/vendor/htmx.min.js", lambda route: route.abort())
    sign_in(page, w.user("a", "admin").email)
    page.goto("/finance/")
    assert page.evaluate("window.htmx === undefined")
    page.get_by_label("Paid by").select_option("school")
    page.wait_for_url(re.compile(r"/finance/\?.*payer=school"))
    expect(page.get_by_label("Paid by")).to_have_value("school")
    assert page.csp_violations == []
