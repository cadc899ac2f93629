"""Radios and checkboxes are 40 px targets, as in the GOV.UK Design System (issue 18, item 7)."""

from __future__ import annotations

import pytest

from tests.factories import plans as fd

pytestmark = pytest.mark.browser


def _all_at_least_40(pg):
    boxes = pg.locator("main input[type=checkbox], main input[type=radio]")
    assert boxes.count() > 0
    for i in range(boxes.count()):
        b = boxes.nth(i).bounding_box()
        if b is None:  # a hidden one (the Board's picker filters its list)
            continue
        assert b["width"] >= 40 and b["height"] >= 40, (i, b)


def test_request_form_checkboxes_and_radios_are_40px(page, sign_in, world):
    sign_in(page, world.user("a", "headteacher").email)
    page.goto("/requests/new")
    _all_at_least_40(page)


def test_plan_checkbox_is_40px(page, sign_in, world):
    fd.plans_world(world)
    sign_in(page, world.a.leader.email)
    page.goto(f"/deployments/{world.a.deployment.id}/plan")
    _all_at_least_40(page)
