""""Needs your action": what waits for this user, each a sentence with a link to where to act.

Every item comes from a policy's "waiting for me" SQL twin (``portal/domain/policy/``), the same
predicate the buttons on the page it links to use, so an item is listed exactly when the policy
allows the user to act (``tests/unit/test_actions.py`` checks both ways). The list costs one
query per kind of item the user's role can have (a kind whose twin is ``false()`` for the role
costs nothing), whatever the number of items; the count in the navigation is one query.

Kinds, in the order of the journey::

    triage, match                      the co-ordinator's inbox (requests)
    resubmit                           the writer sends the information asked for (requests)
    confirm, release, accept           answering a proposal (deployments)
    sign                               signing the agreement (agreements)
    log_first_contact                  the leader's first contact, with its 7-day target (plans)
    approve                            extra days (plans, variations)
    write, revise, forward,
    sign_school, sign_off              the evaluation (evaluations)
    approve_release                    the home school approves a leader's release (profiles)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import g, has_request_context, url_for
from sqlalchemy import ColumnElement, False_, Select, func, select
from sqlalchemy.orm import joinedload, selectinload

from ..domain import access
from ..domain.policy import agreements as agreement_policy
from ..domain.policy import deployments as deployment_policy
from ..domain.policy import evaluations as evaluation_policy
from ..domain.policy import plans as plan_policy
from ..domain.policy import profiles as profile_policy
from ..domain.policy import requests as request_policy
from ..domain.sla import (
    CONTACT_DUE_SOON,
    MATCH_DUE_SOON,
    contact_clock,
    format_duration,
    match_clock,
)
from ..extensions import db
from ..formatting import days
from ..models import (
    Agreement,
    Deployment,
    LeaderProfile,
    RequestSchool,
    SupportRequest,
    User,
    Variation,
    utcnow,
)

#: how many items the home page shows; the rest are "and N more"
LIMIT = 20
#: "show everything": still bounded
ALL_LIMIT = 500


@dataclass(frozen=True)
class Item:
    """One thing waiting for the user: ``kind`` is the policy action, ``obj_id`` the object it
    is on (a request, deployment, agreement, variation or leader profile)."""

    kind: str
    obj_id: int
    sentence: str
    url: str
    due: str = ""  # "due in 2 days", "12 hours left", "overdue by 3 hours"
    urgent: bool = False  # overdue or due soon: listed first
    since: datetime | None = None  # how long it has waited: the oldest first


@dataclass(frozen=True)
class ActionList:
    items: list[Item]
    total: int

    @property
    def more(self) -> int:
        return max(self.total - len(self.items), 0)


# ------------------------------------------------------------------------------ wording


def _deployment(d: Deployment) -> str:
    """A deployment in a headteacher's words: its reference and what it is about."""
    title = d.request.title if d.request is not None else ""
    return f"{d.reference} ({title})" if title else d.reference


def _school_names(r: SupportRequest) -> str:
    names = [rs.school.name for rs in r.schools if rs.school is not None]
    if len(names) <= 2:
        return " and ".join(names)
    return f"{names[0]} and {len(names) - 1} other schools"


def _request(r: SupportRequest) -> str:
    schools = _school_names(r)
    title = f"“{r.title}”" if r.title else "the request"
    return f"{title} from {schools}" if schools else title


def _show(d_id: int, panel: str) -> str:
    return url_for("deployments.show", deployment_id=d_id) + f"#panel-{panel}"


# ------------------------------------------------------------------------------ the kinds


@dataclass(frozen=True)
class Kind:
    """One kind of item: its twin, the rows it selects (visible to the user) and their words."""

    name: str
    twin: Callable[[User], ColumnElement[bool]]
    base: Callable[[User], Select[Any]]  # select(Model) joined and filtered to what is visible
    options: tuple[Any, ...]
    order: tuple[Any, ...]
    item: Callable[[Any, datetime], Item]


def _deployments(user: User) -> Select[Any]:
    return select(Deployment).where(access.deployments_visible_to(user))


def _agreements(user: User) -> Select[Any]:
    """The deployments whose open agreement the twin selects (one open version each)."""
    return (select(Deployment).join(Agreement, Agreement.deployment_id == Deployment.id)
            .where(access.deployments_visible_to(user)))


def _variations(user: User) -> Select[Any]:
    return (select(Variation).join(Deployment, Deployment.id == Variation.deployment_id)
            .where(access.plans_visible_to(user)))


def _requests(user: User) -> Select[Any]:
    return select(SupportRequest).where(access.requests_visible_to(user))


def _profiles(user: User) -> Select[Any]:
    return select(LeaderProfile).where(access.released_leaders_for(user))


_D_OPTIONS = (joinedload(Deployment.leader), joinedload(Deployment.request))
_R_OPTIONS = (selectinload(SupportRequest.schools).joinedload(RequestSchool.school),)
_D_ORDER = (Deployment.proposed_at, Deployment.id)
_R_ORDER = (SupportRequest.submitted_at, SupportRequest.id)


def _match_item(kind: str, verb: str) -> Callable[[Any, datetime], Item]:
    def item(r: SupportRequest, now: datetime) -> Item:
        url = (url_for("requests.match", request_id=r.id) if kind == "match"
               else url_for("requests.show", request_id=r.id) + "#panel-progress")
        if r.submitted_at is None:
            return Item(kind, r.id, f"{verb} {_request(r)}", url)
        c = match_clock(r.submitted_at, now)
        return Item(kind, r.id, f"{verb} {_request(r)}", url,
                    due=c.label[0].lower() + c.label[1:],  # "12 hours left", "overdue by ..."
                    urgent=c.overdue or c.remaining <= MATCH_DUE_SOON, since=r.submitted_at)
    return item


def _resubmit(r: SupportRequest, _now: datetime) -> Item:
    return Item("resubmit", r.id,
                f"Add the information the co-ordinator asked for to {_request(r)}",
                url_for("requests.edit", request_id=r.id), since=r.submitted_at)


def _answer(kind: str) -> Callable[[Any, datetime], Item]:
    def item(d: Deployment, _now: datetime) -> Item:
        if kind == "confirm":
            words = f"Confirm {d.leader.name} for {_deployment(d)}"
        elif kind == "release":
            words = f"Release {d.leader.name} for {days(d.half_days_agreed)} for {_deployment(d)}"
        else:
            words = f"Accept {days(d.half_days_agreed)} of support for {_deployment(d)}"
        return Item(kind, d.id, words, _show(d.id, "responses"), since=d.proposed_at)
    return item


def _sign(d: Deployment, _now: datetime) -> Item:
    return Item("sign", d.id, f"Sign the agreement for {_deployment(d)}",
                url_for("agreements.show", deployment_id=d.id), since=d.confirmed_at)


def _first_contact(d: Deployment, now: datetime) -> Item:
    words = f"Log first contact for {_deployment(d)}"
    url = _show(d.id, "plans")
    if d.confirmed_at is None:
        return Item("log_first_contact", d.id, words, url)
    c = contact_clock(d.confirmed_at, now)
    due = (f"overdue by {format_duration(-c.remaining)}" if c.overdue
           else f"due in {format_duration(c.remaining)}")
    return Item("log_first_contact", d.id, words, url, due=due,
                urgent=c.overdue or c.remaining <= CONTACT_DUE_SOON, since=d.confirmed_at)


def _approve(v: Variation, _now: datetime) -> Item:
    d = v.deployment
    return Item("approve", v.id, f"Approve {days(v.half_days)} extra for {_deployment(d)}",
                _show(d.id, "plans"), since=v.requested_at)


_EVALUATION_WORDS = {
    "write": "Evaluate {d} when the work is done",
    "revise": "Revise your evaluation of {d}: a school returned it",
    "forward": "Forward {leader}'s evaluation of {d} to the school",
    "sign_school": "Add your school's evaluation of {d} and sign it off",
    "sign_off": "Give the final quality-assurance sign-off for {d}",
}


def _evaluation(kind: str) -> Callable[[Any, datetime], Item]:
    def item(d: Deployment, _now: datetime) -> Item:
        words = _EVALUATION_WORDS[kind].format(d=_deployment(d), leader=d.leader.name)
        return Item(kind, d.id, words, _show(d.id, "evaluations"), since=d.active_at)
    return item


def _approve_release(p: LeaderProfile, _now: datetime) -> Item:
    return Item("approve_release", p.id,
                f"Approve the days {p.user.name} may be released this year",
                url_for("directory.release") + f"#release-{p.id}")


_VARIATION_OPTIONS = (joinedload(Variation.deployment).joinedload(Deployment.request),)

KINDS: tuple[Kind, ...] = (
    Kind("triage", request_policy.waiting_triage, _requests, _R_OPTIONS, _R_ORDER,
         _match_item("triage", "Triage")),
    Kind("match", request_policy.waiting_match, _requests, _R_OPTIONS, _R_ORDER,
         _match_item("match", "Match")),
    Kind("resubmit", request_policy.waiting_resubmit, _requests, _R_OPTIONS, _R_ORDER,
         _resubmit),
    *(Kind(name, deployment_policy.WAITING_SQL[name], _deployments, _D_OPTIONS, _D_ORDER,
           _answer(name)) for name in ("confirm", "release", "accept")),
    Kind("sign", agreement_policy.waiting_sign, _agreements, (joinedload(Deployment.request),),
         (Deployment.confirmed_at, Deployment.id), _sign),
    Kind("log_first_contact", plan_policy.waiting_log_first_contact, _deployments, _D_OPTIONS,
         (Deployment.confirmed_at, Deployment.id), _first_contact),
    Kind("approve", plan_policy.waiting_approve, _variations, _VARIATION_OPTIONS,
         (Variation.requested_at, Variation.id), _approve),
    *(Kind(name, evaluation_policy.WAITING_SQL[name], _deployments, _D_OPTIONS, _D_ORDER,
           _evaluation(name))
      for name in ("write", "revise", "forward", "sign_school", "sign_off")),
    Kind("approve_release", profile_policy.waiting_approve_release, _profiles,
         (joinedload(LeaderProfile.user),), (LeaderProfile.id,), _approve_release),
)


def _live(user: User) -> Iterable[tuple[Kind, ColumnElement[bool]]]:
    """The kinds this user's role can have, with their twin (no query for the others)."""
    for kind in KINDS:
        clause = kind.twin(user)
        if not isinstance(clause, False_):
            yield kind, clause


# ------------------------------------------------------------------------------ the list


def count(user: User) -> int:
    """How many things wait for this user, in one query (the navigation's "Home (3)"), once per
    request however many parts of the page ask."""
    if has_request_context():
        cached = g.get("actions_count")
        if cached is not None and cached[0] == user.id:
            return int(cached[1])
    n = _count(user)
    if has_request_context():
        g.actions_count = (user.id, n)
    return n


def _count(user: User) -> int:
    counts = [select(func.count()).select_from(kind.base(user).where(clause).subquery())
              .scalar_subquery() for kind, clause in _live(user)]
    if not counts:
        return 0
    return sum(int(n or 0) for n in db.session.execute(select(*counts)).one())


def for_user(user: User, *, limit: int | None = LIMIT, now: datetime | None = None
             ) -> ActionList:
    """What waits for this user: the urgent first, then the longest waiting, at most ``limit``
    (None: all of them; ``total`` counts them all either way)."""
    now = now or utcnow()
    items: list[Item] = []
    for kind, clause in _live(user):
        q = kind.base(user).where(clause).options(*kind.options).order_by(*kind.order)
        if limit is not None:
            q = q.limit(limit)
        items += [kind.item(row, now) for row in db.session.scalars(q).unique()]
    items.sort(key=lambda i: (not i.urgent, i.since is None, i.since or now))
    if limit is None:
        return ActionList(items, len(items))
    return ActionList(items[:limit], count(user))
