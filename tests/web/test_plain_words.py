"""Plain words a new user met wrongly (issue 15, items 7 and 10): the leader's proposal
message, "Overdue Overdue", "in the last 1 minutes", "invoice(s)", "Statement" for an invoice,
no message after a triage decision or a withdrawal, and no 48-hour clock on the match page."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.formatting import plural
from portal.models import Notification, OutboxEmail
from tests import factories


@pytest.mark.parametrize(("n", "text"), [(0, "0 invoices"), (1, "1 invoice"), (2, "2 invoices"),
                                         (1200, "1,200 invoices")])
def test_plural(n, text):
    assert plural(n, "invoice") == text
    assert plural(1, "person", "people") == "1 person" and plural(3, "person", "people") == \
        "3 people"


def _matching(world):
    req = factories.support_request(world.a.alliance, world.user("a", "headteacher"),
                                    [world.a.receiving], status="matching")
    db.session.commit()
    return req


def test_the_leader_is_told_you_have_been_proposed_not_their_own_name(world, client_for):
    req = _matching(world)
    leader = world.a.leader
    assert client_for(world.user("a", "admin")).post(
        f"/requests/{req.id}/propose", data={"leader_id": leader.id}).status_code == 303
    mine = db.session.scalars(select(Notification).where(Notification.user_id == leader.id)).all()
    assert mine and all(leader.name not in n.message for n in mine)
    assert any(n.message.startswith("You have been proposed for") for n in mine)
    head = world.user("a", "headteacher")
    theirs = db.session.scalars(select(Notification).where(Notification.user_id == head.id)).all()
    assert any(f"{leader.name} has been proposed" in n.message for n in theirs)
    for mail in db.session.scalars(select(OutboxEmail).where(OutboxEmail.to == leader.email)):
        assert f"Dear {leader.name},\n\n{leader.name}" not in mail.body


def test_an_overdue_request_says_overdue_once(world, client_for):
    factories.support_request(world.a.alliance, world.user("a", "headteacher"),
                              [world.a.receiving], hours_ago=60, title="Old one")
    db.session.commit()
    body = client_for(world.user("a", "admin")).get("/coordinator/inbox").data.decode()
    assert "Overdue by" in body
    assert "Overdue</strong> <span" not in body and body.count("Overdue") == \
        body.count("Overdue by")


def test_the_password_prompt_says_1_minute_not_1_minutes(world, client_for, app, monkeypatch):
    monkeypatch.setitem(app.config, "FRESH_LOGIN_MINUTES", 1)
    body = client_for(world.user("a", "headteacher")).get(
        "/confirm-password").data.decode()
    assert "in the last 1 minute." in body and "1 minutes" not in body


def test_after_a_triage_decision_and_a_withdrawal_the_page_says_what_happened(world,
                                                                            client_for):
    admin = client_for(world.user("a", "admin"))
    r = admin.post(f"/requests/{world.a.request.id}/triage", data={"action": "matching"},
                   follow_redirects=True)
    assert f"Request {world.a.request.reference} accepted for matching" in r.data.decode()
    r2 = factories.support_request(world.a.alliance, world.user("a", "headteacher"),
                                   [world.a.receiving])
    db.session.commit()
    r = admin.post(f"/requests/{r2.id}/triage", data={"action": "declined", "reason": "No"},
                   follow_redirects=True)
    assert f"Request {r2.reference} declined" in r.data.decode()
    r3 = factories.support_request(world.a.alliance, world.user("a", "headteacher"),
                                   [world.a.receiving])
    db.session.commit()
    head = client_for(world.user("a", "headteacher"))
    r = head.post(f"/requests/{r3.id}/withdraw", follow_redirects=True)
    assert f"Request {r3.reference} withdrawn" in r.data.decode()


def test_the_match_page_shows_the_48_hour_clock(world, client_for):
    req = factories.support_request(world.a.alliance, world.user("a", "headteacher"),
                                    [world.a.receiving], status="matching", hours_ago=10)
    db.session.commit()
    body = client_for(world.user("a", "admin")).get(f"/requests/{req.id}/match").data.decode()
    assert "a match within 48 hours" in body
    assert re.search(r"3[78] hours left", body)
