"""One navigation link is the current page (issue 18, item 7): on /requests/new a headteacher's
"New request" is current, not "Requests" as well; a page of no entry's own falls back to the
prefix ("Requests" on a request's page)."""

from __future__ import annotations

import re


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
