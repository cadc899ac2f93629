"""Issue 15 item 3 in Chromium at phone, tablet and desktop widths: the co-ordinator records the
release of a leader whose home school has no login (bad input first: a date in the future is
refused beside the field), and the deployment page shows who released it, how and when, and
who recorded it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from portal.extensions import db as _db
from portal.models import DeploymentResponse
from tests import factories

pytestmark = pytest.mark.browser

WIDTHS = {"phone": (390, 844), "tablet": (820, 1180), "desktop": (1280, 900)}


@pytest.mark.parametrize("width", list(WIDTHS))
def test_the_coordinator_records_a_release_for_a_school_with_no_login(page, sign_in, db,
                                                                      width):
    _w, admin_name = _as_coordinator_of_a_school_without_login(
        page, sign_in, width, factories.world(), "")
    panel = page.locator("#panel-on_behalf")
    expect(panel.get_by_role("heading", name="A school without a login")).to_be_visible()
    _fits(page, "#panel-on_behalf", WIDTHS[width][0])
    form = panel.locator("#on-behalf-form")
    form.get_by_label("Whose answer").select_option(label="Home-school release, Alpha Home "
                                                           "Primary")
    form.get_by_label("Name of the person who answered").fill("Jo Smith")
    form.get_by_label("Their role").fill("headteacher")
    form.get_by_label("How they answered").select_option("phone")
    tomorrow = date.today() + timedelta(days=1)
    form.get_by_label("Date they answered").fill(tomorrow.isoformat())
    form.get_by_role("button", name="Record their answer").click()
    expect(page.locator("#agreed_on-error")).to_contain_text("cannot be in the future")
    expect(page.get_by_label("Name of the person who answered")).to_have_value("Jo Smith")
    _db.session.expire_all()
    assert _db.session.query(DeploymentResponse).count() == 0
    _db.session.rollback()

    yesterday = date.today() - timedelta(days=1)
    page.get_by_label("Date they answered").fill(yesterday.isoformat())
    page.get_by_role("button", name="Record their answer").click()
    when = f"{yesterday.day} {yesterday:%b %Y}"
    expect(page.locator(".flashes")).to_contain_text("Recorded: Home-school release")
    expect(page.locator("#panel-responses .on-behalf")).to_have_text(
        f"Released by Jo Smith, headteacher, by phone on {when} — recorded by {admin_name}")
    expect(page.locator("#panel-on_behalf")).to_have_count(0)
    _fits(page, "#panel-responses", WIDTHS[width][0])
    assert page.csp_violations == []


def _as_coordinator_of_a_school_without_login(page, sign_in, width: str, w, page_path: str):
    """At this width, the leader's home school of ``w`` has no working login, and its
    co-ordinator is signed in on the deployment's page (``page_path`` under it)."""
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
    w.a.users["home_school"].active = False
    _db.session.commit()
    deployment_id, admin = w.a.deployment.id, w.user("a", "admin")
    email, admin_name = admin.email, admin.name
    _db.session.rollback()
    sign_in(page, email)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.goto(f"/deployments/{deployment_id}{page_path}")
    return w, admin_name


def _fits(page, selector: str, width: int) -> None:
    """Nothing of the panel runs off the screen (every field and button within the width)."""
    right = page.evaluate(
        "(s) => Math.max(...[...document.querySelectorAll(s + ', ' + s + ' *')]"
        ".map(e => e.getBoundingClientRect().right))", selector)
    assert right <= width, f"{selector} reaches {right}px on a {width}px screen"


@pytest.mark.parametrize("width", list(WIDTHS))
def test_the_coordinator_records_a_signature_for_a_school_with_no_login(page, sign_in, db,
                                                                        width):
    from tests.factories import agreements as fa

    w, admin_name = _as_coordinator_of_a_school_without_login(
        page, sign_in, width, fa.ready_world(), "/agreement")
    section = page.locator("#sign-on-behalf")
    expect(section.get_by_role("heading", name="A school without a login")).to_be_visible()
    _fits(page, "#sign-on-behalf", WIDTHS[width][0])
    section.get_by_label("Name of the person who agreed").fill("Jo Smith")
    section.get_by_label("Their role").fill("headteacher")
    section.get_by_label("How they agreed").select_option("letter")
    section.get_by_label("Date they agreed").fill(
        (date.today() + timedelta(days=3)).isoformat())
    section.get_by_role("button", name="Record their signature").click()
    expect(page.locator("#agreed_on-error")).to_contain_text("cannot be in the future")
    yesterday = date.today() - timedelta(days=1)
    page.locator("#sign-on-behalf").get_by_label("Date they agreed").fill(yesterday.isoformat())
    page.locator("#sign-on-behalf").get_by_role("button", name="Record their signature").click()
    row = page.locator(f"#slot-home_school-{w.a.home.id}")
    expect(row).to_contain_text(
        f"Signed by Jo Smith, headteacher, by letter on {yesterday.day} {yesterday:%b %Y} — "
        f"recorded by {admin_name}")
    expect(page.locator("#sign-on-behalf")).to_have_count(0)
    _fits(page, ".signatories", WIDTHS[width][0])
    assert page.csp_violations == []
