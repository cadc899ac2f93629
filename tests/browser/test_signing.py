"""All four signatories sign the agreement in Chromium: the htmx panel updates in place, the
deployment becomes active, and the browser reports no Content Security Policy violation."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal.domain import agreements as service
from portal.domain import signing
from portal.extensions import db as _db
from portal.models import Deployment
from tests.factories import agreements as fa

pytestmark = pytest.mark.browser


def test_all_four_sign_in_the_browser(page, sign_in, db):
    w = fa.ready_world()
    deployment_id = w.a.deployment.id
    ag = service.current(deployment_id)
    fingerprint = signing.fingerprint(ag.content_hash)
    token = ag.verify_token
    people = [(u.email, u.name) for u in fa.signers(w)]
    _db.session.rollback()  # hold no read transaction while the live server writes

    for done, (email, name) in enumerate(people, start=1):
        sign_in(page, email)
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        page.goto(f"/deployments/{deployment_id}/agreement")
        expect(page.locator("#fingerprint")).to_have_text(fingerprint)
        expect(page.locator("#consent-statement")).to_contain_text(f"I, {name}, signing as")
        page.get_by_label("Type your full name to sign").fill(name)
        page.get_by_role("button", name="Sign", exact=True).click()
        # the panel is swapped in place by htmx: same page, new status
        expect(page.locator("#agreement-message")).to_have_text("Your signature is recorded.")
        expect(page.locator(".signatories tbody .badge", has_text="Signed")).to_have_count(done)
        expect(page.get_by_role("button", name="Sign", exact=True)).to_have_count(0)
        assert page.url.endswith(f"/deployments/{deployment_id}/agreement")
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_label("Email address")).to_be_visible()

    sign_in(page, people[0][0])
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.goto(f"/deployments/{deployment_id}/agreement")
    expect(page.get_by_text("Signed by every party")).to_be_visible()
    page.goto(f"/deployments/{deployment_id}/agreement/print")
    expect(page.locator(".evidence-record")).to_have_count(4)
    page.goto(f"/agreements/verify/{token}")
    page.get_by_label("Fingerprint").fill(fingerprint.lower())
    page.get_by_role("button", name="Check").click()
    expect(page.locator("#verify-result")).to_contain_text("Yes: this fingerprint matches")

    assert page.csp_violations == []
    _db.session.expire_all()
    assert _db.session.get(Deployment, deployment_id).status == "active"
    _db.session.rollback()


def test_wrong_name_shows_the_error_beside_the_field(page, sign_in, db):
    w = fa.ready_world()
    deployment_id = w.a.deployment.id
    email = w.user("a", "director").email
    _db.session.rollback()
    sign_in(page, email)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.goto(f"/deployments/{deployment_id}/agreement")
    page.get_by_label("Type your full name to sign").fill("Not Me")
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.locator("#typed_name-error")).to_contain_text("Type your full name exactly")
    expect(page.locator(".signatories tbody .badge", has_text="Signed")).to_have_count(0)
    assert page.csp_violations == []
