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
    results = page.locator("#results")
    assert results.get_by_text("Alpha Leader").is_visible()
    assert results.get_by_text("Lara Maths").is_visible()

    page.get_by_label("Designation").select_option("lle")
    results.get_by_text("1 system leader found").wait_for()
    assert results.get_by_text("Alpha Leader").count() == 0
    assert "designation=lle" in page.url  # shareable

    page.get_by_label("Designation").select_option("")
    results.get_by_text("2 system leaders found").wait_for()
    page.get_by_label("Name").fill("alpha")
    results.get_by_text("1 system leader found").wait_for()
    assert results.get_by_text("Alpha Leader").is_visible()
    assert "q=alpha" in page.url

    page.reload()
    assert page.get_by_label("Name").input_value() == "alpha"
    assert page.csp_violations == []
