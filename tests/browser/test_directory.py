"""In a real browser: the directory's live filter updates the results and the address bar."""

from __future__ import annotations

import pytest

from portal.extensions import db
from tests import factories

pytestmark = pytest.mark.browser


def test_directory_live_filter(world, page, sign_in):
    high = factories.school(world.a.alliance, "Alpha High", phase="secondary")
    factories.leader(world.a.alliance, high, designation="lle", name="Lara Maths",
                     phases="secondary")
    db.session.commit()
    sign_in(page, world.user("a", "headteacher").email)
    page.get_by_role("link", name="System leaders").click()
    page.wait_for_url("**/directory/")
    results = page.locator("#results")
    results.get_by_text("2 system leaders found").wait_for()
    results.get_by_role("link", name="Alpha Leader").wait_for()
    results.get_by_role("link", name="Lara Maths").wait_for()

    page.get_by_label("Designation").select_option("lle")
    results.get_by_text("1 system leader found").wait_for()
    assert results.get_by_text("Alpha Leader").count() == 0
    page.wait_for_url("**designation=lle**")  # shareable

    page.get_by_label("Designation").select_option("")
    results.get_by_text("2 system leaders found").wait_for()
    page.get_by_label("Name").fill("alpha")
    results.get_by_text("1 system leader found").wait_for()
    results.get_by_role("link", name="Alpha Leader").wait_for()
    assert results.get_by_role("link", name="Lara Maths").count() == 0
    page.wait_for_url("**q=alpha**")

    page.reload()
    assert page.get_by_label("Name").input_value() == "alpha"
    assert page.csp_violations == []
