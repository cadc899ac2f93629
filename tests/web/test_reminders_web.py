"""Reminders on the pages (issue 17): the alliance's settings form (every role, bad input),
the email choice, the "Reminder sent" line on each object's page, and overdue invoices."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.domain import finance, reminders
from portal.extensions import db
from portal.formatting import uk_date
from portal.models import AllianceSettings, AuditEvent, User, utcnow
from portal.models.reminders import DEFAULTS
from tests import factories

URL = "/alliance/reminders"
ROLES = ["headteacher", "sle", "home_school", "director", "admin", "board"]


def _form(**over) -> dict:
    data = {k: str(v) for k, v in DEFAULTS.items()}
    data["version"] = "0"
    data.update(over)
    return data


def _settings(alliance_id):
    db.session.commit()
    return db.session.get(AllianceSettings, alliance_id)


@pytest.mark.parametrize("role", ROLES)
def test_only_the_director_and_coordinator_open_or_change_the_settings(world, client_for, role):
    c = client_for(world.user("a", role))
    allowed = role in ("director", "admin")
    page = c.get(URL)
    assert page.status_code == (200 if allowed else 403)
    answer = c.post(URL, _form(payment_terms_days="21"))
    assert answer.status_code == (303 if allowed else 403)
    row = _settings(world.a.alliance.id)
    if allowed:
        assert row.payment_terms_days == 21
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "alliance.reminder_settings_changed")) == 1
        assert "value=\"21\"" in c.get(URL).get_data(as_text=True)
    else:
        assert row is None
    assert _settings(world.b.alliance.id) is None  # never another alliance's


def test_signed_out_is_sent_to_sign_in(world, anon):
    assert anon.get(URL).status_code == 302


@pytest.mark.parametrize("field,value,message", [
    ("payment_terms_days", "abc", "Not a valid integer value"),
    ("payment_terms_days", "0", "Enter a whole number from 1 to 120"),
    ("match_remind_hours", "", "Enter a whole number"),
    ("sign_remind_days", "999", "Enter a whole number from 1 to 30"),
    ("match_overdue_hours", "30", "Must be at least 36, the reminder before it"),
    ("contact_escalate_days", "4", "Must be at least 5, the reminder before it"),
])
def test_bad_input_is_shown_beside_the_field_and_nothing_is_saved(world, client_for, field,
                                                                   value, message):
    c = client_for(world.user("a", "director"))
    answer = c.post(URL, _form(**{field: value}))
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert f'id="{field}-error"' in html and message in html
    assert _settings(world.a.alliance.id) is None


def test_a_form_without_csrf_or_from_an_older_version_is_refused(world, client_for):
    c = client_for(world.user("a", "admin"))
    assert c.post(URL, _form(payment_terms_days="9"), csrf=False).status_code == 303  # kept
    assert _settings(world.a.alliance.id) is None  # ... but not saved
    assert c.post(URL, _form(payment_terms_days="20")).status_code == 303
    assert c.post(URL, _form(payment_terms_days="25")).status_code == 409  # drawn at version 0
    assert _settings(world.a.alliance.id).payment_terms_days == 20


def test_the_settings_move_a_sweep(world, client_for):
    c = client_for(world.user("a", "admin"))
    c.post(URL, _form(match_remind_hours="2", match_overdue_hours="4"))
    r = factories.support_request(world.a.alliance, world.user("a", "headteacher"),
                                  [world.a.receiving], hours_ago=0)
    for side in (world.a, world.b):
        side.request.status = "matched"
    factories.commit()
    assert reminders.remind_matching(r.submitted_at + timedelta(hours=2)) == 1


# ----------------------------------------------------------------------- email choice


def test_each_user_chooses_immediate_or_digest_emails(world, client_for):
    head = world.user("a", "headteacher")
    c = client_for(head)
    page = c.get("/account/data").get_data(as_text=True)
    assert "One email a day listing everything" in page
    assert c.post("/account/emails", {"choice": "digest"}).status_code == 303
    db.session.commit()
    assert db.session.get(User, head.id).daily_digest is True
    assert c.post("/account/emails", {"choice": "weekly"}).status_code == 422
    c.post("/account/emails", {"choice": "immediate"}, csrf=False)  # kept, not saved
    db.session.commit()
    assert db.session.get(User, head.id).daily_digest is True
    assert c.post("/account/emails", {"choice": "immediate"}).status_code == 303
    db.session.commit()
    assert db.session.get(User, head.id).daily_digest is False
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "account.email_choice_changed")) == 2


# -------------------------------------------------------------------- "Reminder sent"


def test_reminder_sent_lines_on_request_deployment_agreement_and_invoice(world, client_for):
    a = world.a
    admin = client_for(a.users["admin"])
    r = factories.support_request(a.alliance, a.users["headteacher"], [a.receiving],
                                  hours_ago=40)
    factories.commit()
    assert "Reminder sent" not in admin.get(f"/requests/{r.id}").get_data(as_text=True)
    now = utcnow()
    assert reminders.remind_matching(now) >= 1
    factories.commit()
    line = f"Reminder sent {uk_date(now)}"
    assert line in admin.get(f"/requests/{r.id}").get_data(as_text=True)

    d = factories.advance(a.deployment, "agreement")
    factories.commit()
    assert "Reminder sent" not in admin.get(f"/deployments/{d.id}").get_data(as_text=True)
    assert reminders.remind_first_contact(d.confirmed_at + timedelta(days=5)) == 1
    assert reminders.remind_signatures(d.confirmed_at + timedelta(days=3, hours=1)) >= 1
    factories.commit()
    page = admin.get(f"/deployments/{d.id}").get_data(as_text=True)
    assert f"Reminder sent {uk_date(d.confirmed_at + timedelta(days=5))}" in page
    signing = f"Reminder sent {uk_date(d.confirmed_at + timedelta(days=3, hours=1))}"
    assert signing in page  # the agreement panel of the deployment page
    assert signing in admin.get(f"/deployments/{d.id}/agreement").get_data(as_text=True)


def test_an_overdue_invoice_says_so_in_money_with_its_due_date(world, client_for, monkeypatch):
    a = world.a
    d = factories.priced_deployment(a, status="completed")
    inv = finance.charge_invoices(d.id)[0]
    if inv.status == "draft":
        finance.mark_sent(inv, a.users["admin"])
    factories.commit()
    admin = client_for(a.users["admin"])
    show = admin.get(f"/finance/invoices/{inv.id}").get_data(as_text=True)
    assert "Overdue" not in show and uk_date(inv.due_on) in show
    monkeypatch.setattr("portal.formatting.london_today",
                        lambda: inv.due_on + timedelta(days=1))
    listing = admin.get("/finance/").get_data(as_text=True)
    assert "badge-invoice-overdue" in listing and ">Overdue<" in listing
    assert uk_date(inv.due_on) in listing
    show = admin.get(f"/finance/invoices/{inv.id}").get_data(as_text=True)
    assert ">Overdue<" in show and uk_date(inv.due_on) in show
    on = reminders.start_of(inv.due_on + timedelta(days=14)) + timedelta(hours=9)
    assert reminders.remind_invoices(on) >= 1
    factories.commit()
    show = admin.get(f"/finance/invoices/{inv.id}").get_data(as_text=True)
    assert f"Reminder sent {uk_date(on)}" in show
