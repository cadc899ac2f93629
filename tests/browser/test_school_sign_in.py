"""Issue 21 in Chromium, at phone and desktop widths: signing in with the school's account
through a real OpenID provider served by the test (tests/oidc_provider.py), and setting up
two-factor sign-in then signing in with a code."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from playwright.sync_api import expect

from portal.extensions import db as _db
from portal.models import AllianceSignIn, UserIdentity
from tests.conftest import free_port
from tests.factories import PASSWORD
from tests.oidc_provider import Provider

pytestmark = pytest.mark.browser

WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}
TENANT = "11111111-2222-3333-4444-555555555555"


@pytest.fixture(scope="module")
def provider():
    p = Provider(free_port()).start()
    yield p
    p.stop()


@pytest.fixture
def school_sign_in(app, live_server, world, provider):
    provider.reset()
    provider.register("portal-alpha", "alpha-client-secret-value",
                      f"{live_server}/login/school/callback")
    saved = {k: app.config.get(k) for k in ("OIDC_MICROSOFT_AUTHORITY", "OIDC_CLIENT_SECRETS")}
    app.config["OIDC_MICROSOFT_AUTHORITY"] = provider.base
    app.config["OIDC_CLIENT_SECRETS"] = {"OIDC_CLIENT_SECRET_ALPHA": "alpha-client-secret-value"}
    _db.session.add(AllianceSignIn(alliance_id=world.a.alliance.id, provider="microsoft",
                                   client_id="portal-alpha", tenants=TENANT))
    _db.session.commit()
    provider.issuer_path = f"/{TENANT}/v2.0"
    provider.consent_page = True
    yield provider
    app.config.update(saved)


@pytest.mark.parametrize("width", list(WIDTHS))
def test_a_headteacher_signs_in_with_the_school_microsoft_account(page, world, school_sign_in,
                                                                   width):
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
    head = world.user("a", "headteacher")
    school_sign_in.identity = {"sub": "ms-1", "tid": TENANT, "email": head.email}
    page.goto("/login")
    page.get_by_role("link", name="Sign in with your school's Microsoft or Google account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in with your school account")
    page.get_by_role("button", name=re.compile(r"Alpha.*Microsoft 365")).click()
    # at the provider (another origin): its own page, then back to the portal
    expect(page).to_have_url(re.compile(rf"^{re.escape(school_sign_in.base)}/authorize"))
    page.get_by_role("link", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Headteacher home")
    expect(page.locator(".who-name")).to_have_text(head.name)
    _db.session.rollback()  # a fresh read: the server committed in its own session
    assert _db.session.query(UserIdentity).filter_by(user_id=head.id).count() == 1
    assert page.csp_violations == []


@pytest.mark.parametrize("width", list(WIDTHS))
def test_an_unknown_school_account_is_refused_in_plain_words(page, world, school_sign_in,
                                                             width):
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
    school_sign_in.identity = {"sub": "ms-2", "tid": TENANT,
                               "email": "new.teacher@alpha.example.org"}
    page.goto("/login/school")
    page.get_by_role("button", name=re.compile(r"Alpha.*Microsoft 365")).click()
    page.get_by_role("link", name="Continue").click()
    expect(page.get_by_text("There is no account in this alliance for "
                            "new.teacher@alpha.example.org")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/login/school$"))
    assert page.csp_violations == []


@pytest.mark.parametrize("width", list(WIDTHS))
def test_setting_up_two_factor_then_signing_in_with_a_code(page, world, sign_in, width):
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
    user = world.user("a", "director")
    sign_in(page, user.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Teaching School Director home")
    page.goto("/account/data")
    page.get_by_role("link", name="Two-factor sign-in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-factor sign-in")
    expect(page.locator(".qr svg")).to_be_visible()
    secret = page.get_by_test_id("secret").inner_text().replace(" ", "")
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.locator("#code-error")).to_contain_text("That code is not right")
    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your recovery codes")
    expect(page.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)
    page.get_by_role("link", name="I have kept them: continue").click()
    # a new browser session: the password, then the code
    page.context.clear_cookies()
    sign_in(page, user.email, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your sign-in code")
    page.get_by_label("Code").fill(pyotp.TOTP(secret).at(time.time() + 30))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Teaching School Director home")
    assert page.csp_violations == []
