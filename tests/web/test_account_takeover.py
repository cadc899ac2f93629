"""Issue 13, account takeover: a set-password link exists only in the email actually sent.

The outbox (which co-ordinators and directors read), the database (and so every backup), the
"Your data" export, the audit trail and the logs hold no usable link; an account that already
has a password cannot be re-invited; setting a password from a link ends every session of the
account and is announced to its email address.
"""

from __future__ import annotations

import logging
import re

from sqlalchemy import func, select

from portal.domain import invites, notify, subject_access
from portal.extensions import db
from portal.models import AuditEvent, InviteToken, OutboxEmail, User

NEW_ADMIN = "new.coordinator@alpha.example.org"


def _invite(c, w, email=NEW_ADMIN, role="admin"):
    return c.post("/admin/users/invite", {
        "email": email, "name": "New Coordinator", "role": role, "school_id": "",
        "board_id": "", "designation": "sle", "job_title": ""})


def _token(path: str) -> str:
    return path.rsplit("/", 1)[1]


def _everything_stored() -> str:
    """Every value in every table: what a backup of the database holds."""
    out = []
    for table in db.metadata.sorted_tables:
        out.extend(repr(tuple(row)) for row in db.session.execute(select(table)))
    return "\n".join(out)


def test_a_director_reading_the_outbox_finds_no_link_that_sets_a_password(
        world, client_for, anon, smtp):
    assert _invite(client_for(world.user("a", "admin")), world).status_code == 303
    mail = db.session.scalar(select(OutboxEmail).where(OutboxEmail.to == NEW_ADMIN))
    director = client_for(world.user("a", "director"))
    page = director.get(f"/coordinator/outbox/{mail.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "/account/set-password/" not in text
    assert "added when this email is sent" in text  # the reader is told why there is no link
    # nothing on the page that looks like a token opens a set-password form
    for candidate in sorted(set(re.findall(r"[A-Za-z0-9_-]{20,}", text))):
        assert anon.get(f"/account/set-password/{candidate}").status_code == 410, candidate
    # ...while the email that really went out carries a link that works
    assert anon.get(smtp.link(NEW_ADMIN)).status_code == 200


def test_the_link_is_nowhere_but_in_the_sent_email(world, client_for, smtp, caplog):
    caplog.set_level(logging.DEBUG)
    _invite(client_for(world.user("a", "admin")), world)
    token = _token(smtp.link(NEW_ADMIN))
    db.session.expire_all()
    stored = _everything_stored()
    assert token not in stored                        # outbox, tokens, audit: any backup
    assert invites.token_hash(token) in stored        # only its hash is kept
    user = db.session.scalar(select(User).where(User.email == NEW_ADMIN))
    export = subject_access.export(user)
    assert token not in subject_access.to_json(export)
    assert token not in subject_access.to_csv(export)
    assert token not in caplog.text
    events = db.session.scalars(select(AuditEvent)).all()
    assert all(token not in repr(e.detail) for e in events)


def test_without_a_mail_server_the_log_and_outbox_hold_no_link(world, client_for, app,
                                                               monkeypatch, caplog):
    """Development: the email is logged and kept, but no link is made for nobody to read."""
    monkeypatch.setitem(app.config, "MAIL_SERVER", "")
    caplog.set_level(logging.INFO, logger="portal.mail")
    _invite(client_for(world.user("a", "admin")), world)
    assert "Set your password" in caplog.text      # the email was logged...
    assert "set-password/" not in caplog.text      # ...without a link
    mail = db.session.scalar(select(OutboxEmail).where(OutboxEmail.to == NEW_ADMIN))
    assert "set-password/" not in mail.body and mail.sent_at is None
    assert db.session.scalar(select(func.count(InviteToken.id))) == 0  # nothing to spend


def test_a_retry_mints_a_fresh_link_and_the_earlier_one_stops_working(
        world, client_for, anon, app, smtp, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://support.example.org")
    _invite(client_for(world.user("a", "admin")), world)
    first = smtp.link(NEW_ADMIN)
    mail = db.session.scalar(select(OutboxEmail).where(OutboxEmail.to == NEW_ADMIN))
    # sent again, e.g. its worker died after the server took it but before it was marked sent
    mail.sent_at = None
    db.session.commit()
    assert notify.send_unsent() == 1
    second = smtp.link(NEW_ADMIN)
    assert second != first
    assert anon.get(first).status_code == 410
    assert anon.get(second).status_code == 200


def test_an_account_with_a_password_cannot_be_reinvited(world, client_for, anon, smtp):
    """The attack: an admin re-invites an active headteacher, sets a password, signs in as them.
    Now the re-invitation is refused and nothing is sent; they reset their own password."""
    head = world.user("a", "headteacher")
    c = client_for(world.user("a", "admin"))
    assert "Send a new invitation link" not in c.get(f"/admin/users/{head.id}").data.decode()
    r = c.post(f"/admin/users/{head.id}/reinvite")
    assert r.status_code == 409  # the policy's "not now", answered by error_pages
    page = r.get_data(as_text=True)
    assert "already set a password" in page and "Forgot your password?" in page
    assert db.session.scalar(select(func.count(InviteToken.id))) == 0
    assert db.session.scalar(select(func.count(OutboxEmail.id))) == 0
    assert smtp.messages == []
    assert not db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.reinvite"))


def test_someone_who_never_set_a_password_can_still_be_sent_a_new_link(
        world, client_for, anon, smtp):
    c = client_for(world.user("a", "admin"))
    _invite(c, world, email="late@alpha.example.org", role="director")
    first = smtp.link("late@alpha.example.org")
    user = db.session.scalar(select(User).where(User.email == "late@alpha.example.org"))
    assert c.post(f"/admin/users/{user.id}/reinvite").status_code == 303
    second = smtp.link("late@alpha.example.org")
    assert anon.get(first).status_code == 410 and anon.get(second).status_code == 200


def test_an_invitation_queued_before_the_password_was_set_carries_no_link(
        world, client_for, anon, app, smtp, monkeypatch):
    """An invitation that failed to send, retried after the person set a password (say from a
    reset email), must not arrive as a second way in."""
    c = client_for(world.user("a", "admin"))
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://support.example.org")
    monkeypatch.setitem(app.config, "MAIL_SERVER", "")  # the first attempt goes nowhere
    _invite(c, world, email="late@alpha.example.org", role="director")
    user = db.session.scalar(select(User).where(User.email == "late@alpha.example.org"))
    user.set_password("set some other way, long")
    db.session.commit()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    assert notify.send_unsent() == 1
    (text,) = smtp.texts("late@alpha.example.org")
    assert "set-password/" not in text and "already set your password" in text
    assert db.session.scalar(select(func.count(InviteToken.id))) == 0


def test_a_password_set_from_a_link_ends_every_session_and_is_announced(
        world, client_for, anon, smtp):
    head = world.user("a", "headteacher")
    here, there = client_for(head), client_for(head)
    assert here.get("/").status_code == 200 and there.get("/").status_code == 200
    assert anon.post("/account/forgot", {"email": head.email}).status_code == 200
    link = smtp.link(head.email)
    pw = "a brand new long password"
    assert anon.post(link, {"password": pw, "confirm": pw}).status_code == 303
    assert here.get("/").status_code == 302 and there.get("/").status_code == 302
    announcement = smtp.texts(head.email)[-1]
    assert "Your password was changed" in announcement
    assert "set-password/" not in announcement
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "account.password_set", AuditEvent.object_id == head.id))


def test_request_logs_never_hold_a_usable_link(world, live_server, caplog):
    """gunicorn's access log and the development server log every request line; a visited
    set-password link would sit there usable until spent."""
    import urllib.error
    import urllib.request

    from portal import logredact

    logredact.install()
    token = invites.issue(world.user("a", "headteacher"), None, purpose="reset")
    db.session.commit()
    caplog.set_level(logging.INFO)
    with urllib.request.urlopen(f"{live_server}/account/set-password/{token}") as r:  # noqa: S310
        assert r.status == 200
    gunicorn_atoms = {"h": "192.0.2.1", "r": f"GET /account/set-password/{token}?x=1 HTTP/1.1",
                      "s": "200", "f": f"https://support.example.org/account/set-password/{token}"}
    logging.getLogger("gunicorn.access").info('%(h)s "%(r)s" %(s)s "%(f)s"', gunicorn_atoms)
    assert "/account/set-password/[redacted]" in caplog.text
    assert token not in caplog.text


def test_the_your_data_export_lists_sign_ins_without_their_secret(world, client_for):
    head = world.user("a", "headteacher")
    client_for(head)  # signed in somewhere
    export = subject_access.export(head)
    (row,) = export["sign_in_sessions"]
    assert "sid_hash" not in row and row["ended_at"] is None
