"""Issue 15 item 3, agreements: a school with no login cannot e-sign, so the co-ordinator or
director records its signature on its behalf (who agreed, their role, how and when), on exactly
the version shown; audited, shown as such on the agreement and the printed copy, and the last
signature activates the deployment as any other. Only while nobody there can sign in."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.domain import agreements as service
from portal.domain import signing
from portal.domain.policy import agreements as policy
from portal.extensions import db
from portal.models import AuditEvent, Deployment, Signature
from tests.factories import agreements as fa

ROLES = ["headteacher", "sle", "home_school", "director", "admin", "board", "other_head"]
EXPECT = {"admin": 303, "director": 303, "headteacher": 403, "sle": 403, "home_school": 403,
          "board": 403, "other_head": 403}


@pytest.fixture
def w(db):
    w = fa.ready_world()
    for side in (w.a, w.b):
        side.users["home_school"].active = False  # the home school has no login
    db.session.commit()
    return w


def _url(w, side="a", tail="/on-behalf"):
    return f"/deployments/{getattr(w, side).deployment.id}/agreement{tail}"


def _current(w):
    db.session.expire_all()
    return service.current(w.a.deployment.id)


def _data(w, **kw):
    ag = _current(w)
    data = {"version": ag.version, "content_hash": ag.content_hash,
            "party": f"home_school:{w.a.home.id}", "agreed_by_name": "Jo Smith",
            "agreed_by_role": "headteacher", "agreed_via": "email",
            "agreed_on": (date.today() - timedelta(days=1)).isoformat()}
    data.update(kw)
    return data


def _signatures() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Signature))


def test_the_policy_allows_it_only_for_overseers_and_only_without_a_login(w):
    ag = _current(w)
    assert policy.actions(ag, w.user("a", "admin"))["sign_on_behalf"]
    assert policy.actions(ag, w.user("a", "director"))["sign_on_behalf"]
    assert policy.actions(ag, w.user("a", "headteacher"))["sign_on_behalf"].forbidden
    assert policy.actions(ag, w.user("b", "admin"))["sign_on_behalf"].forbidden
    w.a.users["home_school"].active = True
    db.session.commit()
    refused = policy.actions(_current(w), w.user("a", "admin"))["sign_on_behalf"]
    assert not refused and not refused.forbidden and "sign in" in refused.reason


@pytest.mark.parametrize("role", ROLES)
def test_who_may_record_a_signature_on_behalf(w, client_for, role):
    user = w.user("a", role)
    user.active = True  # (the home-school user, signed in, would sign for itself)
    db.session.commit()
    r = client_for(user).post(_url(w), _data(w))
    assert r.status_code == EXPECT[role]
    assert _signatures() == (1 if EXPECT[role] == 303 else 0)


def test_another_alliance_gets_404(w, client_for):
    r = client_for(w.user("b", "admin")).post(_url(w), _data(w))
    assert r.status_code == 404 and _signatures() == 0


def test_without_the_csrf_token_nothing_is_signed(w, client_for):
    r = client_for(w.user("a", "admin")).post(_url(w), _data(w), csrf=False)
    assert r.status_code == 303 and _signatures() == 0


@pytest.mark.parametrize(("change", "field"), [
    ({"agreed_on": (date.today() + timedelta(days=1)).isoformat()}, "agreed_on"),
    ({"agreed_on": ""}, "agreed_on"),
    ({"agreed_by_name": ""}, "agreed_by_name"),
    ({"agreed_by_role": ""}, "agreed_by_role"),
    ({"agreed_via": "fax"}, "agreed_via"),
    ({"party": "leader"}, "party"),
])
def test_bad_input_is_shown_beside_the_field_and_nothing_is_signed(w, client_for, change,
                                                                   field):
    r = client_for(w.user("a", "admin")).post(_url(w), _data(w, **change))
    assert r.status_code == 422
    assert f'id="{field}-error"' in r.get_data(as_text=True)
    assert _signatures() == 0


def test_a_changed_agreement_is_not_signed_on_behalf(w, client_for):
    r = client_for(w.user("a", "admin")).post(_url(w), _data(w, content_hash="0" * 64))
    assert r.status_code == 409 and _signatures() == 0


def test_the_signature_is_recorded_audited_and_shown_as_on_behalf(w, client_for):
    admin = w.user("a", "admin")
    c = client_for(admin)
    page = c.get(_url(w, tail="")).get_data(as_text=True)
    assert "Record their signature" in page
    r = c.post(_url(w), _data(w))
    assert r.status_code == 303
    sig = db.session.scalar(select(Signature))
    assert (sig.user_id, sig.typed_name, sig.agreed_by_role, sig.agreed_via, sig.party) == \
        (admin.id, "Jo Smith", "headteacher", "email", f"home_school:{w.a.home.id}")
    assert "recorded on the school's behalf by " + admin.name in sig.consent_text
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "agreement.signed"))
    assert event.detail["on_behalf"]["agreed_by_name"] == "Jo Smith"
    yesterday = date.today() - timedelta(days=1)
    shown = c.get(_url(w, tail="")).get_data(as_text=True)
    assert f"Signed by Jo Smith, headteacher, by email on {yesterday.day} " \
           f"{yesterday:%b %Y} — recorded by {admin.name}" in shown
    assert "Record their signature" not in shown
    printed = c.get(_url(w, tail="/print")).get_data(as_text=True)
    assert f"Jo Smith, headteacher (recorded on the school's behalf by {admin.name})" \
        in printed
    assert service.verify_signatures() == []  # the evidence chain still checks out


def test_the_last_signature_recorded_on_behalf_activates_the_deployment(w, client_for):
    ag = _current(w)
    for role in ("sle", "director", "headteacher"):
        user = w.user("a", role)
        service.sign(ag, user, version=ag.version, seen_hash=ag.content_hash,
                     typed_name=user.name)
    db.session.commit()
    r = client_for(w.user("a", "admin")).post(_url(w), _data(w))
    assert r.status_code == 303
    db.session.expire_all()
    assert db.session.get(Deployment, w.a.deployment.id).status == "active"
    assert _current(w).status == "signed"
    assert signing.fingerprint(_current(w).content_hash)
