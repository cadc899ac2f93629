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
    sign_school, sign_group, sign_off  the evaluation (evaluations; an officer signs for the
                                       group they asked for)
    approve_release                    the home school approves a leader's release (profiles)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import g, has_request_context, url_for
from sqlalchemy import ColumnElement, False_, Select, case, exists, func, or_, select
from sqlalchemy.orm import joinedload

from ..domain import access, brokering
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
    SupportRequest,
    User,
    Variation,
    utcnow,
)

#: how many items the home page shows; the rest are "and N more"
LIMIT = 20
#: the navigation counts up to this many ("Home (99+)" beyond it): each kind's count stops
#: there, so a school with thousands of waiting items costs every page what one with a hundred
#: does (issue 20: at ten times national scale a headteacher's count took 120 ms a page)
CAP = 99
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
    """``total`` counts every item, unless ``capped``: then there are at least that many (a
    group's count stopped after :data:`CAP` rows or the limit, whichever is larger)."""

    items: list[Item]
    total: int
    capped: bool = False

    @property
    def more(self) -> int:
        return max(self.total - len(self.items), 0)

    @property
    def heading_count(self) -> str:
        """The count beside the heading, worded as the navigation words its own: "99+" is
        "more than 99" (at least ``total``, so more than one fewer)."""
        return f"{self.total - 1:,}+" if self.capped else f"{self.total:,}"


# ------------------------------------------------------------------------------ wording


def _deployment(d: Deployment) -> str:
    """A deployment in a headteacher's words: its reference and what it is about."""
    title = d.request.title if d.request is not None else ""
    return f"{d.reference} ({title})" if title else d.reference


def _request(r: SupportRequest) -> str:
    """A request by its title and who it is from (the writer's school, or the writer)."""
    writer = r.requested_by
    source = (writer.school.name if writer.school is not None else writer.name) if writer else ""
    title = f"“{r.title}”" if r.title else "the request"
    return f"{title} from {source}" if source else title


def _show(d_id: int, panel: str) -> str:
    return url_for("deployments.show", deployment_id=d_id) + f"#panel-{panel}"


# ------------------------------------------------------------------------------ the kinds


@dataclass(frozen=True)
class Kind:
    """One kind of item: the policy twin that selects it and the words for a row."""

    name: str
    twin: Callable[[User], ColumnElement[bool]]
    item: Callable[[Any, datetime], Item]


@dataclass(frozen=True)
class Group:
    """Kinds over the same rows, fetched in one query: ``base`` selects the rows visible to the
    user, and each kind's twin is a column saying whether the row makes that kind of item.
    ``first(user, where, limit)``, when given, selects the first ``limit`` visible rows in
    ``order`` matching ``where`` by walking an index in that order, so that the list reads
    only as many rows as it needs to find what it shows."""

    base: Callable[[User], Select[Any]]
    options: tuple[Any, ...]
    order: tuple[Any, ...]
    kinds: tuple[Kind, ...]
    first: Callable[[User, ColumnElement[bool], int], Select[Any]] | None = None
    #: the visible rows matching ``where``, at least ``limit`` of them if there are, in any
    #: order, found the cheapest way (by default ``base`` with ``where``): for the count, and
    #: for the list, which then shows the first in ``order`` of those
    within: Callable[[User, ColumnElement[bool], int], Select[Any]] | None = None


def _deployments(user: User) -> Select[Any]:
    return select(Deployment).where(access.deployments_visible_to(user))


def _first_deployments(user: User, where: ColumnElement[bool], limit: int) -> Select[Any]:
    """The same rows as :func:`_deployments` with ``where``, the first ``limit`` in
    ``_D_ORDER``: the user's deployments walked by date (a school's, a leader's, a home
    school's, an alliance's), not all of them read. By date, the waiting rows are spread
    evenly: an index by status would first walk every row of a status no kind waits in."""
    return select(Deployment).where(
        access.first_visible_deployments(user, where, order=_D_ORDER, limit=limit))


def _waiting_sign(user: User) -> ColumnElement[bool]:
    """:func:`agreement_policy.waiting_sign` over the deployment: its open agreement waits for
    this user's signature (one open version per deployment)."""
    twin = agreement_policy.waiting_sign(user, Deployment)
    if isinstance(twin, False_):
        return twin
    return exists().where(Agreement.deployment_id == Deployment.id, twin)


def _variations(user: User) -> Select[Any]:
    return (select(Variation).join(Deployment, Deployment.id == Variation.deployment_id)
            .where(access.plans_visible_to(user)))


def _requests(user: User) -> Select[Any]:
    return select(SupportRequest).where(access.requests_visible_to(user))


def _requests_within(user: User, where: ColumnElement[bool], limit: int) -> Select[Any]:
    """A headteacher's, leader's or Board member's requests matching ``where`` from their
    limited index walks (``access.first_visible_requests``), not the whole visible set built
    first: "add the information asked for" is one request among a school's thousands. The
    co-ordinator's and director's (triage, match: inbox requests) are the first ``limit`` of
    their inbox, oldest first, walked by status (``brokering.first_in_inbox``)."""
    if user.role in request_policy.OVERSEERS:
        return select(SupportRequest).where(brokering.first_in_inbox(user, where, limit=limit))
    return select(SupportRequest).where(access.first_visible_requests(user, where, limit=limit))


def _profiles(user: User) -> Select[Any]:
    return select(LeaderProfile).where(access.released_leaders_for(user))


_D_OPTIONS = (joinedload(Deployment.leader), joinedload(Deployment.request))
_R_OPTIONS = (joinedload(SupportRequest.requested_by).joinedload(User.school),)
_D_ORDER = access.DEPLOYMENTS_OLDEST_FIRST
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
    extra = days(v.half_days).replace(" day", " extra day", 1)  # "2 extra days", "1 extra day"
    return Item("approve", v.id, f"Approve {extra} for {_deployment(d)}",
                _show(d.id, "plans"), since=v.requested_at)


_EVALUATION_WORDS = {
    "write": "Evaluate {d} when the work is done",
    "revise": "Revise your evaluation of {d}: a school returned it",
    "forward": "Forward {leader}'s evaluation of {d} to the school",
    "sign_school": "Add your school's evaluation of {d} and sign it off",
    "sign_group": "Evaluate the support to your group of schools for {d} and sign it off",
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

GROUPS: tuple[Group, ...] = (
    Group(_requests, _R_OPTIONS, _R_ORDER, (
        Kind("triage", request_policy.waiting_triage, _match_item("triage", "Triage")),
        Kind("match", request_policy.waiting_match, _match_item("match", "Match")),
        Kind("resubmit", request_policy.waiting_resubmit, _resubmit),
    ), within=_requests_within),
    Group(_deployments, _D_OPTIONS, _D_ORDER, (
        *(Kind(name, deployment_policy.WAITING_SQL[name], _answer(name))
          for name in ("confirm", "release", "accept")),
        Kind("sign", _waiting_sign, _sign),
        Kind("log_first_contact", plan_policy.waiting_log_first_contact, _first_contact),
        *(Kind(name, evaluation_policy.WAITING_SQL[name], _evaluation(name))
          for name in ("write", "revise", "forward", "sign_school", "sign_group",
                       "sign_off")),
    ), first=_first_deployments),
    Group(_variations, _VARIATION_OPTIONS, (Variation.requested_at, Variation.id),
          (Kind("approve", plan_policy.waiting_approve, _approve),)),
    Group(_profiles, (joinedload(LeaderProfile.user),), (LeaderProfile.id,),
          (Kind("approve_release", profile_policy.waiting_approve_release, _approve_release),)),
)
KINDS: tuple[Kind, ...] = tuple(k for group in GROUPS for k in group.kinds)


def _live(user: User) -> Iterable[tuple[Group, list[tuple[Kind, ColumnElement[bool]]]]]:
    """The groups and kinds this user's role can have, with their twins (a twin that is
    ``false()`` for the role costs no query)."""
    for group in GROUPS:
        kinds = [(k, clause) for k in group.kinds
                 if not isinstance(clause := k.twin(user), False_)]
        if kinds:
            yield group, kinds


# ------------------------------------------------------------------------------ the list


def count(user: User) -> int:
    """How many things wait for this user, in one query (the navigation's "Home (3)"), once per
    request however many parts of the page ask; any number above :data:`CAP` means "more than
    CAP" (the query stops counting there)."""
    cached = _cached()
    if cached is not None and cached[0] == user.id:
        return cached[1]
    n = _count(user)
    _cache(user, n)
    return n


_CACHE = "actions_count"  # on ``g``, cleared before each request (see ``init_app``)


def _cached() -> tuple[int, int] | None:
    return g.get(_CACHE) if has_request_context() else None


def _cache(user: User, n: int) -> None:
    if has_request_context():
        setattr(g, _CACHE, (user.id, n))


def forget() -> None:
    """Before each request: ``g`` outlives a request when the app context is shared (tests)."""
    g.pop(_CACHE, None)
    g.pop("inbox_counts", None)  # brokering.inbox_counts, once per request likewise


def _flags(kinds: list[tuple[Kind, ColumnElement[bool]]]) -> list[Any]:
    return [case((c, 1), else_=0) for _k, c in kinds]


def _walked(group: Group, kinds: list[tuple[Kind, ColumnElement[bool]]], user: User,
            walk: int) -> Any:
    """The first ``walk`` of this group's rows that make any item, each with its number of
    items (``n``): one walk that stops there, however many rows are visible and however few
    of them a kind matches. (A count for each kind apart read every visible row for each kind
    that matched few.)"""
    flags = _flags(kinds)
    waiting = or_(*(c for _k, c in kinds))
    if group.within is not None:
        found = group.within(user, waiting, walk)
    elif group.first is not None:
        found = group.first(user, waiting, walk)
    else:
        found = group.base(user).where(waiting)
    return found.with_only_columns(sum(flags[1:], flags[0]).label("n")).limit(walk).subquery()


def _counted(group: Group, kinds: list[tuple[Kind, ColumnElement[bool]]], user: User,
             walk: int) -> Any:
    """The number of this group's items among its first ``walk`` rows (:func:`_walked`):
    exact while fewer rows wait, "at least" beyond."""
    rows = _walked(group, kinds, user, walk)
    return select(func.coalesce(func.sum(rows.c.n), 0)).scalar_subquery()


def _counted_and_capped(group: Group, kinds: list[tuple[Kind, ColumnElement[bool]]],
                        user: User, walk: int) -> Any:
    """:func:`_counted`, doubled, plus 1 when the walk stopped at ``walk`` rows (the count is
    then "at least"): both from the one walk. (A row can make more than one item, so the item
    count alone can't tell: sixty rows of two items each are 120, counted exactly.)"""
    rows = _walked(group, kinds, user, walk)
    return select(func.coalesce(func.sum(rows.c.n), 0) * 2
                  + case((func.count() >= walk, 1), else_=0)).scalar_subquery()


def _count(user: User) -> int:
    counts = [_counted(group, kinds, user, CAP + 1) for group, kinds in _live(user)]
    if not counts:
        return 0
    return min(sum(int(n or 0) for n in db.session.execute(select(*counts)).one()), CAP + 1)


def for_user(user: User, *, limit: int | None = LIMIT, now: datetime | None = None
             ) -> ActionList:
    """What waits for this user: the urgent first, then the longest waiting, at most ``limit``
    (None: all of them). One query per group of kinds; each also counts its items (stopping
    after :data:`CAP` or ``limit``, whichever is larger: beyond it ``capped`` says "at least"),
    so ``total`` (and the navigation's count, for the rest of this request) costs nothing more.
    A group with an ordered walk (``Group.first``) reads only the rows it shows."""
    now = now or utcnow()
    items: list[Item] = []
    total = 0
    capped = False
    walk = max(CAP, limit or 0) + 1
    for group, kinds in _live(user):
        flags = _flags(kinds)
        waiting = or_(*(c for _k, c in kinds))
        if limit is None:
            q = group.base(user).where(waiting).add_columns(*flags)
        else:
            if group.first is not None:
                q = group.first(user, waiting, limit)
            elif group.within is not None:  # exact while no more than ``walk`` wait
                q = group.within(user, waiting, walk)
            else:
                q = group.base(user).where(waiting)
            q = q.add_columns(*flags, _counted_and_capped(group, kinds, user, walk)
                              ).limit(limit)
        rows = db.session.execute(q.options(*group.options).order_by(*group.order)
                                  ).unique().all()
        for row in rows:
            items += [k.item(row[0], now) for (k, _c), yes
                      in zip(kinds, row[1:1 + len(kinds)], strict=True) if yes]
        if limit is None:
            total += sum(sum(row[1:]) for row in rows)
        elif rows:
            counted, stopped = divmod(int(rows[0][-1]), 2)
            total += counted
            capped = capped or bool(stopped)
    items.sort(key=lambda i: (not i.urgent, i.since is None, i.since or now))
    _cache(user, min(total, CAP + 1))
    return ActionList(items if limit is None else items[:limit], total, capped)
