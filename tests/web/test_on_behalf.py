"""Issue 15 item 3, the routes: recording a school's answer on its behalf and inviting its
leader, from the deployment page. Every role's access, another alliance's 404, CSRF, bad input
beside the field with nothing saved, and the answer shown as recorded on behalf."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import DeploymentResponse, OutboxEmail, User

from .. import factories

ROLES = ["headteacher", "sle", "home_school", "director", "admin", "board", "other_head"]
EXPECT = {"admin": 303, "director": 303, "headteacher": 403, "sle": 403, "home_school": 403,
          "board": 403, "other_head": 403}


@pytest.fixture
def w(db):
    w = factories.world()
    w.a.users["home_school"].active = False  # nobody at the home school can sign in
    w.b.users["home_school"].active = False
    db.session.commit()
    return w


def _url(w, side="a", tail="on-behalf"):
    return f"/deployments/{getattr(w, side).deployment.id}/{tail}"


def _answer(w, **kw):
    yesterday = date.today() - timedelta(days=1)
    data = {"school": f"home_school:{w.a.home.id}", "decision": "accepted",
            "agreed_by_name": "Jo Smith", "agreed_by_role": "headteacher",
            "agreed_via": "phone", "agreed_on": yesterday.isoformat(), "reason": ""}
    data.update(kw)
    return data


def _responses() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(DeploymentResponse))


@pytest.mark.parametrize("role", ROLES)
def test_who_may_record_an_answer_on_behalf(w, client_for, role):
    user = w.user("a", role)
    if role == "home_school":
        user.active = True  # signed in, so it answers for itself, never on behalf
        db.session.commit()
    r = client_for(user).post(_url(w), _answer(w))
    assert r.status_code == EXPECT[role]
    assert _responses() == (1 if EXPECT[role] == 303 else 0)


@pytest.mark.parametrize("role", ["admin", "director"])
def test_another_alliance_gets_404(w, client_for, role):
    r = client_for(w.user("b", role)).post(_url(w), _answer(w))
    assert r.status_code == 404 and _responses() == 0
    r = client_for(w.user("b", role)).post(_url(w, tail="invite-school-leader"),
                                           {"school": f"home_school:{w.a.home.id}",
                                            "name": "X", "email": "x@example.org"})
    assert r.status_code == 404


def test_without_the_csrf_token_nothing_is_recorded(w, client_for):
    r = client_for(w.user("a", "admin")).post(_url(w), _answer(w), csrf=False)
    # nothing recorded; what was typed is kept for the page to fill in again (drafts.py)
    assert r.status_code == 303 and _responses() == 0
    assert "portal_draft=" in r.headers.get("Set-Cookie", "")


def test_the_deployment_shows_the_answer_as_recorded_on_behalf(w, client_for):
    admin = w.user("a", "admin")
    c = client_for(admin)
    page = c.get(_url(w, tail="")[:-1]).get_data(as_text=True)
    assert "A school without a login" in page and "Record their answer" in page
    r = c.post(_url(w), _answer(w, agreed_on=date.today().isoformat()))
    assert r.status_code == 303
    page = c.get(r.headers["Location"]).get_data(as_text=True)
    when = f"{date.today().day} {date.today():%b %Y}"
    assert f"Released by Jo Smith, headteacher, by phone on {when} — recorded by " \
           f"{admin.name}" in page
    assert "A school without a login" not in page  # nothing left to record
    # the headteacher sees the same line
    head_page = client_for(w.user("a", "headteacher")).get(
        r.headers["Location"]).get_data(as_text=True)
    assert "Released by Jo Smith, headteacher, by phone" in head_page


def test_others_do_not_see_the_on_behalf_forms(w, client_for):
    for role in ("headteacher", "sle"):
        page = client_for(w.user("a", role)).get(_url(w, tail="")[:-1]).get_data(as_text=True)
        assert "Record their answer" not in page


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"agreed_on": (date.today() + timedelta(days=1)).isoformat()}, "agreed_on",
     "cannot be in the future"),
    ({"agreed_on": ""}, "agreed_on", "Enter the date they gave their answer"),
    ({"agreed_on": "31/02/2026"}, "agreed_on", ""),
    ({"agreed_by_name": ""}, "agreed_by_name", "Enter the name"),
    ({"agreed_by_role": ""}, "agreed_by_role", "Enter their role"),
    ({"agreed_via": "pigeon"}, "agreed_via", ""),
    ({"school": "receiving:1"}, "school", ""),
    ({"school": "nonsense"}, "school", ""),
    ({"decision": "declined", "reason": ""}, "reason", "Give the reason they declined"),
])
def test_bad_input_is_shown_beside_the_field_and_nothing_is_saved(w, client_for, change,
                                                                  field, message):
    r = client_for(w.user("a", "admin")).post(_url(w), _answer(w, **change))
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert f'id="{field}-error"' in page
    assert message in page
    assert _responses() == 0


def test_a_school_that_can_sign_in_is_not_answered_for(w, client_for):
    w.a.users["home_school"].active = True
    db.session.commit()
    r = client_for(w.user("a", "admin")).post(_url(w), _answer(w))
    assert r.status_code == 409 and _responses() == 0


# ----------------------------------------------------------------------------- invitations

def _invite(w, **kw):
    data = {"school": f"home_school:{w.a.home.id}", "name": "Sam Patel",
            "email": "sam.patel@alpha.example.org"}
    data.update(kw)
    return data


@pytest.mark.parametrize("role", ROLES)
def test_who_may_invite_a_school_leader(w, client_for, role):
    user = w.user("a", role)
    user.active = True
    db.session.commit()
    r = client_for(user).post(_url(w, tail="invite-school-leader"), _invite(w))
    assert r.status_code == EXPECT[role]
    made = db.session.scalar(select(User).where(User.email == "sam.patel@alpha.example.org"))
    assert (made is not None) == (EXPECT[role] == 303)
    if made is not None:
        assert (made.role, made.school_id) == ("home_school", w.a.home.id)
        mail = db.session.scalar(select(OutboxEmail).where(OutboxEmail.to == made.email))
        assert mail is not None and "/account/set-password/" not in mail.body


def test_an_invitation_sent_twice_invites_once(w, client_for):
    c = client_for(w.user("a", "admin"))
    data = _invite(w, idempotency_key="k" * 43)
    first = c.post(_url(w, tail="invite-school-leader"), data)
    again = c.post(_url(w, tail="invite-school-leader"), data)
    assert first.status_code == 303 and again.status_code in (302, 303)
    assert db.session.scalar(select(func.count()).select_from(User).where(
        User.email == "sam.patel@alpha.example.org")) == 1


@pytest.mark.parametrize(("change", "field"), [
    ({"email": "not an address"}, "email"),
    ({"email": ""}, "email"),
    ({"name": ""}, "name"),
    ({"school": "leader:1"}, "school"),
])
def test_a_bad_invitation_is_shown_beside_the_field(w, client_for, change, field):
    r = client_for(w.user("a", "admin")).post(_url(w, tail="invite-school-leader"),
                                               _invite(w, **change))
    assert r.status_code == 422 and f'id="{field}-error"' in r.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.name == "Sam Patel")) is None


def test_an_address_that_has_an_account_is_refused_beside_the_field(w, client_for):
    taken = w.user("a", "director").email
    r = client_for(w.user("a", "admin")).post(_url(w, tail="invite-school-leader"),
                                               _invite(w, email=taken))
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert 'id="email-error"' in page and "already has an account" in page
