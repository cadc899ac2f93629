"""Reminders and escalations on every clock, each a sweep that is safe to run at any time.

Each kind is a function ``remind_<kind>(now) -> int`` (the reminders it issued); :func:`sweep_all`
runs them all (``flask remind``, or the job worker's periodic task). A sweep

* finds what is due with set-based queries (the objects, their facts, the candidate users: a
  fixed number of queries however many objects there are), asks the *policy* (the Python form
  of the "waiting for me" twins, with the facts loaded in bulk) who is awaited, and
* claims each (kind, object, step, recipient) in ``reminder_sent`` with one
  ``INSERT ... ON CONFLICT DO NOTHING ... RETURNING`` and tells only the recipients whose row it
  inserted, in the same transaction. However often it runs and however many schedulers run at
  once, a reminder goes once: a second, concurrent insert of the same key waits for the first
  and then inserts nothing.

Who is *escalated to* (the co-ordinator, the director, the commissioner) is the escalation
rule of issue 17; who is *awaited* always comes from ``domain/policy``.

Thresholds are per alliance (``alliance_settings``, :data:`~portal.models.reminders.DEFAULTS`).
Working days skip weekends and England's bank holidays (the ``holidays`` library), counted on
London calendar days. Emails follow each user's choice (``User.daily_digest``): immediate, or one
daily digest (:func:`send_digests`); the in-portal notification always appears.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import (
    Action,
    ActionPlan,
    Agreement,
    AllianceSettings,
    Deployment,
    DeploymentResponse,
    Evaluation,
    Invoice,
    Notification,
    ReminderSent,
    RequestSchool,
    SupportRequest,
    User,
)
from ..models.reminders import DEFAULTS
from . import notify
from .policy import agreements as agreement_policy
from .policy import deployments as proposal_policy
from .policy import evaluations as evaluation_policy
from .policy import plans as plan_policy
from .policy import requests as request_policy

LONDON = ZoneInfo("Europe/London")
KINDS = ("matching", "response", "signature", "first_contact", "plan_actions", "evaluation",
         "invoice")

# -------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class Settings:
    payment_terms_days: int = DEFAULTS["payment_terms_days"]
    match_remind_hours: int = DEFAULTS["match_remind_hours"]
    match_overdue_hours: int = DEFAULTS["match_overdue_hours"]
    response_remind_working_days: int = DEFAULTS["response_remind_working_days"]
    response_escalate_working_days: int = DEFAULTS["response_escalate_working_days"]
    sign_remind_days: int = DEFAULTS["sign_remind_days"]
    sign_escalate_days: int = DEFAULTS["sign_escalate_days"]
    contact_remind_days: int = DEFAULTS["contact_remind_days"]
    contact_escalate_days: int = DEFAULTS["contact_escalate_days"]
    evaluation_days: int = DEFAULTS["evaluation_days"]


DEFAULT_SETTINGS = Settings()


class AllSettings(dict[int, Settings]):
    """Every alliance's settings, read in one query; a missing alliance has the defaults."""

    def __missing__(self, alliance_id: int) -> Settings:
        return DEFAULT_SETTINGS

    def least(self, name: str) -> int:
        return min([getattr(DEFAULT_SETTINGS, name)]
                   + [getattr(s, name) for s in self.values()])


def all_settings() -> AllSettings:
    out = AllSettings()
    for row in db.session.scalars(select(AllianceSettings)):
        out[row.alliance_id] = Settings(**{k: getattr(row, k) for k in DEFAULTS})
    return out


def settings_for(alliance_id: int) -> Settings:
    row = db.session.get(AllianceSettings, alliance_id)
    if row is None:
        return DEFAULT_SETTINGS
    return Settings(**{k: getattr(row, k) for k in DEFAULTS})


# ---------------------------------------------------------------------- working days


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


def is_working_day(day: date) -> bool:
    """Monday to Friday and not a bank holiday in England (substitute days included)."""
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def add_working_days(start: datetime, n: int) -> datetime:
    """The moment ``n`` working days after ``start``, at the same London time of day. A start
    outside working days counts from the next working day's start."""
    local = start.astimezone(LONDON)
    day, at = local.date(), local.time().replace(tzinfo=None)
    if not is_working_day(day):
        at = time(0)
        while not is_working_day(day):
            day += timedelta(days=1)
    for _ in range(n):
        day += timedelta(days=1)
        while not is_working_day(day):
            day += timedelta(days=1)
    return datetime.combine(day, at, tzinfo=LONDON).astimezone(UTC)


def london_day(moment: datetime) -> date:
    return moment.astimezone(LONDON).date()


def start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LONDON).astimezone(UTC)


# -------------------------------------------------------------------- issuing, once


@dataclass(frozen=True)
class Due:
    """One reminder owed to one user."""

    object_type: str
    object_id: int
    step: int
    user: User
    message: str
    url: str
    alliance_id: int

    @property
    def key(self) -> tuple[str, int, int, int]:
        return (self.object_type, self.object_id, self.step, self.user.id)


def _insert():
    return pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert


def issue(kind: str, dues: Iterable[Due], now: datetime) -> int:
    """Claim each reminder in ``reminder_sent`` and notify the users whose claim was new.
    Returns how many were issued. Never commits."""
    unique: dict[tuple[str, int, int, int], Due] = {}
    for due in dues:
        if due.user.active:
            unique.setdefault(due.key, due)
    if not unique:
        return 0
    claimed = {(r[0], r[1], r[2], r[3]) for r in _claim([
        {"kind": kind, "object_type": d.object_type, "object_id": d.object_id, "step": d.step,
         "user_id": d.user.id, "sent_at": now} for d in unique.values()])}
    notify.notify_many(((due.user, due.message, due.url, due.alliance_id)
                        for key, due in unique.items() if key in claimed), at=now)
    return len(claimed)


def _claim(rows: list[dict]):
    """INSERT these reminder_sent rows, skipping any already there (however many schedulers
    insert the same at once); return (object_type, object_id, step, user_id) of those new."""
    table = ReminderSent.__table__
    stmt = (_insert()(table)
            .on_conflict_do_nothing(index_elements=["kind", "object_type", "object_id", "step",
                                                    "user_id"])
            .returning(table.c.object_type, table.c.object_id, table.c.step, table.c.user_id))
    return db.session.execute(stmt, rows).all() if rows else []


def last_sent(object_type: str, object_id: int) -> datetime | None:
    """When the latest reminder about this object went (for "Reminder sent 2 Dec 2026")."""
    return db.session.scalar(select(func.max(ReminderSent.sent_at)).where(
        ReminderSent.object_type == object_type, ReminderSent.object_id == object_id))


def _users(*where) -> list[User]:
    return list(db.session.scalars(select(User).where(User.active.is_(True), *where)))


def _by_alliance_role(users: Iterable[User]) -> dict[tuple[int, str], list[User]]:
    out: dict[tuple[int, str], list[User]] = defaultdict(list)
    for u in users:
        out[(u.alliance_id, u.role)].append(u)
    return out


def _by_school(users: Iterable[User]) -> dict[int, list[User]]:
    out: dict[int, list[User]] = defaultdict(list)
    for u in users:
        if u.school_id:
            out[u.school_id].append(u)
    return out


def _overseers(alliance_ids: Iterable[int]) -> dict[tuple[int, str], list[User]]:
    ids = set(alliance_ids)
    if not ids:
        return {}
    return _by_alliance_role(_users(User.alliance_id.in_(ids),
                                    User.role.in_(("admin", "director"))))


def _name(req_or_dep) -> str:
    return req_or_dep.reference


# -------------------------------------------------------------------------- matching


def remind_matching(now: datetime) -> int:
    """An unmatched request: at 36 hours the co-ordinator (step 1); at 48 hours, overdue, the
    co-ordinator and the director (step 2). Only the latest step reached is sent."""
    cfg = all_settings()
    cutoff = now - timedelta(hours=cfg.least("match_remind_hours"))
    reqs = list(db.session.scalars(select(SupportRequest).where(
        SupportRequest.status.in_(request_policy_statuses()),
        SupportRequest.submitted_at.is_not(None), SupportRequest.submitted_at <= cutoff)))
    people = _overseers(r.alliance_id for r in reqs)
    dues: list[Due] = []
    for req in reqs:
        s = cfg[req.alliance_id]
        age = now - req.submitted_at
        if age < timedelta(hours=s.match_remind_hours):
            continue
        overdue = age >= timedelta(hours=s.match_overdue_hours)
        awaited = [u for u in people.get((req.alliance_id, "admin"), [])
                   if any(request_policy.waiting(req, u)[k] for k in ("triage", "match"))]
        url = f"/requests/{req.id}"
        if overdue:
            msg = (f"Request {req.reference} is overdue: not matched within "
                   f"{s.match_overdue_hours} hours")
            for u in awaited + people.get((req.alliance_id, "director"), []):
                dues.append(Due("request", req.id, 2, u, msg, url, req.alliance_id))
        else:
            msg = (f"Reminder: request {req.reference} has waited {s.match_remind_hours} hours "
                   f"for a match")
            for u in awaited:
                dues.append(Due("request", req.id, 1, u, msg, url, req.alliance_id))
    return issue("matching", dues, now)


def request_policy_statuses() -> tuple[str, ...]:
    from .brokering import WAITING_FOR_MATCH

    return WAITING_FOR_MATCH


# --------------------------------------------------------------- confirmation/release


def remind_responses(now: datetime) -> int:
    """A proposal unanswered after 2 working days: each awaited party (step 1), as the policy
    says (``policy/deployments.waiting``); after 4, the co-ordinator (step 2)."""
    cfg = all_settings()
    cutoff = now - timedelta(days=cfg.least("response_remind_working_days"))
    deps = list(db.session.scalars(select(Deployment).where(
        Deployment.status == "proposed", Deployment.proposed_at <= cutoff)))
    if not deps:
        return 0
    receiving: dict[int, set[int]] = defaultdict(set)
    for request_id, school_id in db.session.execute(
            select(RequestSchool.request_id, RequestSchool.school_id)
            .where(RequestSchool.request_id.in_({d.request_id for d in deps}))):
        receiving[request_id].add(school_id)
    answered: dict[int, set[tuple[str, int]]] = defaultdict(set)
    for dep_id, party, school_id in db.session.execute(
            select(DeploymentResponse.deployment_id, DeploymentResponse.party,
                   DeploymentResponse.school_id)
            .where(DeploymentResponse.deployment_id.in_([d.id for d in deps]))):
        answered[dep_id].add((party, school_id))
    schools = {s for d in deps for s in receiving[d.request_id]} | {d.home_school_id for d in deps}
    candidates = _users(or_(User.id.in_({d.leader_id for d in deps}),
                            User.role.in_(("headteacher", "home_school"))
                            & User.school_id.in_(schools)))
    by_school: dict[int, list[User]] = defaultdict(list)
    by_id = {u.id: u for u in candidates}
    for u in candidates:
        if u.school_id:
            by_school[u.school_id].append(u)
    people = _overseers(d.alliance_id for d in deps)
    dues: list[Due] = []
    for d in deps:
        s = cfg[d.alliance_id]
        url = f"/deployments/{d.id}"
        if now < add_working_days(d.proposed_at, s.response_remind_working_days):
            continue
        f = proposal_policy.Facts(frozenset(receiving[d.request_id]),
                                  frozenset(answered[d.id]))
        near = {u.id: u for sid in (f.receiving | {d.home_school_id})
                for u in by_school.get(sid, [])}
        if d.leader_id in by_id:
            near[d.leader_id] = by_id[d.leader_id]
        awaited = [u for u in near.values() if any(proposal_policy.waiting(d, u, f).values())]
        if not awaited:
            continue
        for u in awaited:
            dues.append(Due("deployment", d.id, 1, u,
                            f"Reminder: deployment {d.reference} is waiting for your answer",
                            url, d.alliance_id))
        if now >= add_working_days(d.proposed_at, s.response_escalate_working_days):
            msg = (f"Deployment {d.reference} has waited {s.response_escalate_working_days} "
                   f"working days for answers")
            for u in people.get((d.alliance_id, "admin"), []):
                dues.append(Due("deployment", d.id, 2, u, msg, url, d.alliance_id))
    return issue("response", dues, now)


# ------------------------------------------------------------------------ signatures

SIGN_ESCALATION = 1000  # the step of the co-ordinator's escalation (the others count intervals)


def remind_signatures(now: datetime) -> int:
    """An open agreement unsigned after 3 days: each signatory still awaited
    (``policy/agreements.sign``), then every 3 days (step n = the n-th interval); after 14
    days, the co-ordinator (once)."""
    cfg = all_settings()
    cutoff = now - timedelta(days=cfg.least("sign_remind_days"))
    # one query each (joined, not select-in: no batches of 500 ids as the numbers grow)
    agreements = list(db.session.scalars(
        select(Agreement).join(Deployment, Deployment.id == Agreement.deployment_id)
        .where(Agreement.status.in_(agreement_policy.OPEN), Deployment.status == "agreement",
               Agreement.created_at <= cutoff)
        .options(joinedload(Agreement.signatures))).unique())
    if not agreements:
        return 0
    deps = {d.id: d for d in db.session.scalars(
        select(Deployment).join(Agreement, Agreement.deployment_id == Deployment.id)
        .where(Agreement.status.in_(agreement_policy.OPEN), Deployment.status == "agreement",
               Agreement.created_at <= cutoff)
        .options(joinedload(Deployment.leader), joinedload(Deployment.home_school),
                 joinedload(Deployment.alliance),
                 joinedload(Deployment.request).joinedload(SupportRequest.schools)
                 .joinedload(RequestSchool.school))).unique()}
    schools = {d.home_school_id for d in deps.values()} | {
        rs.school_id for d in deps.values() for rs in d.request.schools}
    alliances = {d.alliance_id for d in deps.values()}
    candidates = _users(or_(User.id.in_({d.leader_id for d in deps.values()}),
                            User.role.in_(("headteacher", "home_school"))
                            & User.school_id.in_(schools),
                            (User.role == "director") & User.alliance_id.in_(alliances)))
    people = _overseers(alliances)
    by_school = _by_school(candidates)
    by_id = {u.id: u for u in candidates}
    directors = _by_alliance_role(u for u in candidates if u.role == "director")
    dues: list[Due] = []
    from .agreements import slot_for

    for a in agreements:
        d = deps[a.deployment_id]
        s = cfg[d.alliance_id]
        age = now - a.created_at
        step = age // timedelta(days=s.sign_remind_days)
        if step < 1:
            continue
        url = f"/deployments/{d.id}/agreement"
        near = {u.id: u for sid in {d.home_school_id} | {rs.school_id for rs in d.request.schools}
                for u in by_school.get(sid, [])}
        near.update({u.id: u for u in directors.get((d.alliance_id, "director"), [])})
        if d.leader_id in by_id:
            near[d.leader_id] = by_id[d.leader_id]
        for u in near.values():
            f = agreement_policy.Facts(slot_for(d, a, u))
            if f.slot is None or not agreement_policy.sign(a, d, u, f).allowed:
                continue
            dues.append(Due("agreement", a.id, step, u,
                            f"Reminder: the agreement for {d.reference} is waiting for your "
                            f"signature", url, d.alliance_id))
        if age >= timedelta(days=s.sign_escalate_days):
            for u in people.get((d.alliance_id, "admin"), []):
                dues.append(Due("agreement", a.id, SIGN_ESCALATION, u,
                                f"The agreement for {d.reference} is still unsigned after "
                                f"{s.sign_escalate_days} days", url, d.alliance_id))
    return issue("signature", dues, now)


# --------------------------------------------------------------------- first contact


def remind_first_contact(now: datetime) -> int:
    """No first contact on day 5 after confirmation: the leader (step 1, whoever may log it,
    ``policy/plans.log_first_contact``); on day 7: the leader and the director, or the
    commissioner where the deployment has one (step 2)."""
    cfg = all_settings()
    cutoff = now - timedelta(days=cfg.least("contact_remind_days"))
    deps = list(db.session.scalars(select(Deployment).where(
        Deployment.status.in_(plan_policy.CONTACT_STATUSES),
        Deployment.first_contact_at.is_(None), Deployment.confirmed_at.is_not(None),
        Deployment.confirmed_at <= cutoff)))
    if not deps:
        return 0
    leaders = {u.id: u for u in _users(User.id.in_(
        {d.leader_id for d in deps} | {d.commissioning_leader_id for d in deps
                                       if d.commissioning_leader_id}))}
    people = _overseers(d.alliance_id for d in deps)
    dues: list[Due] = []
    for d in deps:
        s = cfg[d.alliance_id]
        age = now - d.confirmed_at
        if age < timedelta(days=s.contact_remind_days):
            continue
        editors = [u for uid in (d.leader_id, d.commissioning_leader_id)
                   if uid and (u := leaders.get(uid)) is not None
                   and plan_policy.log_first_contact(d, u).allowed]
        url = f"/deployments/{d.id}"
        if age >= timedelta(days=s.contact_escalate_days):
            over = ([leaders[d.commissioning_leader_id]]
                    if d.commissioning_leader_id in leaders
                    else people.get((d.alliance_id, "director"), []))
            msg = (f"First contact for {d.reference} is overdue: not logged within "
                   f"{s.contact_escalate_days} days")
            for u in editors + over:
                dues.append(Due("deployment", d.id, 12, u, msg, url, d.alliance_id))
        else:
            for u in editors:
                dues.append(Due("deployment", d.id, 11, u,
                                f"Reminder: log first contact for {d.reference} (due within "
                                f"{s.contact_escalate_days} days of confirmation)", url,
                                d.alliance_id))
    return issue("first_contact", dues, now)


# ---------------------------------------------------------------------- plan actions


def remind_plan_actions(now: datetime) -> int:
    """Plan actions due tomorrow or overdue (not done), in active deployments: one message a
    day to each leader who may change the plan (``policy/plans.edit_plan``), listing them."""
    today = london_day(now)
    rows = db.session.execute(
        select(Action.description, Action.due_date, Deployment)
        .join(ActionPlan, ActionPlan.id == Action.plan_id)
        .join(Deployment, Deployment.id == ActionPlan.deployment_id)
        .where(Deployment.status.in_(plan_policy.DELIVERY_STATUSES),
               Action.status != "done", Action.due_date.is_not(None),
               Action.due_date <= today + timedelta(days=1))
        .order_by(Action.due_date, Action.id)).all()
    if not rows:
        return 0
    deps = {d.id: d for _t, _due, d in rows}
    leaders = {u.id: u for u in _users(User.id.in_(
        {d.leader_id for d in deps.values()} | {d.commissioning_leader_id for d in deps.values()
                                               if d.commissioning_leader_id}))}
    lines: dict[int, list[str]] = defaultdict(list)
    where: dict[int, Deployment] = {}
    for text, due, d in rows:
        assert due is not None  # the query asked for a due date
        for uid in (d.leader_id, d.commissioning_leader_id):
            u = leaders.get(uid) if uid else None
            if u is None or not plan_policy.edit_plan(d, u).allowed:
                continue
            when = "due tomorrow" if due > today else (
                "due today" if due == today else f"overdue since {_date(due)}")
            lines[u.id].append(f"{d.reference}: {text[:80]} ({when})")
            where.setdefault(u.id, d)
    dues = []
    for uid, items in lines.items():
        d = where[uid]
        count = len(items)
        msg = (f"{count} plan action{' is' if count == 1 else 's are'} due tomorrow or "
               f"overdue: " + "; ".join(items))
        dues.append(Due("user", uid, today.toordinal(), leaders[uid], msg,
                        f"/deployments/{d.id}", d.alliance_id))
    return issue("plan_actions", dues, now)


def _date(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


# ----------------------------------------------------------------------- evaluations


def remind_evaluations(now: datetime) -> int:
    """Step 1: no final evaluation 10 days after the agreed days were used, to the leader
    (``policy/evaluations`` "write"); step 2: a school's evaluation or sign-off pending 10 days,
    to its headteacher ("sign_school"); step 3: quality assurance pending 10 days, to the
    director ("sign_off")."""
    cfg = all_settings()
    least = timedelta(days=cfg.least("evaluation_days"))
    deps = list(db.session.scalars(select(Deployment).where(or_(
        (Deployment.status == "active") & (Deployment.half_days_agreed > 0)
        & (Deployment.half_days_delivered >= Deployment.half_days_agreed)
        & (Deployment.last_day_delivered <= london_day(now - least)),
        Deployment.status == "evaluation"))))
    if not deps:
        return 0
    ids = [d.id for d in deps]
    evals: dict[int, list[Evaluation]] = defaultdict(list)
    for e in db.session.scalars(select(Evaluation).where(
            Evaluation.deployment_id.in_(ids), Evaluation.kind.in_(("leader", "school")))
            .order_by(Evaluation.created_at, Evaluation.id)):
        evals[e.deployment_id].append(e)
    receiving: dict[int, set[int]] = defaultdict(set)
    for request_id, school_id in db.session.execute(
            select(RequestSchool.request_id, RequestSchool.school_id)
            .where(RequestSchool.request_id.in_({d.request_id for d in deps}))):
        receiving[request_id].add(school_id)
    schools = {s for d in deps for s in receiving[d.request_id]}
    candidates = _users(or_(User.id.in_({d.leader_id for d in deps}),
                            (User.role == "headteacher") & User.school_id.in_(schools),
                            (User.role == "director")
                            & User.alliance_id.in_({d.alliance_id for d in deps})))
    by_school = _by_school(candidates)
    by_id = {u.id: u for u in candidates}
    directors = _by_alliance_role(u for u in candidates if u.role == "director")
    dues: list[Due] = []
    for d in deps:
        s = cfg[d.alliance_id]
        wait = timedelta(days=s.evaluation_days)
        found = evals[d.id]
        f = evaluation_policy.Facts(
            leader=next((e for e in found if e.kind == "leader"), None),
            schools={e.school_id: e for e in found if e.kind == "school" and e.school_id},
            receiving=frozenset(receiving[d.request_id]))
        url = f"/deployments/{d.id}"
        used_since = start_of(d.last_day_delivered + timedelta(days=1)) \
            if d.last_day_delivered else None
        signed = [e.submitted_at for e in f.schools.values()
                  if e.status == "signed_off" and e.submitted_at]
        near = {u.id: u for sid in f.receiving for u in by_school.get(sid, [])}
        near.update({u.id: u for u in directors.get((d.alliance_id, "director"), [])})
        if d.leader_id in by_id:
            near[d.leader_id] = by_id[d.leader_id]
        for u in near.values():
            w = evaluation_policy.waiting(d, u, f)
            if w["write"] and used_since and now - used_since >= wait - timedelta(days=1):
                dues.append(Due("deployment", d.id, 21, u,
                                f"Reminder: the agreed days of {d.reference} are used; write "
                                f"the final evaluation", url, d.alliance_id))
            if w["sign_school"]:
                own = f.schools.get(u.school_id) if u.school_id else None
                if own is not None and now - own.created_at >= wait:
                    dues.append(Due("deployment", d.id, 22, u,
                                    f"Reminder: your school's evaluation of {d.reference} is "
                                    f"waiting for your sign-off", url, d.alliance_id))
            if w["sign_off"] and signed and now - max(signed) >= wait:
                dues.append(Due("deployment", d.id, 23, u,
                                f"Reminder: {d.reference} is waiting for your final "
                                f"quality-assurance sign-off", url, d.alliance_id))
    return issue("evaluation", dues, now)


# -------------------------------------------------------------------------- invoices

INVOICE_STEPS = ((0, 1), (14, 2), (28, 3))  # days after the due date -> step
UNPAID = ("sent", "part_paid")


def is_overdue(inv: Invoice, today: date) -> bool:
    """A sent invoice (not a credit note) unpaid past its due date."""
    return inv.status in UNPAID and inv.due_on is not None and today > inv.due_on


def remind_invoices(now: datetime) -> int:
    """An unpaid invoice: its payer (``finance.recipients``) on the due date and 14 and 28 days
    after, the co-ordinator copied. Only the latest step reached is sent."""
    from .finance import payers_where

    today = london_day(now)
    invoices = list(db.session.scalars(select(Invoice).where(
        Invoice.status.in_(UNPAID), Invoice.due_on.is_not(None), Invoice.due_on <= today)))
    if not invoices:
        return 0
    payers = _users(payers_where(invoices))
    payer_index: dict[tuple[str, int | None], list[User]] = defaultdict(list)
    for u in payers:  # by what they could pay for; finance.pays decides
        payer_index[("school", u.school_id)].append(u)
        payer_index[("teaching_school", u.school_id)].append(u)
        payer_index[("board", u.board_id)].append(u)
    people = _overseers(inv.alliance_id for inv in invoices)
    dues: list[Due] = []
    for inv in invoices:
        assert inv.due_on is not None  # the query asked for a due date
        late = (today - inv.due_on).days
        step = max(s for after, s in INVOICE_STEPS if late >= after)
        url = f"/finance/invoices/{inv.id}"
        key = inv.payer_board_id if inv.payer == "board" else (
            inv.payer_school_id if inv.payer == "school" else inv.payee_school_id)
        to = [u for u in payer_index.get((inv.payer, key), [])
              if u.alliance_id == inv.alliance_id and _pays(inv, u)]
        if late == 0:
            msg = f"Invoice {inv.number} is due for payment today"
        else:
            msg = f"Invoice {inv.number} is overdue: it was due on {_date(inv.due_on)}"
        for u in to + people.get((inv.alliance_id, "admin"), []):
            dues.append(Due("invoice", inv.id, step, u, msg, url, inv.alliance_id))
    return issue("invoice", dues, now)


def _pays(inv: Invoice, u: User) -> bool:
    from .finance import pays

    return pays(inv, u)


# ---------------------------------------------------------------------------- digest


DIGEST_HOUR = 7  # digests go from 07:00 London time


def send_digests(now: datetime) -> int:
    """One email a day, from 07:00 London time, to each user who chose the daily digest,
    listing their notifications since their previous digest (at most the last day).
    Idempotent: one per user per London day, claimed in ``reminder_sent`` like a reminder."""
    local = now.astimezone(LONDON)
    if local.hour < DIGEST_HOUR:
        return 0
    today = local.date()
    since = now - timedelta(days=1)
    rows = db.session.execute(
        select(Notification, User).join(User, User.id == Notification.user_id)
        .where(User.daily_digest.is_(True), User.active.is_(True), Notification.at > since,
               Notification.at <= now)
        .order_by(Notification.user_id, Notification.at, Notification.id)).all()
    if not rows:
        return 0
    previous: dict[int, datetime] = dict(db.session.execute(
        select(ReminderSent.user_id, func.max(ReminderSent.sent_at))
        .where(ReminderSent.kind == "digest", ReminderSent.sent_at > since)
        .group_by(ReminderSent.user_id)).all())
    by_user: dict[int, list[Notification]] = defaultdict(list)
    users: dict[int, User] = {}
    for n, u in rows:
        if u.id in previous and n.at <= previous[u.id]:
            continue  # in yesterday's digest already
        by_user[u.id].append(n)
        users[u.id] = u
    claimed = {r[3] for r in _claim([
        {"kind": "digest", "object_type": "user", "object_id": uid, "step": today.toordinal(),
         "user_id": uid, "sent_at": now} for uid in by_user])}
    base = _public_base()
    mails = []
    for uid in claimed:
        u = users[uid]
        lines = "\n".join(f"- {n.message}." + (f" Open it: {base}{n.url}" if n.url else "")
                          for n in by_user[uid])
        body = (f"Dear {u.name},\n\nHere is what needed you in the School Support Portal in "
                f"the last day:\n\n{lines}\n\nYou chose one email a day. You can change "
                f"this under Your data in the portal.\n")
        mails.append({"user": u, "subject": f"Your School Support Portal digest for "
                      f"{_date(today)}", "body": body, "alliance_id": u.alliance_id})
    notify.queue_emails(mails)
    return len(claimed)


def _public_base() -> str:
    from flask import current_app, has_app_context

    return current_app.config.get("PUBLIC_URL", "").rstrip("/") if has_app_context() else ""


# ------------------------------------------------------------------------------ all

SWEEPS: dict[str, Callable[[datetime], int]] = {
    "matching": remind_matching,
    "response": remind_responses,
    "signature": remind_signatures,
    "first_contact": remind_first_contact,
    "plan_actions": remind_plan_actions,
    "evaluation": remind_evaluations,
    "invoice": remind_invoices,
    "digest": send_digests,
}


def sweep_all(now: datetime, *, commit: Callable[[], None] | None = None) -> dict[str, int]:
    """Run every sweep at ``now``; with ``commit``, call it after each kind (one transaction
    per kind, as ``flask remind`` does). The digest runs last, so it lists today's reminders."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    from ..transactions import immediate

    out = {}
    with immediate():  # SQLite: take the write lock up front, so schedulers queue, not fail
        for kind, sweep in SWEEPS.items():
            out[kind] = sweep(now)
            if commit is not None:
                commit()
    return out


# ----------------------------------------------------------------- changing settings


def save_settings(alliance_id: int, actor: User, values: dict[str, int], *,
                  version: int | None, ip: str = "") -> AllianceSettings:
    """The director or co-ordinator sets the alliance's reminder thresholds and payment terms.
    Each value is checked here (``Invalid`` beside its field); a form drawn from an older
    version is refused (``Conflict``)."""
    from ..models.reminders import SETTINGS
    from . import audit
    from .errors import Conflict, Invalid
    from .policy import alliance_settings as policy
    from .policy import require

    require(policy.edit(alliance_id, actor))
    for name, _default, low, high, _label in SETTINGS:
        value = values.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise Invalid(f"Enter a whole number from {low} to {high}", name)
    for first, second in (("match_remind_hours", "match_overdue_hours"),
                          ("response_remind_working_days", "response_escalate_working_days"),
                          ("contact_remind_days", "contact_escalate_days")):
        if values[first] > values[second]:
            raise Invalid(f"Must be at least {values[first]}, the reminder before it", second)
    row = db.session.get(AllianceSettings, alliance_id)
    current = row.version if row is not None else 0
    if version is not None and version != current:
        raise Conflict("Someone changed these settings after you opened the form.")
    before = {k: getattr(row, k) for k in DEFAULTS} if row is not None else dict(DEFAULTS)
    if row is None:
        row = AllianceSettings(alliance_id=alliance_id)
        db.session.add(row)
    for name in DEFAULTS:
        setattr(row, name, values[name])
    db.session.flush()
    audit.record(actor, "alliance.reminder_settings_changed", None, alliance_id=alliance_id,
                 detail={"changed": {k: [before[k], values[k]] for k in DEFAULTS
                                     if before[k] != values[k]}}, ip=ip)
    return row


def set_email_choice(user: User, digest: bool, *, ip: str = "") -> None:
    """A user chooses immediate emails or one daily digest."""
    from . import audit

    if user.daily_digest != digest:
        user.daily_digest = digest
        audit.record(user, "account.email_choice_changed", user,
                     detail={"choice": "digest" if digest else "immediate"}, ip=ip)
