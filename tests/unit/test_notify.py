"""Notifications and email: in the portal, in the outbox, and over a real local SMTP server."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from portal.domain import notify
from portal.extensions import db
from portal.models import Notification, OutboxEmail
from tests import factories
from tests.conftest import free_port as _free_port
from tests.factories import requests as fr


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_notify_adds_a_notification_and_an_email_per_active_user(world):
    head = world.user("a", "headteacher")
    admin = world.user("a", "admin")
    made = notify.notify([head, admin, head, None], "Something happened", "/requests/1")
    db.session.commit()
    assert len(made) == 2  # distinct users only
    mails = db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)).all()
    assert [m.to for m in mails] == [head.email, admin.email]
    assert mails[0].alliance_id == world.a.alliance.id
    assert "Dear Alpha Head" in mails[0].body and "/requests/1" in mails[0].body
    assert notify.unread_count(head) == 1


def test_no_email_and_no_notification_for_inactive_users(world):
    gone = factories.user(world.a.alliance, "headteacher", world.a.receiving, active=False)
    db.session.commit()
    assert notify.notify([gone], "Hello") == []
    db.session.commit()
    assert _count(OutboxEmail) == 0 and _count(Notification) == 0


def test_email_false_notifies_in_the_portal_only(world):
    notify.notify([world.user("a", "admin")], "Quiet", email=False)
    db.session.commit()
    assert _count(Notification) == 1 and _count(OutboxEmail) == 0


def test_rollback_sends_nothing(world, smtp):
    notify.notify([world.user("a", "admin")], "Never happened")
    db.session.rollback()
    assert _count(OutboxEmail) == 0 and _count(Notification) == 0
    assert smtp.messages == []


def test_without_mail_server_the_email_is_kept_in_the_outbox(world, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "")
    notify.notify([world.user("a", "admin")], "Dev mail")
    db.session.commit()  # the worker (immediate in tests) takes it at once
    mail = db.session.scalar(select(OutboxEmail))
    assert mail.sent_at is None and "no MAIL_SERVER" in mail.error
    assert mail.failed_at is not None  # not tried again by itself; `send-mail` or a resend


def test_smtp_failure_is_recorded_in_error(world, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", _free_port())  # nobody listens here
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT", 2)
    notify.notify([world.user("a", "admin")], "Will fail")
    db.session.commit()
    mail = db.session.scalar(select(OutboxEmail))
    assert mail.sent_at is None and "Error" in mail.error  # ConnectionRefusedError: ...
    assert mail.failed_at is None and mail.next_attempt_at is not None  # tried again later


def test_sends_over_a_real_smtp_server_after_commit(world, smtp):
    admin = world.user("a", "admin")
    notify.notify([admin], "Request R-1 needs you", "/requests/1")
    assert smtp.messages == []  # nothing leaves before the commit
    db.session.commit()  # delivered by the worker once committed (immediate in tests)
    assert len(smtp.messages) == 1
    env = smtp.messages[0]
    assert env.rcpt_tos == [admin.email]
    assert b"Subject: Request R-1 needs you" in env.content
    mail = db.session.scalar(select(OutboxEmail))
    assert mail.sent_at is not None and mail.error == ""


def test_send_unsent_retries(world, app, smtp, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "")
    notify.notify([world.user("a", "admin")], "Retry me")
    db.session.commit()
    assert smtp.messages == []
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    assert notify.send_unsent() == 1
    assert len(smtp.messages) == 1


def test_a_web_request_sends_its_email_to_the_next_party(world, client_for, smtp):
    maths = fr.specialism()
    db.session.commit()
    c = client_for(world.user("a", "headteacher"))
    data = fr.form_data([world.a.receiving.id], maths.id, submit_now="1")
    assert c.post("/requests/new", data=data).status_code == 303
    deadline = time.time() + 5
    while not smtp.messages and time.time() < deadline:
        time.sleep(0.05)
    admin = world.user("a", "admin")
    assert [m.rcpt_tos for m in smtp.messages] == [[admin.email]]
    assert b"New request R-" in smtp.messages[0].content


def test_mark_read(world):
    head = world.user("a", "headteacher")
    notify.notify([head], "One")
    notify.notify([head], "Two")
    db.session.commit()
    assert notify.unread_count(head) == 2
    assert notify.mark_read(head) == 2
    db.session.commit()
    assert notify.unread_count(head) == 0


def test_the_unread_count_stops_past_its_cap_and_the_header_says_more(world, client_for,
                                                                        monkeypatch):
    """Issue 20: the header's unread count read every unread notification on every page (9,224
    at ten times national scale); it stops after the cap, and the header says "2+"."""
    head = world.user("a", "headteacher")
    monkeypatch.setattr(notify, "UNREAD_CAP", 2)
    for i in range(2):
        notify.notify([head], f"Something {i}", "/requests/1")
    db.session.commit()
    assert notify.unread_count(head) == 2
    assert str(notify.LazyCount(lambda: 2)) == "2"
    page = client_for(head).get("/requests/").get_data(as_text=True)
    assert '<span class="count">2<span class="visually-hidden"> unread' in page
    for i in range(3):
        notify.notify([head], f"More {i}", "/requests/1")
    db.session.commit()
    assert notify.unread_count(head) == 3  # "more than 2": the count stopped there
    page = client_for(head).get("/requests/").get_data(as_text=True)
    assert '<span class="count">2+<span class="visually-hidden"> unread' in page
    assert str(notify.LazyCount(lambda: 1234)) == "2+"
