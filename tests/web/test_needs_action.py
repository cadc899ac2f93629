"""The home page's "Needs your action" list for every role, its links, the count in the
navigation, other-alliance isolation and its query cost; and the home school's release panel."""

from __future__ import annotations

import dataclasses
import re

import pytest

from portal.dashboard import actions
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


# ------------------------------------------------------------------ every role's home page

from html import unescape  # noqa: E402

from tests.factories.actions import actions_world  # noqa: E402
from tests.querycount import request_queries  # noqa: E402


@pytest.fixture
def aw(db):
    return actions_world()


def _section(html: str) -> str:
    m = re.search(r'<section class="actions" id="needs-action".*?</section>', html, re.S)
    assert m, "no Needs your action section"
    return unescape(m.group(0))


def _links(section: str) -> list[tuple[str, str]]:
    return [(href, re.sub(r"\s+", " ", text).strip())
            for href, text in re.findall(r'<li[^>]*><a href="([^"]+)">(.*?)</a>', section, re.S)]


# role: (a sentence that must be linked, the link's target)
HOME = {
    "headteacher": ("Confirm Alpha Leader for {proposal} (Alpha maths reasoning)",
                    "/deployments/{proposal_id}#panel-responses"),
    "home_school": ("Release Alpha Leader for 4 days for {proposal} (Alpha maths reasoning)",
                    "/deployments/{proposal_id}#panel-responses"),
    "sle": ("Accept 4 days of support for {proposal} (Alpha maths reasoning)",
            "/deployments/{proposal_id}#panel-responses"),
    "admin": ("Match “Alpha phonics” from Alpha Receiving Primary", "/requests/{match_id}/match"),
    "director": ("Give the final quality-assurance sign-off for {sign_off} (Alpha music)",
                 "/deployments/{sign_off_id}#panel-evaluations"),
    "board": None,  # nothing waits for the Board member: the empty state
    "other_head": None,
}


@pytest.mark.parametrize("role", sorted(HOME))
def test_each_roles_home_page_lists_what_waits_with_links(aw, client_for, role):
    made = aw.made["a"]
    values = {"proposal": aw.a.deployment.reference, "proposal_id": aw.a.deployment.id,
              "match_id": made["match"].id, "sign_off": made["sign_off"].reference,
              "sign_off_id": made["sign_off"].id}
    response = client_for(aw.user("a", role)).get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    section = _section(html)
    links = _links(section)
    nav = re.search(r'<nav aria-label="Main"[^>]*>.*?</nav>', html, re.S).group(0)
    home_link = re.search(r'<a href="/"[^>]*>.*?</a>', nav, re.S).group(0)
    if HOME[role] is None:
        assert "Nothing needs your action." in section and links == []
        assert home_link.endswith(">Home</a>") and "aria-label" not in home_link
        return
    sentence, href = (t.format(**values) for t in HOME[role])
    assert (href, sentence) in links, links
    n = len(links)
    assert f'>Home <span class="count">({n})</span></a>' in home_link
    word = "thing needs" if n == 1 else "things need"
    assert f'aria-label="Home, {n} {word} your action"' in home_link
    assert "R-T-" not in section  # no request codes


def test_another_alliances_items_never_appear_on_the_page(aw, client_for):
    for role in ("headteacher", "home_school", "admin", "director", "sle"):
        ours = _section(client_for(aw.user("a", role)).get("/").get_data(as_text=True))
        theirs = _links(_section(client_for(aw.user("b", role)).get("/").get_data(as_text=True)))
        assert theirs and "Beta" not in ours, role
        assert not {href for href, _ in theirs} & {href for href, _ in _links(ours)}, role


def test_the_count_is_in_the_navigation_of_every_page(aw, client_for):
    client = client_for(aw.user("a", "headteacher"))
    home = _links(_section(client.get("/").get_data(as_text=True)))
    for url in ("/requests/", "/deployments/", f"/deployments/{aw.a.deployment.id}"):
        html = client.get(url).get_data(as_text=True)
        assert f'aria-label="Home, {len(home)} things need your action"' in html, url


@pytest.mark.parametrize("cap, heading, more", [
    (99, "(24)", "And 4 more"),
    # Issue 20: the home list's total was a window over every waiting row (at ten times
    # national scale a school's whole history was read to count it). The count now stops after
    # the cap (or the list's limit, if larger); beyond it the page says "over".
    (21, "(21+)", "And at least 2 more"),
])
def test_a_long_list_is_capped_with_a_link_to_the_rest(world, client_for, monkeypatch, cap,
                                                       heading, more):
    monkeypatch.setattr(actions, "CAP", cap)
    head = world.user("a", "headteacher")
    for i in range(23):
        factories.deployment(factories.support_request(world.a.alliance, head,
                                                       [world.a.receiving], title=f"Topic {i}"),
                             world.a.leader)
    factories.commit()
    client = client_for(head)
    section = _section(client.get("/").get_data(as_text=True))
    assert len(_links(section)) == 20
    assert f"Needs your action <span class=\"count\">{heading}</span>" in section
    assert more in section and 'href="/?all=1#needs-action"' in section
    everything = _section(client.get("/?all=1").get_data(as_text=True))
    assert len(_links(everything)) == 24 and "more:" not in everything
    assert "Needs your action <span class=\"count\">(24)</span>" in everything


def test_the_navigation_counts_up_to_its_cap_then_says_more_than(world, client_for,
                                                                  monkeypatch):
    """Issue 20: the count went on past any number a headteacher reads (2,298 waiting items
    took 120 ms on every page at ten times national scale). Each kind's count stops at the
    cap; the navigation says "3+", read out as "more than 3 things need your action"."""
    from portal import navigation
    from portal.dashboard import actions

    monkeypatch.setattr(actions, "CAP", 3)
    item = navigation._ITEMS["dashboard.home"]
    monkeypatch.setitem(navigation._ITEMS, "dashboard.home", dataclasses.replace(item, cap=3))
    head = world.user("a", "headteacher")
    client = client_for(head)
    assert 'aria-label="Home, 1 thing needs your action"' in client.get(
        "/requests/").get_data(as_text=True)
    for i in range(5):
        factories.deployment(factories.support_request(world.a.alliance, head,
                                                       [world.a.receiving], title=f"Topic {i}"),
                             world.a.leader)
    factories.commit()
    assert actions.count(head) == 4  # "more than 3": it stopped counting there
    for url in ("/requests/", "/"):
        html = client.get(url).get_data(as_text=True)
        assert 'aria-label="Home, more than 3 things need your action"' in html, url
        assert 'Home <span class="count">(3+)</span>' in html, url
    # the home page's own list still says how many there are
    assert 'Needs your action <span class="count">(6)</span>' in client.get(
        "/").get_data(as_text=True)


@pytest.mark.parametrize("role", ["headteacher", "director", "admin", "home_school", "sle"])
def test_the_home_page_costs_the_same_with_many_more_items(world, client_for, role):
    client = client_for(world.user("a", role))
    small = request_queries(client, "/")
    head = world.user("a", "headteacher")
    for i in range(25):
        factories.deployment(factories.support_request(world.a.alliance, head,
                                                       [world.a.receiving], title=f"Topic {i}"),
                             world.a.leader)
    factories.commit()
    large = request_queries(client, "/")
    assert len(large) == len(small), "\n".join(q[:100] for q in large)


def test_two_short_lists_that_pass_the_cap_together_are_counted_exactly(world, client_for,
                                                                        monkeypatch):
    """The heading said "(5+)" ("at least") when no list had stopped counting: the requests
    and the deployments waiting for a headteacher were each below the cap, only their sum was
    past it. "At least" now comes from a list that stopped, never from the sum."""
    monkeypatch.setattr(actions, "CAP", 3)
    monkeypatch.setattr(actions, "LIMIT", 3)  # the walk stops after 4 rows of each list
    head = world.user("a", "headteacher")
    client = client_for(head)

    def everything() -> int:
        section = _section(client.get("/?all=1").get_data(as_text=True))
        return len(_links(section))

    before = everything()
    for i in range(2):  # the writer's own requests, more information asked: "resubmit"
        r = factories.support_request(world.a.alliance, head, [world.a.receiving],
                                      title=f"Asked {i}")
        r.status = "more_info"
    for i in range(2):  # proposals waiting for the school's answer
        factories.deployment(factories.support_request(world.a.alliance, head,
                                                       [world.a.receiving], title=f"Topic {i}"),
                             world.a.leader)
    factories.commit()
    total = everything()
    assert total == before + 4 and total >= 5
    section = _section(client.get("/").get_data(as_text=True))
    assert len(_links(section)) == 3
    assert f'Needs your action <span class="count">({total})</span>' in section
    assert f"And {total - 3} more" in section
