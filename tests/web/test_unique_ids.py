"""Every id on a page is unique (issue 18, item 5): the decline and void forms on the agreement
page both had ``reason`` and ``reason-hint``, so the void box had no label of its own and the
error summary after an empty void put focus in the decline box."""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser

import pytest

from tests.factories import agreements as fa

ROLES = ["headteacher", "sle", "home_school", "director", "admin", "board"]


class _Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: Counter[str] = Counter()
        self.fors: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "input" and ("type", "hidden") in attrs:
            return  # never labelled, focused or referenced: a repeated csrf_token id is harmless
        for name, value in attrs:
            if name == "id" and value:
                self.ids[value] += 1
            if name == "for" and value:
                self.fors.append(value)


def _check(body: str, url: str) -> None:
    parser = _Ids()
    parser.feed(body)
    twice = sorted(i for i, n in parser.ids.items() if n > 1)
    assert twice == [], f"{url}: ids used more than once: {twice}"
    dangling = sorted(set(parser.fors) - set(parser.ids))
    assert dangling == [], f"{url}: labels for no field: {dangling}"


@pytest.fixture
def pages_world(db):
    """Both sides' deployments waiting for signatures: the agreement page shows the sign,
    decline and void forms together."""
    return fa.ready_world()


@pytest.mark.parametrize("role", ROLES)
def test_no_page_repeats_an_id(pages_world, client_for, role):
    w = pages_world
    d, req = w.a.deployment, w.a.request
    urls = ["/", "/requests/", "/deployments/", f"/deployments/{d.id}",
            f"/deployments/{d.id}/agreement", f"/requests/{req.id}", "/notifications/",
            "/account/"]
    c = client_for(w.user("a", role))
    for url in urls:
        r = c.get(url)
        if r.status_code != 200:
            continue  # not this role's page (the access matrix checks who may)
        _check(r.data.decode(), url)


def test_the_void_box_has_its_own_label_and_error_link(pages_world, client_for):
    w = pages_world
    c = client_for(w.user("a", "director"))
    url = f"/deployments/{w.a.deployment.id}/agreement"
    body = c.get(url).data.decode()
    assert 'for="void-reason"' in body and 'id="void-reason"' in body
    r = c.post(f"{url}/void", {"reason": ""})
    assert r.status_code == 422
    assert 'href="#void-reason"' in r.data.decode()
