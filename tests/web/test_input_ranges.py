"""Numbers from outside never reach the database as something it cannot hold (issue 13).

* Every id in a web address goes through the ``id`` converter: beyond what an INTEGER column
  holds it matches no route, so it is a 404 before any query (not an OverflowError on SQLite or
  "integer out of range" on PostgreSQL).
* Every whole number in a query string (``?page=``, ``?year=``, ``?user=`` ...) and the notification
  id of "mark read" is read by ``validators.int_arg``: anything else is a 400 that says so.
* The audit trail's date filters refuse a day no record can have beside the field.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from werkzeug.routing import IntegerConverter

from portal.extensions import db
from portal.models import Notification
from portal.security import PUBLIC
from portal.validators import DB_INT_MAX, IdConverter
from tests import factories

from .test_access_matrix import NON_OBJECT, OBJECTS, _fingerprint, _prepare, _rules

TOO_BIG = [str(DB_INT_MAX + 1), "99999999999999999999", "9223372036854775808"]
REFUSED = "is not one the portal can use"


def _role_for(allowed) -> str:
    for role in ("admin", "director", "headteacher", "sle", "home_school", "board", "officer"):
        if allowed == PUBLIC or role in allowed:
            return role
    raise AssertionError(allowed)


def test_every_integer_in_a_route_is_a_bounded_id(app):
    """``<int:...>`` would let any number through to a query: every route uses ``<id:...>``."""
    unbounded = [f"{rule.rule} ({name})" for rule in app.url_map.iter_rules()
                 for name, conv in rule._converters.items()
                 if isinstance(conv, IntegerConverter) and not isinstance(conv, IdConverter)]
    assert unbounded == []
    assert any(isinstance(c, IdConverter) for r in app.url_map.iter_rules()
               for c in r._converters.values())


@pytest.mark.parametrize("big", TOO_BIG)
def test_an_id_beyond_the_column_range_is_a_404_on_every_route(app, world, client_for, big):
    _prepare(world)
    rules = [(rule, method, _role_for(allowed)) for rule, method, allowed in _rules(app)
             if any(a in OBJECTS for a in rule.arguments)]
    # sign in first: each client's sign-in session is a row of its own
    clients = {role: client_for(world.user("a", role)) for role in {r for _, _, r in rules}}
    before = _fingerprint()
    wrong, checked = [], 0
    for rule, method, role in rules:
        ids = [a for a in rule.arguments if a in OBJECTS]
        client = clients[role]
        values = {a: big for a in ids}
        values.update({a: NON_OBJECT[a](world, world.a) for a in rule.arguments if a not in ids})
        # build by hand: the converter (rightly) refuses to build a URL with such an id
        url = rule.rule
        for name, value in values.items():
            url = re.sub(rf"<[^<>]*:{name}>", str(value), url)
        response = client.get(url) if method == "GET" else client.post(url, data={})
        checked += 1
        # 405 where the same address also has a route for another method (werkzeug answers a
        # method mismatch before the refused id); either way nothing was looked up
        if response.status_code not in (404, 405):
            wrong.append(f"{method} {url}: {response.status_code}")
    assert wrong == []
    assert checked > 40
    assert _fingerprint() == before


@pytest.mark.parametrize("path", ["/requests/{}", "/deployments/{}", "/finance/invoices/{}",
                                  "/admin/users/{}", "/requests/{}/edit", "/plans/{}/poll"])
@pytest.mark.parametrize("big", TOO_BIG)
def test_the_reported_addresses_answer_page_not_found(world, client_for, path, big):
    r = client_for(world.user("a", "admin")).get(path.format(big))
    assert r.status_code == 404
    assert "Page not found" in r.get_data(as_text=True)


@pytest.mark.parametrize(("role", "url"), [
    ("director", "/reports/?year={}"),
    ("admin", "/finance/?year={}"),
    ("admin", "/finance/?school={}"),
    ("director", "/reports/?board={}"),
    ("admin", "/admin/audit?user={}"),
    ("headteacher", "/directory/?la={}"),
    ("headteacher", "/directory/?specialism={}"),
    ("headteacher", "/notifications/?page={}"),
    ("admin", "/requests/?page={}"),
    ("admin", "/admin/users?page={}"),
    ("admin", "/admin/audit?page={}"),
    ("admin", "/deployments/?page={}"),
])
@pytest.mark.parametrize("value", [*TOO_BIG, "9223372036854775807", "abc", "-1", "1.5"])
def test_a_number_in_the_query_string_that_is_not_one_is_a_clear_400(world, client_for, role,
                                                                     url, value):
    r = client_for(world.user("a", role)).get(url.format(value))
    assert r.status_code == 400, (url, value, r.status_code)
    assert REFUSED in r.get_data(as_text=True)


@pytest.mark.parametrize("url", ["/reports/?year={}", "/finance/?year={}"])
@pytest.mark.parametrize("year", ["1999", "2101", "0", "20266"])
def test_a_year_the_portal_cannot_have_is_refused(world, client_for, url, year):
    r = client_for(world.user("a", "director")).get(url.format(year))
    assert r.status_code == 400
    assert "The year in the web address" in r.get_data(as_text=True)


@pytest.mark.parametrize(("role", "url"), [
    ("director", "/reports/?year=2026"), ("admin", "/finance/?year=2026"),
    ("headteacher", "/notifications/?page=2"), ("admin", "/requests/?page=1"),
    ("admin", "/admin/audit?user=1"), ("headteacher", "/directory/?la=1&specialism=1"),
    ("admin", "/requests/?page="), ("admin", "/admin/audit?deployment=99999999999999999999"),
])
def test_numbers_in_range_still_filter(world, client_for, role, url):
    assert client_for(world.user("a", role)).get(url).status_code == 200


def _unread(user) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)))


@pytest.mark.parametrize("bad", ["abc", "1 OR 1=1", "-1", "0", *TOO_BIG])
def test_mark_read_with_an_id_that_is_not_one_marks_nothing(world, client_for, bad):
    head = world.user("a", "headteacher")
    for i in range(3):
        db.session.add(Notification(user_id=head.id, message=f"Note {i}", url="/"))
    db.session.commit()
    r = client_for(head).post("/notifications/read", {"id": bad})
    assert r.status_code == 400
    assert REFUSED in r.get_data(as_text=True)
    db.session.expire_all()
    assert _unread(head) == 3


def test_mark_read_still_marks_one_or_all(world, client_for):
    head = world.user("a", "headteacher")
    notes = [Notification(user_id=head.id, message=f"Note {i}", url="") for i in range(3)]
    db.session.add_all(notes)
    db.session.commit()
    c = client_for(head)
    assert c.post("/notifications/read", {"id": str(notes[0].id)}).status_code == 303
    db.session.expire_all()
    assert _unread(head) == 2
    assert c.post("/notifications/read", {}).status_code == 303
    db.session.expire_all()
    assert _unread(head) == 0


@pytest.mark.parametrize("query", ["date_to=9999-12-31", "date_from=0001-01-01",
                                   "date_from=1900-01-01&date_to=2026-12-01",
                                   "date_to=12/31/2026"])
@pytest.mark.parametrize("htmx", [False, True])
def test_an_audit_date_no_record_can_have_is_refused_beside_the_field(world, client_for, query,
                                                                      htmx):
    c = client_for(world.user("a", "admin"))
    url = f"/admin/audit?{query}"
    r = c.htmx_get(url) if htmx else c.get(url)
    assert r.status_code == 422
    body = r.get_data(as_text=True)
    assert "error-message" in body
    if not htmx:
        name = query.split("=")[0] if "9999" in query or "12/31" in query else "date_from"
        assert f'id="{name}-error"' in body


def test_audit_dates_within_reach_still_filter(world, client_for):
    from datetime import date

    factories.user(world.a.alliance, "headteacher", world.a.receiving)
    db.session.commit()
    today = date.today().isoformat()
    assert client_for(world.user("a", "admin")).get(
        f"/admin/audit?date_from={today}&date_to={today}").status_code == 200
