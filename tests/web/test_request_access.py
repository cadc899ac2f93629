"""Every new route of steps 1-3: who may use it (403 otherwise), strangers sign in, and objects of
another alliance answer 404."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, OutboxEmail
from tests import factories

ROLES = ["headteacher", "sle", "home_school", "director", "admin", "board"]

# (method, url template, roles allowed by the route)
ROUTES = [
    ("GET", "/requests/new", {"headteacher", "board"}),
    ("POST", "/requests/new", {"headteacher", "board"}),
    ("GET", "/requests/{draft}/edit", {"headteacher", "board"}),
    ("POST", "/requests/{draft}/edit", {"headteacher", "board"}),
    ("POST", "/requests/{draft}/submit", {"headteacher", "board"}),
    ("POST", "/requests/{request}/withdraw", {"headteacher", "board", "admin", "director"}),
    ("POST", "/requests/{request}/triage", {"admin", "director"}),
    ("GET", "/requests/{matching}/match", {"admin", "director"}),
    ("POST", "/requests/{matching}/propose", {"admin", "director"}),
    ("POST", "/deployments/{deployment}/respond", {"headteacher", "home_school", "sle"}),
    ("GET", "/coordinator/inbox", {"admin", "director"}),
    ("GET", "/coordinator/outbox", {"admin", "director"}),
    ("GET", "/coordinator/outbox/{email}", {"admin", "director"}),
]


@pytest.fixture
def ids(world):
    def for_side(side):
        s = getattr(world, side)
        matching = factories.support_request(s.alliance, s.users["headteacher"], [s.receiving],
                                             status="matching")
        from portal.models import OutboxEmail

        mail = OutboxEmail(alliance_id=s.alliance.id, to="x@example.org", subject="Hi",
                           body="Hello")
        db.session.add(mail)
        db.session.flush()
        return {"draft": s.draft.id, "request": s.request.id, "matching": matching.id,
                "deployment": s.deployment.id, "email": mail.id}

    out = {"a": for_side("a"), "b": for_side("b")}
    db.session.commit()
    return out


def _call(client, method, url):
    if method == "GET":
        return client.get(url)
    return client.post(url, data={})


def _audit_count():
    return db.session.scalar(select(func.count(AuditEvent.id)))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "template", "allowed"), ROUTES,
                         ids=[f"{m} {t}" for m, t, _ in ROUTES])
def test_wrong_role_gets_403_and_changes_nothing(world, ids, client_for, role, method,
                                                 template, allowed):
    url = template.format(**ids["a"])
    before = _audit_count()
    r = _call(client_for(world.user("a", role)), method, url)
    if role in allowed:
        assert r.status_code != 403 or method == "POST", r.status_code
    else:
        assert r.status_code == 403
        assert _audit_count() == before


@pytest.mark.parametrize(("method", "template", "allowed"), ROUTES,
                         ids=[f"{m} {t}" for m, t, _ in ROUTES])
def test_strangers_are_sent_to_sign_in(world, ids, anon, method, template, allowed):
    r = _call(anon, method, template.format(**ids["a"]))
    assert r.status_code in (302, 400)  # a POST without a session has no CSRF token: 400
    if r.status_code == 302:
        assert "/login" in r.headers["Location"]


OBJECT_ROUTES = [r for r in ROUTES if "{" in r[1]]


@pytest.mark.parametrize(("method", "template", "allowed"), OBJECT_ROUTES,
                         ids=[f"{m} {t}" for m, t, _ in OBJECT_ROUTES])
def test_another_alliances_objects_answer_404(world, ids, client_for, method, template,
                                              allowed):
    url = template.format(**ids["b"])
    before = _audit_count()
    for role in sorted(allowed):
        r = _call(client_for(world.user("a", role)), method, url)
        assert r.status_code == 404, (role, r.status_code)
    assert _audit_count() == before


@pytest.mark.parametrize("role", ["headteacher", "home_school", "sle"])
def test_other_head_of_the_alliance_cannot_answer(world, ids, client_for, role):
    r = client_for(world.user("a", "other_head")).post(
        f"/deployments/{ids['a']['deployment']}/respond", data={"decision": "accepted"})
    assert r.status_code == 404


def test_a_head_of_the_same_school_cannot_edit_anothers_draft(world, client_for):
    colleague = factories.user(world.a.alliance, "headteacher", world.a.receiving)
    db.session.commit()
    r = client_for(colleague).get(f"/requests/{world.a.draft.id}/edit")
    assert r.status_code == 403


def test_allowed_roles_reach_the_pages(world, ids, client_for):
    for role in ("admin", "director"):
        c = client_for(world.user("a", role))
        assert c.get(f"/requests/{ids['a']['matching']}/match").status_code == 200
        assert c.get("/coordinator/inbox").status_code == 200
        assert c.get("/coordinator/outbox").status_code == 200
        assert c.get(f"/coordinator/outbox/{ids['a']['email']}").status_code == 200
    assert client_for(world.user("a", "headteacher")).get("/requests/new").status_code == 200
    # a Board member's one "New request" is the Board's own form
    to_board = client_for(world.user("a", "board")).get("/requests/new")
    assert to_board.status_code == 303
    assert to_board.headers["Location"].endswith("/board/requests/new")
    assert db.session.scalar(select(func.count(OutboxEmail.id))) == 2


def test_nav_shows_new_request_and_inbox_to_the_right_roles(world, client_for):
    head = client_for(world.user("a", "headteacher")).get("/").data.decode()
    assert 'href="/requests/new"' in head and 'href="/coordinator/inbox"' not in head
    admin = client_for(world.user("a", "admin")).get("/").data.decode()
    assert 'href="/coordinator/inbox"' in admin and 'href="/coordinator/outbox"' in admin
    assert 'href="/requests/new"' not in admin
