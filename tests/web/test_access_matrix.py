"""The access matrix: every route × method × role (and anonymous), with objects of the user's own
alliance and of another one.

For each combination the expected answer follows from the route's declared roles:

* anonymous → sent to sign in (302, or 401 with HX-Redirect for htmx), unless the route is public;
* a role the route does not allow → 403;
* an allowed role reaching for another alliance's object → 404;
* an allowed role on its own alliance's objects → anything but a server error.

Every refusal must leave the database exactly as it was.

Routes whose URL takes an object id need that id's source registered in ``OBJECTS`` below; an
unregistered parameter fails the test, so a new route cannot slip past the matrix.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.security import ALL_ROLES, PUBLIC

ROLES = ["headteacher", "sle", "home_school", "director", "admin", "board", "officer"]
EXEMPT = {"static"}
# /healthz answers 503 when unhealthy (an unmigrated test database, no worker): that is its
# answer, not a server error (tests/web/test_outbox_delivery.py checks each case)
HEALTH = {"health.healthz"}

def _email(w, s) -> int:
    from portal.models import OutboxEmail

    mail = OutboxEmail(alliance_id=s.alliance.id, to=s.users["headteacher"].email,
                       subject="Matrix", body="Matrix")
    db.session.add(mail)
    db.session.flush()
    return mail.id


def _add(obj) -> int:
    db.session.add(obj)
    db.session.flush()
    return obj.id


def _plan(s):
    from portal.models import ActionPlan

    plan = db.session.query(ActionPlan).filter_by(deployment_id=s.deployment.id).one_or_none()
    if plan is None:
        plan = ActionPlan(deployment_id=s.deployment.id)
        _add(plan)
    return plan


def _action(w, s) -> int:
    from portal.models import Action

    return _add(Action(plan_id=_plan(s).id, description="Matrix action"))


def _invoice(w, s) -> int:
    from portal.models import Invoice

    return _add(Invoice(number=f"INV-M-{s.alliance.id}", alliance_id=s.alliance.id,
                        deployment_id=s.deployment.id, payer="school",
                        payer_school_id=s.receiving.id, total_pence=10_000, sequence=1,
                        academic_year=2026))


def _board(w, s) -> int:
    from portal.models import Board

    return _add(Board(alliance_id=s.alliance.id, name=f"{s.alliance.short_name} Board",
                      phase="primary"))


def _eip(w, s) -> int:
    from portal.models import EIP

    return _add(EIP(alliance_id=s.alliance.id, name=f"{s.alliance.short_name} EIP"))


def _unavailable(w, s) -> int:
    from datetime import date

    from portal.models import Unavailability

    return _add(Unavailability(profile_id=s.leader.profile.id, start=date(2027, 1, 4),
                               end=date(2027, 1, 8)))


def _variation(w, s) -> int:
    from portal.models import Variation

    return _add(Variation(deployment_id=s.deployment.id, half_days=2, reason="Matrix",
                          requested_by_id=s.leader.id))


def _visit(w, s) -> int:
    from datetime import date, timedelta

    from portal.models import Visit

    return _add(Visit(deployment_id=s.deployment.id, visit_date=date.today() + timedelta(days=9),
                      half_days=2, status="planned", logged_by_id=s.leader.id))


# URL parameter → how to find (or make) an object of that kind for one side of the world.
# Objects are made once per test by _prepare, before the database fingerprint is taken.
OBJECTS: dict[str, Callable] = {
    "request_id": lambda w, s: s.request.id,
    "deployment_id": lambda w, s: s.deployment.id,
    "email_id": _email,
    "plan_id": lambda w, s: _plan(s).id,
    "row_id": _action,
    "invoice_id": _invoice,
    "board_id": _board,
    "eip_id": _eip,
    "school_id": lambda w, s: s.receiving.id,
    "user_id": lambda w, s: s.users["other_head"].id,
    "profile_id": lambda w, s: s.leader.profile.id,
    "unavailable_id": _unavailable,
    "variation_id": _variation,
    "visit_id": _visit,
}
# Parameters that are not object ids (a value that reaches the view in either alliance)
NON_OBJECT: dict[str, Callable] = {
    "kind": lambda w, s: "action",  # /plans/<kind>/<row_id>: the row_id is the object
    "token": lambda w, s: "not-a-real-token-" + "x" * 30,  # public, token-only pages
    # public: which alliance's school sign-in to start (the alliance is not secret)
    "alliance_id": lambda w, s: s.alliance.id,
}


def _rules(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint in EXEMPT:
            continue
        view = app.view_functions[rule.endpoint]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule, method, view.allowed_roles


def _prepare(world) -> None:
    """Make every kind of object for both sides once, so _url only looks ids up."""
    ids = {}
    for side in ("a", "b"):
        for arg, make in OBJECTS.items():
            ids[(arg, side)] = make(world, getattr(world, side))
    db.session.commit()
    world.matrix_ids = ids


def _url(rule, world, side) -> str | None:
    if not hasattr(world, "matrix_ids"):
        _prepare(world)
    values = {}
    for arg in rule.arguments:
        if arg in OBJECTS:
            values[arg] = world.matrix_ids[(arg, side)]
        elif arg in NON_OBJECT:
            values[arg] = NON_OBJECT[arg](world, getattr(world, side))
        else:
            raise AssertionError(f"{rule.rule}: register the URL parameter {arg!r} in OBJECTS")
    return rule.build(values, append_unknown=False)[1]


def _fingerprint() -> dict[str, tuple[int, int]]:
    """Row count and the sum of version columns of every table: any write changes one of them."""
    out = {}
    for table in db.metadata.sorted_tables:
        cols = [func.count()]
        if "version" in table.c:
            cols.append(func.coalesce(func.sum(table.c.version), 0))
        row = db.session.execute(select(*cols).select_from(table)).one()
        out[table.name] = tuple(row)
    db.session.rollback()
    return out


def _call(client, method, url, htmx=False):
    if method == "GET":
        return client.htmx_get(url) if htmx else client.get(url)
    return client.post(url, data={}, htmx=htmx)


def test_every_id_parameter_is_registered(app):
    unknown = {arg for rule, _m, _r in _rules(app) for arg in rule.arguments
               if arg not in OBJECTS and arg not in NON_OBJECT}
    assert unknown == set(), f"register these URL parameters in OBJECTS: {sorted(unknown)}"


def test_anonymous_users_are_sent_to_sign_in_everywhere(app, world, anon):
    _prepare(world)
    before = _fingerprint()
    wrong = []
    for rule, method, allowed in _rules(app):
        if allowed == PUBLIC:
            continue
        url = _url(rule, world, "a")
        r = _call(anon, method, url)
        if r.status_code != 302 or "/login" not in r.headers.get("Location", ""):
            wrong.append(f"{method} {url}: {r.status_code}")
        h = _call(anon, method, url, htmx=True)
        if h.status_code != 401 or "/login" not in h.headers.get("HX-Redirect", ""):
            wrong.append(f"htmx {method} {url}: {h.status_code}")
    assert wrong == []
    assert _fingerprint() == before


@pytest.mark.parametrize("role", ROLES)
def test_roles_not_allowed_get_403_and_change_nothing(app, world, client_for, role):
    client = client_for(world.user("a", role))
    _prepare(world)
    before = _fingerprint()
    wrong = []
    for rule, method, allowed in _rules(app):
        if allowed == PUBLIC or role in allowed:
            continue
        url = _url(rule, world, "a")
        status = _call(client, method, url).status_code
        if status != 403:
            wrong.append(f"{method} {url}: {status}")
    assert wrong == []
    assert _fingerprint() == before


@pytest.mark.parametrize("role", ROLES)
def test_another_alliances_objects_answer_404_and_change_nothing(app, world, client_for, role):
    client = client_for(world.user("a", role))
    _prepare(world)
    before = _fingerprint()
    wrong = []
    for rule, method, allowed in _rules(app):
        if allowed == PUBLIC or role not in allowed:
            continue
        if not any(arg in OBJECTS for arg in rule.arguments):
            continue
        url = _url(rule, world, "b")
        for htmx in (False, True):
            status = _call(client, method, url, htmx=htmx).status_code
            if status != 404:
                wrong.append(f"{'htmx ' if htmx else ''}{method} {url}: {status}")
    assert wrong == []
    assert _fingerprint() == before


@pytest.mark.parametrize("role", ROLES)
def test_a_member_school_of_another_home_answers_404_and_changes_nothing(app, world,
                                                                          client_for, role):
    """Every route that takes a school's id changes that school (or its accounts): a network
    the school is only a member of may list it and file for it, but these answer 404 to it
    as for a school that is not its own at all (``policy.admin.manages_school``)."""
    from portal.models import SchoolNetwork

    _prepare(world)
    db.session.add(SchoolNetwork(school_id=world.matrix_ids[("school_id", "b")],
                                 alliance_id=world.a.alliance.id))
    db.session.commit()
    client = client_for(world.user("a", role))
    before = _fingerprint()
    wrong, checked = [], 0
    for rule, method, allowed in _rules(app):
        if allowed == PUBLIC or role not in allowed or "school_id" not in rule.arguments:
            continue
        url = _url(rule, world, "b")
        for htmx in (False, True):
            checked += 1
            status = _call(client, method, url, htmx=htmx).status_code
            if status != 404:
                wrong.append(f"{'htmx ' if htmx else ''}{method} {url}: {status}")
    assert wrong == []
    assert _fingerprint() == before
    assert checked or role != "admin"  # the admin's school page is one of them


@pytest.mark.parametrize("role", [*ROLES, "other_head"])
def test_own_alliance_never_causes_a_server_error(app, world, client_for, role):
    client = client_for(world.user("a", role))
    wrong = []
    for rule, method, allowed in _rules(app):
        if allowed != PUBLIC and world.user("a", role).role not in allowed:
            continue
        if rule.endpoint == "auth.logout":
            continue  # would end this client's session for the routes after it
        url = _url(rule, world, "a")
        for htmx in (False, True):
            status = _call(client, method, url, htmx=htmx).status_code
            if status >= 500 and not (rule.endpoint in HEALTH and status == 503):
                wrong.append(f"{'htmx ' if htmx else ''}{method} {url}: {status}")
    assert wrong == []


def test_declared_roles_are_real_roles(app):
    for _rule, _method, allowed in _rules(app):
        assert allowed == PUBLIC or allowed <= ALL_ROLES
