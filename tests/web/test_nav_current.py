"""One navigation link is the current page (issue 18, item 7): on /requests/new a headteacher's
"New request" is current, not "Requests" as well; a page of no entry's own falls back to the
prefix ("Requests" on a request's page)."""

from __future__ import annotations

import re

import pytest


def _current(html: str) -> list[str]:
    return re.findall(r'<a href="[^"]*" aria-current="page"[^>]*>([^<]+)', html)


def test_new_request_page_marks_one_link_current(world, client_for):
    c = client_for(world.user("a", "headteacher"))
    r = c.get("/requests/new")
    assert r.status_code == 200
    assert _current(r.data.decode()) == ["New request"]


def test_a_page_without_its_own_entry_marks_its_area(world, client_for):
    c = client_for(world.user("a", "headteacher"))
    r = c.get(f"/requests/{world.a.request.id}")
    assert r.status_code == 200
    assert _current(r.data.decode()) == ["Requests"]


def test_a_required_group_of_checkboxes_is_not_required_box_by_box(world, client_for):
    """"Tick the standards" is checked by the server for the group; ``required`` on each box
    would make the browser demand every box ticked (issue 18, item 7)."""
    c = client_for(world.user("a", "headteacher"))
    html = c.get("/requests/new").data.decode()
    boxes = re.findall(r'<input[^>]*type="checkbox"[^>]*>', html)
    assert any('name="standards"' in b for b in boxes)
    assert [b for b in boxes if "required" in b] == []


@pytest.mark.parametrize(("n", "shown", "said"), [
    (0, "", ""),
    (1, "1", "1 thing waits"),
    (2, "2", "2 things wait"),
    (99, "99", "99 things wait"),
    (100, "99+", "more than 99 things wait"),
    (2_298, "99+", "more than 99 things wait"),
])
def test_a_count_beside_an_entry_is_capped_and_read_out_in_words(n, shown, said):
    from portal.navigation import NavItem

    item = NavItem("dashboard.home", "Home", None, 0, "dashboard.home", count=lambda _u: n,
                   count_label=("thing waits", "things wait"), cap=99)
    assert item.counted(None) == (shown, said)


def test_without_a_cap_a_large_count_is_written_with_a_thousands_comma():
    from portal.navigation import NavItem

    item = NavItem("x.y", "X", None, 0, "x.", count=lambda _u: 1234,
                   count_label=("thing", "things"))
    assert item.counted(None) == ("1,234", "1,234 things")
