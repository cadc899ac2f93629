"""Calendar feeds (issue 21, item 4): a private, revocable ICS link per user, scoped like the
pages; times in Europe/London across the clock changes; visit emails carry an invitation."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import select

from portal.domain import calendar, notify
from portal.domain import plans as plan_domain
from portal.extensions import db as _db
from portal.models import AuditEvent, CalendarFeed, OutboxEmail, Visit
from tests import factories
from tests.factories import agreements as fa
from tests.factories import plans as fp

LONDON = ZoneInfo("Europe/London")
ROLES = ["headteacher", "sle", "home_school", "director", "admin", "board"]
LINK = re.compile(r'value="(https?://[^"]+/account/calendar/([\w-]+)\.ics)"')


def _visit(d, day: date, half_days: int = 2, status: str = "planned") -> Visit:
    v = Visit(deployment_id=d.id, visit_date=day, half_days=half_days, status=status,
              logged_by_id=d.leader_id, notes="Observe Year 4 maths")
    _db.session.add(v)
    _db.session.flush()
    return v


def _events(ics: bytes) -> dict[str, object]:
    cal = Calendar.from_ical(ics)
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


def _make_link(client) -> tuple[str, str]:
    r = client.post("/account/calendar/link")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    url, token = LINK.search(r.get_data(as_text=True)).groups()
    return url, token


def test_the_link_is_shown_once_stored_as_a_hash_and_reset_revokes_it(world, client_for, anon):
    head = world.user("a", "headteacher")
    c = client_for(head)
    assert "no calendar link yet" in c.get("/account/calendar").get_data(as_text=True)
    url, token = _make_link(c)
    stored = _db.session.get(CalendarFeed, head.id)
    assert stored.token_hash == calendar.token_hash(token) and token not in stored.token_hash
    page = c.get("/account/calendar").get_data(as_text=True)
    assert token not in page and "Reset the link" in page  # shown once only
    feed = anon.get(f"/account/calendar/{token}.ics")
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    Calendar.from_ical(feed.data)
    _, new = _make_link(c)  # "Reset the link"
    assert anon.get(f"/account/calendar/{token}.ics").status_code == 404
    assert anon.get(f"/account/calendar/{new}.ics").status_code == 200
    assert c.post("/account/calendar/stop").status_code == 303
    assert anon.get(f"/account/calendar/{new}.ics").status_code == 404
    assert anon.get("/account/calendar/not-a-token.ics").status_code == 404
    actions = list(_db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.action.like("calendar.%")).order_by(AuditEvent.id)))
    assert actions == ["calendar.link_made", "calendar.link_reset", "calendar.link_stopped"]


def test_a_deactivated_users_link_stops(world, client_for, anon):
    head = world.user("a", "headteacher")
    _, token = _make_link(client_for(head))
    head.active = False
    _db.session.commit()
    assert anon.get(f"/account/calendar/{token}.ics").status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_every_role_can_make_and_read_its_own_feed(world, client_for, anon, role):
    c = client_for(world.user("a", role))
    assert c.get("/account/calendar").status_code == 200
    _, token = _make_link(c)
    r = anon.get(f"/account/calendar/{token}.ics")
    assert r.status_code == 200
    cal = Calendar.from_ical(r.data)
    assert str(cal["PRODID"]) == calendar.PRODID
    assert anon.post("/account/calendar/link").status_code in (302, 400)  # signed in only


def test_the_feed_shows_only_what_the_users_pages_show(world, client_for, anon):
    plan, _o, a1, a2 = fp.plans_world(world)
    soon = date.today() + timedelta(days=10)
    mine = _visit(world.a.deployment, soon)
    theirs = _visit(world.b.deployment, soon)
    a2.status = "done"
    b_plan = fp.plan_of(world.b.deployment)
    b_action = fp.action(b_plan, "Beta's own action")
    factories.commit()
    expected = {
        "headteacher": {f"visit-{mine.id}", f"action-{a1.id}"},
        "sle": {f"visit-{mine.id}", f"action-{a1.id}"},
        "director": {f"visit-{mine.id}", f"action-{a1.id}"},
        "admin": {f"visit-{mine.id}", f"action-{a1.id}"},
        "home_school": set(),  # sees the deployment, not its plan or visits (access.PLAN_ROLES)
        "board": set(),
        "other_head": set(),
    }
    for role, uids in expected.items():
        got = {uid.split("@")[0] for uid in _events(calendar.feed(world.user("a", role)))}
        assert got == uids, role
        assert f"visit-{theirs.id}" not in got and f"action-{b_action.id}" not in got
    b_leader = {uid.split("@")[0] for uid in _events(calendar.feed(world.user("b", "sle")))}
    assert b_leader == {f"visit-{theirs.id}", f"action-{b_action.id}"}
    _, token = _make_link(client_for(world.user("a", "headteacher")))
    events = _events(anon.get(f"/account/calendar/{token}.ics").data)
    visit = next(e for uid, e in events.items() if uid.startswith(f"visit-{mine.id}@"))
    assert "Alpha Receiving Primary" in str(visit["SUMMARY"])
    action = next(e for uid, e in events.items() if uid.startswith(f"action-{a1.id}@"))
    assert action.decoded("DTSTART") == a1.due_date  # an all-day event on the due date


def test_uids_are_stable_and_a_cancelled_visit_leaves_the_feed(world):
    fp.plans_world(world)
    v = _visit(world.a.deployment, date.today() + timedelta(days=5))
    head = world.user("a", "headteacher")
    first, again = _events(calendar.feed(head)), _events(calendar.feed(head))
    assert first.keys() == again.keys() and any(k.startswith(f"visit-{v.id}@") for k in first)
    _db.session.delete(v)
    _db.session.flush()
    assert not any(k.startswith(f"visit-{v.id}@") for k in _events(calendar.feed(head)))


@pytest.mark.parametrize(("day", "half_days", "utc_start", "utc_end"), [
    (date(2027, 3, 26), 2, (9, 0), (15, 30)),  # Friday, GMT
    (date(2027, 3, 29), 2, (8, 0), (14, 30)),  # Monday after the clocks go forward: BST
    (date(2027, 10, 29), 1, (8, 0), (11, 0)),  # Friday, still BST
    (date(2027, 11, 1), 1, (9, 0), (12, 0)),  # Monday after the clocks go back: GMT
])
def test_visit_times_are_london_wall_clock_across_the_clock_changes(world, day, half_days,
                                                                   utc_start, utc_end):
    fp.plans_world(world)
    v = _visit(world.a.deployment, day, half_days)
    ics = calendar.feed(world.user("a", "headteacher"),
                        now=datetime(2027, 1, 4, tzinfo=UTC))
    cal = Calendar.from_ical(ics)
    zones = cal.walk("VTIMEZONE")
    assert [str(z["TZID"]) for z in zones] == ["Europe/London"]
    assert {c.name for c in zones[0].subcomponents} >= {"STANDARD", "DAYLIGHT"}
    ev = next(e for e in cal.walk("VEVENT") if str(e["UID"]).startswith(f"visit-{v.id}@"))
    assert ev["DTSTART"].params["TZID"] == "Europe/London"
    start, end = ev.decoded("DTSTART"), ev.decoded("DTEND")
    assert (start.hour, start.minute) == (9, 0)  # 9am in London, whatever the season
    assert start.astimezone(UTC).replace(tzinfo=None) == datetime.combine(
        day, datetime.min.time()).replace(hour=utc_start[0], minute=utc_start[1])
    assert (end.astimezone(UTC).hour, end.astimezone(UTC).minute) == utc_end
    assert b"TZID=Europe/London:" in ics


def test_agreements_waiting_for_the_users_signature_are_deadlines(db):
    w = fa.ready_world()
    d = w.a.deployment
    head = w.user("a", "headteacher")
    uids = {uid.split("@")[0]: e for uid, e in _events(calendar.feed(head)).items()}
    (key,) = [k for k in uids if k.startswith("agreement-")]
    ev = uids[key]
    assert d.reference in str(ev["SUMMARY"]) and str(ev["SUMMARY"]).startswith("Sign")
    theirs = {u.split("@")[0] for u in _events(calendar.feed(w.user("b", "headteacher")))}
    assert key not in theirs and any(k.startswith("agreement-") for k in theirs)  # B's own
    for role in ("board", "admin", "other_head"):
        assert not any(u.startswith("agreement-")
                       for u in _events(calendar.feed(w.user("a", role)))), role
    from portal.models import Agreement
    agreement = _db.session.scalar(select(Agreement).where(Agreement.deployment_id == d.id))
    fa.sign(agreement, head)
    _db.session.flush()
    assert not any(u.startswith("agreement-") for u in _events(calendar.feed(head)))


def _visit_emails(smtp, address):
    msgs = [message_from_bytes(e.content, policy=policy.default) for e in smtp.messages
            if address in e.rcpt_tos]
    return [m for m in msgs if "a visit is planned" in m["Subject"]]


def test_a_planned_visit_email_carries_a_request_invitation(world, smtp):
    fp.plans_world(world)
    day = date.today() + timedelta(days=7)
    v = plan_domain.plan_visit(world.a.deployment, world.a.leader, visit_date=day,
                               half_days=1, url="/deployments/1/plan")
    factories.commit()
    head = world.user("a", "headteacher")
    mail = _db.session.scalar(select(OutboxEmail).where(OutboxEmail.to == head.email,
                                                       OutboxEmail.attachment == f"visit:{v.id}"))
    assert mail is not None and "BEGIN:VCALENDAR" not in mail.body  # made at send time
    notify.deliver([mail.id])
    (msg,) = _visit_emails(smtp, head.email)
    (part,) = [p for p in msg.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert part.get_param("method") == "REQUEST" and part.get_filename() == "visit.ics"
    cal = Calendar.from_ical(part.get_content())
    assert str(cal["METHOD"]) == "REQUEST"
    (ev,) = cal.walk("VEVENT")
    assert str(ev["UID"]).startswith(f"visit-{v.id}@")
    assert ev.decoded("DTSTART") == datetime.combine(day, datetime.min.time(), LONDON) \
        .replace(hour=9)
    assert str(ev["ATTENDEE"]) == f"mailto:{head.email}"


def test_an_invitation_is_made_only_for_a_visit_still_planned(world):
    """Made at send time: a visit cancelled (deleted) or delivered by then gets none."""
    fp.plans_world(world)
    head = world.user("a", "headteacher")
    v = _visit(world.a.deployment, date.today() + timedelta(days=7))
    mail = OutboxEmail(to=head.email, subject="Visit", body="Visit", attachment=f"visit:{v.id}")
    assert b"METHOD:REQUEST" in notify.calendar_invitation(mail, "Portal <portal@example.org>")
    assert b"mailto:portal@example.org" in notify.calendar_invitation(mail, "portal@example.org")
    v.status = "delivered"
    _db.session.flush()
    assert notify.calendar_invitation(mail, "portal@example.org") is None
    _db.session.delete(v)
    _db.session.flush()
    assert notify.calendar_invitation(mail, "portal@example.org") is None
    assert notify.calendar_invitation(OutboxEmail(to=head.email, subject="x", body="x"),
                                      "portal@example.org") is None
