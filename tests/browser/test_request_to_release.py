"""Steps 1-3 in a real browser across the four roles: request, triage and match, confirm,
release and accept, ending with the deployment waiting for its agreement. No CSP violations."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from tests import factories
from tests.factories import requests as fr

pytestmark = pytest.mark.browser


def _sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Email address")).to_be_visible()


def test_request_to_release(page, sign_in, world):
    maths = fr.specialism()
    # a stronger match than Alpha Leader, so the filter visibly changes the list
    factories.leader(world.a.alliance, world.a.other, name="Best Fit", specialisms=[maths],
                     standards=("TS2", "TS6"))
    db.session.commit()
    head = world.user("a", "headteacher")
    start = date.today() + timedelta(days=14)

    # 1. The headteacher writes and submits a request; a mistake is shown beside its field.
    sign_in(page, head.email)
    page.get_by_role("link", name="New request").click()
    expect(page.get_by_role("heading", name="Deployment request")).to_be_visible()
    page.get_by_label("Short title").fill("Browser maths reasoning")
    page.get_by_label(re.compile(r"^TS2: Promote good progress")).check()
    page.get_by_label(re.compile(r"^TS6: Make accurate")).check()
    page.get_by_label("Subject or specialism").select_option(label="Mathematics")
    page.get_by_label("Staff involved (roles, not names)").fill("Two Year 5 class teachers")
    page.get_by_label("Priorities").fill("Reasoning")
    page.get_by_label("Desired outcomes").fill("Pupils explain their reasoning")
    page.get_by_label("Measures of success").fill("Book looks")
    page.get_by_label("Time frame from").fill(start.isoformat())
    page.get_by_label("Time frame to").fill((start - timedelta(days=1)).isoformat())
    page.get_by_label("Days wanted").fill("4")
    page.get_by_role("button", name="Submit the request").click()
    expect(page.locator("#end_date-error")).to_contain_text("on or after its start")
    page.get_by_label("Time frame to").fill((start + timedelta(days=60)).isoformat())
    page.get_by_role("button", name="Submit the request").click()
    expect(page.get_by_text("Awaiting triage").first).to_be_visible()
    request_url = page.url
    _sign_out(page)

    # 2. The co-ordinator accepts it, filters the ranked list without a reload, and proposes.
    sign_in(page, world.user("a", "admin").email)
    page.get_by_role("link", name="Inbox", exact=True).click()
    page.get_by_role("link", name=re.compile(r"^R-")).last.click()
    page.get_by_label("Accept for matching").check()
    page.get_by_role("button", name="Save the decision").click()
    expect(page.get_by_text("Being matched").first).to_be_visible()
    page.get_by_role("link", name="Find a system leader").click()
    expect(page.get_by_role("heading", name=re.compile("Ranked system leaders"))).to_be_visible()
    expect(page.locator("#results tbody tr").first).to_contain_text("Best Fit")
    page.evaluate("window.notReloaded = true")
    page.get_by_label("Name").fill("alpha")
    expect(page.locator("#results tbody tr").first).to_contain_text("Alpha Leader")
    expect(page.locator("#results")).not_to_contain_text("Best Fit")
    assert page.evaluate("window.notReloaded") is True  # filtered in place by htmx
    assert "q=alpha" in page.url
    row = page.locator("tr", has_text="Alpha Leader")
    expect(row).to_contain_text("free for the 4 days asked")
    page.get_by_role("button", name="Propose Alpha Leader").click()
    expect(page.get_by_text("Proposed, awaiting confirmation")).to_be_visible()
    deployment_url = page.url
    _sign_out(page)

    # 3. Receiving head confirms, home school releases, the leader accepts.
    for email, button in ((head.email, "Confirm the system leader"),
                          (world.user("a", "home_school").email, "Agree the release"),
                          (world.a.leader.email, "Accept the deployment")):
        sign_in(page, email)
        expect(page.locator(".notifications-link .count")).to_be_visible()
        page.goto(deployment_url)
        page.get_by_role("button", name=button).click()
        expect(page.get_by_text("You confirmed the proposal")).to_be_visible()
        _sign_out(page)

    sign_in(page, head.email)
    page.goto(deployment_url)
    expect(page.get_by_text("Agreement being signed")).to_be_visible()
    page.goto(request_url)
    expect(page.get_by_text("Matched").first).to_be_visible()
    assert page.csp_violations == []
