"""The home page's "Needs your action" list for every role, its links, the count in the
navigation, other-alliance isolation and its query cost; and the home school's release panel."""

from __future__ import annotations

import re

import pytest

from portal.extensions import db
from portal.models import LeaderProfile
from tests import factories


def _approve_every_release(w):
    """As the demo does: the home school has approved its leaders' release for the year."""
    for p in db.session.query(LeaderProfile).all():
        p.release_approved_days = p.capacity_days
    factories.commit()


def _release_panel(html: str) -> str:
    m = re.search(r'<section class="panel panel-release".*?</section>', html, re.S)
    assert m, "no release panel"
    return m.group(0)


def test_the_release_panel_lists_a_proposal_waiting_for_release(world, client_for):
    """The bug: with every yearly release approved, the panel said "Nothing to approve" while
    a proposal waited for the home school to agree the release."""
    _approve_every_release(world)
    html = client_for(world.user("a", "home_school")).get("/").get_data(as_text=True)
    panel = _release_panel(html)
    assert "Nothing to approve" not in panel
    assert "Alpha Leader" in panel
    assert f"/deployments/{world.a.deployment.id}" in panel


def test_the_release_panel_is_empty_only_when_nothing_waits(world, client_for):
    _approve_every_release(world)
    factories.advance(world.a.deployment, "agreement")  # the release is agreed
    factories.commit()
    html = client_for(world.user("a", "home_school")).get("/").get_data(as_text=True)
    assert "Nothing to approve" in _release_panel(html)


ROLES = ("admin", "director", "headteacher", "sle", "home_school", "board", "other_head")


@pytest.mark.parametrize("role", ROLES)
def test_needs_your_action_is_the_first_section_of_every_home_page(world, client_for, role):
    html = client_for(world.user("a", role)).get("/").get_data(as_text=True)
    main = html[html.index("<main"):]
    first = re.search(r"<section[^>]*>\s*<h2[^>]*>([^<]*)", main)
    assert first and first.group(1).strip() == "Needs your action"
