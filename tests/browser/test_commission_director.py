"""Sefton B in Chromium at phone and desktop widths: the Teaching School headteacher (the
director), given a leader profile by the co-ordinator, leads a commission: signed in, they find
it on their home page and in "Needs your action" (their own directory profile says they are
listed for commissions only), open its action plan, and deploy a colleague
under it from the ranked list."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal.extensions import db as _db
from portal.models import Deployment, LeaderProfile
from tests.factories import advance, commit
from tests.factories import commissions as fc
from tests.factories.alliances import school
from tests.factories.people import user

from .test_commission import _fits

pytestmark = pytest.mark.browser

WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}


def _led_by_the_director():
    """Side a's commission, led by its director with a leader profile (charged as an NLE) at
    the Teaching School, agreed and signed: active, its plan not yet begun."""
    cw = fc.commission_world(status="proposed")
    a = cw.w.a
    director = cw.w.user("a", "director")
    home = school(a.alliance, "Alpha Teaching School")
    director.school_id = home.id
    user(a.alliance, "home_school", home, name="Alpha Teaching School Business Manager")
    _db.session.add(LeaderProfile(user_id=director.id, alliance_id=a.alliance.id,
                                  home_school_id=home.id, designation="nle",
                                  phases="primary", standards_mask=1, capacity_days=10))
    _db.session.flush()
    d = cw.commission
    d.leader_id, d.home_school_id, d.designation = director.id, home.id, "nle"
    advance(d, "active")
    commit()
    return cw, director


@pytest.mark.parametrize("width", list(WIDTHS))
def test_the_teaching_school_head_leads_a_commission(page, sign_in, db, width):
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
    cw, director = _led_by_the_director()
    commission_id, colleague_id = cw.commission.id, cw.colleague.id
    title, colleague, email = cw.commission.request.title, cw.colleague.name, director.email
    _db.session.rollback()

    sign_in(page, email)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    # their own directory profile, listed for commissions only
    page.goto("/directory/me")
    expect(page.locator("h1")).to_have_text("My directory profile")
    expect(page.locator("main")).to_contain_text("lead NLE/LLE commissions only")
    page.goto("/")
    # home: the commission waits for them as its leader ("Needs your action")
    needs = page.locator("main").get_by_role("link", name="Log first contact for")
    expect(needs.first).to_contain_text(title)
    needs.first.click()
    expect(page.locator("h1")).to_contain_text(title)
    expect(page.locator("#panel-commission")).to_contain_text("leads this commission")
    # its action plan is theirs to keep
    page.get_by_role("link", name="Open the action plan").click()
    expect(page).to_have_url(f"{page.url.split('/deployments/')[0]}/deployments/"
                             f"{commission_id}/plan")
    expect(page.locator("main")).to_contain_text(title)
    _fits(page, "main", WIDTHS[width][0])
    page.go_back()
    # and they deploy a colleague under it from the ranked list (their partnership's)
    page.get_by_role("link", name="Open the commission").click()
    card = page.locator(f"#colleague-{colleague_id}")
    expect(card.get_by_role("heading")).to_contain_text(colleague)
    _fits(page, "#deploy", WIDTHS[width][0])
    card.get_by_label(f"Days asked of {colleague}").fill("3")
    card.get_by_role("button", name=f"Deploy {colleague}").click()
    expect(page.locator(".flashes")).to_contain_text("is proposed under the commission")
    expect(page.locator("#people")).to_contain_text(colleague)
    person = _db.session.query(Deployment).filter(Deployment.commission_id == commission_id).one()
    assert person.commissioning_leader_id == director.id and person.half_days_agreed == 6
    _db.session.rollback()
    assert page.csp_violations == []
