"""Issue 15 item 4 in Chromium, at phone, tablet and desktop widths: a headteacher whose sign-in
is older than FRESH_LOGIN_MINUTES types their name and presses Sign, is asked for the password,
gives it, and lands back on the agreement signed, with a message that says so."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from portal.domain import agreements as service
from portal.extensions import db as _db
from portal.models import Signature
from tests.factories import PASSWORD
from tests.factories import agreements as fa

pytestmark = pytest.mark.browser

WIDTHS = {"phone": (390, 844), "tablet": (820, 1180), "desktop": (1280, 900)}


@pytest.mark.parametrize("width", list(WIDTHS))
def test_the_headteacher_signs_after_giving_the_password(page, sign_in, db, clock, width):
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
    w = fa.ready_world()
    deployment_id = w.a.deployment.id
    head = w.user("a", "headteacher")
    email, name = head.email, head.name
    _db.session.rollback()
    sign_in(page, email)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.goto(f"/deployments/{deployment_id}/agreement")
    page.get_by_label("Type your full name to sign").fill(name)
    clock.offset = 16 * 60  # the sign-in is now older than 15 minutes
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.get_by_role("heading", name="Confirm your password")).to_be_visible()
    expect(page.get_by_text("Your signature, with the name you typed, is recorded")) \
        .to_be_visible()
    _db.session.expire_all()
    assert _db.session.query(Signature).count() == 0  # nothing signed before the password
    _db.session.rollback()
    page.get_by_label("Password").fill("not the password at all")
    page.get_by_role("button", name="Confirm and sign").click()
    expect(page.locator("#password-error")).to_contain_text("not right")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm and sign").click()
    expect(page).to_have_url(re.compile(rf"/deployments/{deployment_id}/agreement$"))
    expect(page.get_by_text("Your password is confirmed. Your signature is recorded.")) \
        .to_be_visible()
    expect(page.locator(".signatories tbody .badge", has_text="Signed")).to_have_count(1)
    expect(page.get_by_role("button", name="Sign", exact=True)).to_have_count(0)
    assert page.csp_violations == []
    _db.session.expire_all()
    sig = _db.session.query(Signature).one()
    assert sig.typed_name == name
    assert sig.agreement_id == service.current(deployment_id).id
    _db.session.rollback()
