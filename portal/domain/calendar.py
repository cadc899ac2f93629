"""Calendars: each user's private feed (ICS) and the invitation a visit email carries.

The feed holds what the user's pages show them, chosen by the same rules (``domain/access``
and ``domain/policy``), never more:

* visits (planned and delivered) of the deployments whose plan they may see
  (``access.plans_visible_to``), at :data:`VISIT_HOURS` London time;
* agreements waiting for *their* signature (``policy/agreements.waiting_sign``), on the day the
  co-ordinator is told it is overdue (``sign_escalate_days`` after it was drawn up);
* plan actions with a due date, not yet done, of those plans.

The link carries a random token; only its SHA-256 is stored (like set-password links,
``domain/invites.py``). It is shown once, when made; "Reset the link" replaces the hash, so the
old link answers 404 at once. UIDs are stable (``visit-<id>@host``), so a calendar updates an
event instead of adding another. Times are ``Europe/London`` with a VTIMEZONE, so a 09:00 visit
is 09:00 on either side of the clock change.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from icalendar import Calendar, Event, vCalAddress, vText
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import (
    Action,
    ActionPlan,
    Agreement,
    CalendarFeed,
    Deployment,
    RequestSchool,
    SupportRequest,
    User,
    Visit,
    utcnow,
)
from . import access, audit
from .policy import agreements as agreement_policy

LONDON = ZoneInfo("Europe/London")
# A visit's times: the school day, or its morning for a half-day visit (London wall-clock).
VISIT_HOURS = {2: (time(9, 0), time(15, 30)), 1: (time(9, 0), time(12, 0))}
PAST_DAYS = 180  # visits and deadlines further back than this are left out of the feed
PRODID = "-//School Support Portal//Calendar//EN"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def make_link(user: User, *, ip: str = "") -> str:
    """A new feed token for ``user`` (the caller shows it once and commits). Any earlier link
    of theirs stops working: its hash is replaced."""
    token = secrets.token_urlsafe(32)
    feed = db.session.get(CalendarFeed, user.id, with_for_update=True)
    reset = feed is not None
    if feed is None:
        feed = CalendarFeed(user_id=user.id)
        db.session.add(feed)
    feed.token_hash = token_hash(token)
    feed.created_at = utcnow()
    db.session.flush()
    audit.record(user, "calendar.link_reset" if reset else "calendar.link_made", user, ip=ip)
    return token


def stop_link(user: User, *, ip: str = "") -> bool:
    """Turn the user's feed off (its link answers 404). False if there was none."""
    feed = db.session.get(CalendarFeed, user.id, with_for_update=True)
    if feed is None:
        return False
    db.session.delete(feed)
    db.session.flush()
    audit.record(user, "calendar.link_stopped", user, ip=ip)
    return True


def link_made_at(user: User) -> datetime | None:
    return db.session.scalar(select(CalendarFeed.created_at)
                             .where(CalendarFeed.user_id == user.id))


def user_for(token: str) -> User | None:
    """The active user whose feed this token opens, or None."""
    if not token or len(token) > 100:
        return None
    user = db.session.scalar(select(User).join(CalendarFeed, CalendarFeed.user_id == User.id)
                             .where(CalendarFeed.token_hash == token_hash(token)))
    return user if user is not None and user.active else None


# ------------------------------------------------------------------------------- events


def _host() -> str:
    base = current_app.config.get("PUBLIC_URL", "") if has_app_context() else ""
    return urlsplit(base).hostname or "school-support-portal"


def _url(path: str) -> str:
    base = current_app.config.get("PUBLIC_URL", "") if has_app_context() else ""
    return f"{base}{path}" if base else path


def visit_times(visit: Visit) -> tuple[datetime, datetime]:
    start, end = VISIT_HOURS.get(visit.half_days, VISIT_HOURS[2])
    return (datetime.combine(visit.visit_date, start, LONDON),
            datetime.combine(visit.visit_date, end, LONDON))


def _schools(deployment: Deployment) -> str:
    names = [rs.school.name for rs in deployment.request.schools if rs.school is not None]
    return ", ".join(names) or deployment.home_school.name


def visit_event(visit: Visit, stamp: datetime) -> Event:
    d = visit.deployment
    start, end = visit_times(visit)
    ev = Event()
    ev.add("uid", f"visit-{visit.id}@{_host()}")
    ev.add("dtstamp", stamp)
    ev.add("dtstart", start)
    ev.add("dtend", end)
    where = _schools(d)
    ev.add("summary", f"Support visit: {where} ({d.reference})")
    ev.add("location", where)
    state = "Planned" if visit.status == "planned" else "Delivered"
    days = "a full day" if visit.half_days == 2 else "half a day"
    ev.add("description", f"{state} visit, {days}, by {d.leader.name}."
           + (f"\n{visit.notes}" if visit.notes else ""))
    ev.add("status", "CONFIRMED")
    ev.add("url", _url(f"/deployments/{d.id}/plan"))
    return ev


def _all_day(uid: str, day: date, summary: str, description: str, url: str,
             stamp: datetime) -> Event:
    ev = Event()
    ev.add("uid", f"{uid}@{_host()}")
    ev.add("dtstamp", stamp)
    ev.add("dtstart", day)
    ev.add("dtend", day + timedelta(days=1))
    ev.add("summary", summary)
    ev.add("description", description)
    ev.add("transp", "TRANSPARENT")  # a deadline does not make anyone busy
    ev.add("url", _url(url))
    return ev


def _calendar(name: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "Europe/London")
    return cal


def _london_day(moment: datetime) -> date:
    return moment.astimezone(LONDON).date()


def feed(user: User, *, now: datetime | None = None) -> bytes:
    """The user's calendar: their visits, the agreements waiting for their signature and the
    plan actions due, as far as their pages show them."""
    from .reminders import settings_for

    now = now or datetime.now(UTC)
    since = _london_day(now) - timedelta(days=PAST_DAYS)
    cal = _calendar("School Support Portal")
    plans = select(Deployment.id).where(access.plans_visible_to(user)).correlate(None)
    visits = db.session.scalars(
        select(Visit).where(Visit.deployment_id.in_(plans), Visit.visit_date >= since)
        .options(joinedload(Visit.deployment).joinedload(Deployment.leader),
                 joinedload(Visit.deployment).joinedload(Deployment.home_school),
                 joinedload(Visit.deployment).joinedload(Deployment.request)
                 .joinedload(SupportRequest.schools).joinedload(RequestSchool.school))
        .order_by(Visit.visit_date, Visit.id)).unique()
    for visit in visits:
        cal.add_component(visit_event(visit, now))
    rows = db.session.execute(
        select(Agreement, Deployment).join(Deployment, Deployment.id == Agreement.deployment_id)
        .where(access.deployments_visible_to(user), agreement_policy.waiting_sign(user, Deployment))
        .order_by(Agreement.id)).all()
    for agreement, d in rows:
        due = _london_day(agreement.created_at) + timedelta(
            days=settings_for(d.alliance_id).sign_escalate_days)
        cal.add_component(_all_day(
            f"agreement-{agreement.id}-sign", due, f"Sign the agreement for {d.reference}",
            "The agreement is waiting for your signature. After this day the co-ordinator is "
            "told it is overdue.", f"/deployments/{d.id}/agreement", now))
    actions = db.session.execute(
        select(Action, Deployment).join(ActionPlan, ActionPlan.id == Action.plan_id)
        .join(Deployment, Deployment.id == ActionPlan.deployment_id)
        .where(Deployment.id.in_(plans), Action.due_date.is_not(None), Action.status != "done",
               Action.due_date >= since)
        .order_by(Action.due_date, Action.id)).all()
    for action, d in actions:
        summary = " ".join(action.description.split())
        cal.add_component(_all_day(
            f"action-{action.id}", action.due_date or since,
            f"Action due ({d.reference}): {summary[:80]}" + ("…" if len(summary) > 80 else ""),
            action.description + (f"\nOwner: {action.owner}" if action.owner else ""),
            f"/deployments/{d.id}/plan", now))
    cal.add_missing_timezones()
    return cal.to_ical()


def invitation(visit: Visit, recipient: User, sender: str, *,
               now: datetime | None = None) -> bytes:
    """A METHOD:REQUEST invitation to one visit, for its email (made at send time)."""
    now = now or datetime.now(UTC)
    cal = _calendar("Support visit")
    cal.add("method", "REQUEST")
    ev = visit_event(visit, now)
    ev.add("sequence", 0)
    organizer = vCalAddress(f"mailto:{sender}")
    organizer.params["cn"] = vText("School Support Portal")
    ev.add("organizer", organizer)
    attendee = vCalAddress(f"mailto:{recipient.email}")
    attendee.params["cn"] = vText(recipient.name)
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    attendee.params["partstat"] = vText("NEEDS-ACTION")
    attendee.params["rsvp"] = vText("FALSE")
    ev.add("attendee", attendee)
    cal.add_component(ev)
    cal.add_missing_timezones()
    return cal.to_ical()
