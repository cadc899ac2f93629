"""Issue 15 item 3, the rules: a school with no login is never a dead end. The co-ordinator or
director records that school's answer on its behalf (who, how, when), only while nobody at the
school can sign in to give it; the answer moves the proposal on exactly as the school's own."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.domain import brokering, errors, invites, workflow
from portal.domain.policy import deployments as policy
from portal.models import AuditEvent, OutboxEmail, User

from .. import factories


@pytest.fixture
def w(db):
    w = factories.world()
    w.a.users["home_school"].active = False  # the home school has no login (as in CAPITAL)
    db.session.commit()
    return w


TODAY = date(2026, 12, 2)


def _record(w, actor=None, **kw):
    d = w.a.deployment
    args = dict(party="home_school", school_id=d.home_school_id, decision="accepted",
                agreed_by_name="Jo Smith", agreed_by_role="headteacher", agreed_via="phone",
                agreed_on=TODAY - timedelta(days=1), today=TODAY)
    args.update(kw)
    return brokering.respond_on_behalf(d, actor or w.user("a", "admin"), **args)


@pytest.mark.parametrize("role", ["admin", "director"])
def test_the_coordinator_and_director_may_record_for_a_school_with_no_login(w, role):
    can = policy.actions(w.a.deployment, w.user("a", role))
    assert can["release_on_behalf"]
    assert not can["confirm_on_behalf"]  # the receiving head can sign in: they answer
    assert not can["confirm_on_behalf"].forbidden


@pytest.mark.parametrize("role", ["headteacher", "sle", "board", "other_head"])
def test_nobody_else_records_an_answer_for_a_school(w, role):
    can = policy.actions(w.a.deployment, w.user("a", role))
    assert can["release_on_behalf"].forbidden and can["confirm_on_behalf"].forbidden


def test_another_alliance_may_not(w):
    assert policy.actions(w.a.deployment, w.user("b", "admin"))["release_on_behalf"].forbidden


def test_a_school_that_can_sign_in_answers_itself(db, w):
    w.a.users["home_school"].active = True
    db.session.commit()
    decision = policy.actions(w.a.deployment, w.user("a", "admin"))["release_on_behalf"]
    assert not decision and not decision.forbidden
    assert "answer in the portal themselves" in decision.reason
    with pytest.raises(errors.NotNow):
        _record(w)


def test_an_invited_leader_who_has_not_set_a_password_yet_does_not_stop_it(db, w):
    invites.invite_school_leader(w.user("a", "admin"), school_id=w.a.home.id,
                                 role="home_school", name="New Leader",
                                 email="new.leader@alpha.example.org")
    db.session.commit()
    assert policy.actions(w.a.deployment, w.user("a", "admin"))["release_on_behalf"]


def test_the_answer_is_recorded_with_who_how_and_when_and_audited(db, w):
    admin = w.user("a", "admin")
    r = _record(w)
    db.session.commit()
    assert (r.user_id, r.party, r.decision) == (admin.id, "home_school", "accepted")
    assert (r.agreed_by_name, r.agreed_by_role, r.agreed_via, r.agreed_on) == \
        ("Jo Smith", "headteacher", "phone", date(2026, 12, 1))
    assert brokering.on_behalf_summary(r) == \
        "Released by Jo Smith, headteacher, by phone on 1 Dec 2026"
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "deployment.home_school_accepted"))
    assert event.actor_id == admin.id
    assert event.detail["on_behalf"] == {"agreed_by_name": "Jo Smith",
                                         "agreed_by_role": "headteacher",
                                         "agreed_via": "phone", "agreed_on": "2026-12-01"}
    again = policy.actions(w.a.deployment, admin)["release_on_behalf"]
    assert not again and "already answered" in again.reason


def test_with_every_other_answer_the_proposal_moves_to_the_agreement(db, w):
    d = w.a.deployment
    brokering.respond(d, w.user("a", "headteacher"), "accepted")
    brokering.respond(d, w.user("a", "sle"), "accepted")
    _record(w)
    db.session.commit()
    assert d.status == "agreement"


def test_a_decline_on_behalf_sends_the_request_back_to_matching(db, w):
    with pytest.raises(workflow.ReasonRequired):
        _record(w, decision="declined")
    _record(w, decision="declined", reason="Cannot spare her in the spring term")
    db.session.commit()
    assert w.a.deployment.status == "declined"


@pytest.mark.parametrize(("change", "field"), [
    ({"agreed_on": TODAY + timedelta(days=1)}, "agreed_on"),
    ({"agreed_on": TODAY - timedelta(days=400)}, "agreed_on"),
    ({"agreed_on": None}, "agreed_on"),
    ({"agreed_via": "pigeon"}, "agreed_via"),
    ({"agreed_by_name": "  "}, "agreed_by_name"),
    ({"agreed_by_role": ""}, "agreed_by_role"),
    ({"school_id": 999_999}, "school"),
])
def test_bad_input_is_refused_beside_its_field_and_nothing_is_saved(db, w, change, field):
    with pytest.raises(errors.Invalid) as refused:
        _record(w, **change)
    assert refused.value.field == field
    db.session.rollback()
    assert not w.a.deployment.responses


def test_a_receiving_school_with_no_headteacher_is_confirmed_on_behalf(db, w):
    w.a.users["headteacher"].active = False
    db.session.commit()
    d = w.a.deployment
    assert policy.on_behalf_schools(d, policy.facts(d), "receiving") == [w.a.receiving.id]
    r = _record(w, party="receiving", school_id=w.a.receiving.id, agreed_via="letter")
    assert brokering.on_behalf_summary(r).startswith("Confirmed by Jo Smith, headteacher, by "
                                                     "letter on ")


def test_inviting_a_school_leader_sends_a_set_password_email_without_a_stored_link(db, w):
    user = invites.invite_school_leader(w.user("a", "admin"), school_id=w.a.home.id,
                                        role="home_school", name="Sam Patel",
                                        email="Sam.Patel@Alpha.example.org")
    db.session.commit()
    assert (user.role, user.school_id, user.email, user.password_hash) == \
        ("home_school", w.a.home.id, "sam.patel@alpha.example.org", "")
    mail = db.session.scalar(select(OutboxEmail).where(OutboxEmail.to == user.email))
    assert mail is not None and "set-password/" not in mail.body
    with pytest.raises(errors.Invalid) as taken:
        invites.invite_school_leader(w.user("a", "admin"), school_id=w.a.home.id,
                                     role="home_school", name="Sam Again",
                                     email="sam.patel@alpha.example.org")
    assert taken.value.field == "email"
    assert db.session.scalar(select(User).where(User.name == "Sam Again")) is None
