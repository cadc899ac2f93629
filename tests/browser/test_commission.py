"""Issue 16 item 1 in Chromium at phone, tablet and desktop widths: the commissioner deploys a
colleague from the ranked list (a bad number of days first, refused beside the field), the
supported school agrees to them, and the commissioner writes a mid-point QA note that the
commission page shows."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal.extensions import db as _db
from portal.models import Deployment
from tests.factories import advance, commit
from tests.factories import commissions as fc

pytestmark = pytest.mark.browser

WIDTHS = {"phone": (390, 844), "tablet": (820, 1180), "desktop": (1280, 900)}


def _sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Email address")).to_be_visible()


def _fits(page, selector: str, width: int) -> None:
    right = page.evaluate(
        "(s) => Math.max(...[...document.querySelectorAll(s + ', ' + s + ' *')]"
        ".filter(e => !e.closest('table'))"
        ".map(e => e.getBoundingClientRect().right))", selector)
    assert right <= width, f"{selector} reaches {right}px on a {width}px screen"


@pytest.mark.parametrize("width", list(WIDTHS))
def test_the_commission_journey(page, sign_in, db, width):
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
    cw = fc.commission_world()
    commission_id, colleague_id = cw.commission.id, cw.colleague.id
    commissioner, colleague = cw.commissioner.email, cw.colleague.name
    head = cw.w.user("a", "headteacher").email
    _db.session.rollback()

    # the commissioner deploys a colleague from the ranked list
    sign_in(page, commissioner)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.goto(f"/commissions/{commission_id}")
    card = page.locator(f"#colleague-{colleague_id}")
    expect(card.get_by_role("heading")).to_contain_text(colleague)
    _fits(page, "#deploy", WIDTHS[width][0])
    card.get_by_label(f"Days asked of {colleague}").fill("2.25")
    card.get_by_role("button", name=f"Deploy {colleague}").click()
    expect(page.locator(f"#days-{colleague_id}-error")).to_contain_text("Whole or half days")
    _db.session.expire_all()
    assert _db.session.query(Deployment).filter(Deployment.commission_id.is_not(None)).count() \
        == 0
    _db.session.rollback()
    page.locator(f"#colleague-{colleague_id}").get_by_label(
        f"Days asked of {colleague}").fill("6")
    page.locator(f"#colleague-{colleague_id}").get_by_role(
        "button", name=f"Deploy {colleague}").click()
    expect(page.locator(".flashes")).to_contain_text("is proposed under the commission")
    people = page.locator("#people")
    expect(people).to_contain_text(colleague)
    expect(people).to_contain_text("Waiting for the school")
    person = _db.session.query(Deployment).filter(Deployment.commission_id.is_not(None)).one()
    person_id = person.id
    _db.session.rollback()
    _sign_out(page)

    # the supported school agrees to them (Sefton C)
    sign_in(page, head)
    page.goto(f"/deployments/{person_id}")
    expect(page.locator("#panel-commission")).to_contain_text("Part of a commission")
    page.get_by_role("button", name="Confirm the system leader").click()
    expect(page.locator(".flashes")).to_contain_text("You confirmed")
    _sign_out(page)

    # the home school and the colleague agree and everyone signs (as their own tests show)
    person = _db.session.get(Deployment, person_id)
    advance(person, "active", delivered=2)
    commit()
    _db.session.remove()

    # the commissioner's mid-point QA note (Sefton D)
    sign_in(page, commissioner)
    page.goto(f"/deployments/{person_id}/evaluations/qa")
    page.get_by_label("Is it working?").fill("Yes: reasoning is planned into every lesson.")
    page.get_by_label("Next steps").fill("Joint book look before the next visit.")
    page.get_by_role("button", name="Record the review").click()
    expect(page.locator(".flashes")).to_contain_text("quality-assurance review was recorded")
    page.goto(f"/commissions/{commission_id}")
    expect(page.locator(".qa-note")).to_contain_text(f"Mid-point review of {colleague}")
    expect(page.locator(".qa-note")).to_contain_text("reasoning is planned into every lesson")
    expect(page.locator(f"#person-{person_id}")).to_contain_text("Working")
    assert page.csp_violations == []
