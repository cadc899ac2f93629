"""The state machines of a support request and of a deployment, with who may move them.

Every status change in the portal goes through :func:`transition`, which

* refuses a move the machine does not allow, or by a role not allowed to make it
  (:class:`IllegalTransition`, answered as 409 or 403 by the routes),
* sets the status and its timestamp,
* writes an audit event (who, what, when, from and to, the reason),
* runs the hooks registered with :func:`on_enter` for the new status (drafting the agreement,
  raising invoices ...), in the same transaction.

Concurrency: both models carry an optimistic ``version`` column, so two people moving the same
object at once produce one change; the loser's flush raises ``StaleDataError``, which
:func:`commit_or_conflict` turns into :class:`Conflict`. On SQLite, write requests already queue
behind ``BEGIN IMMEDIATE`` and the second sees the new status and is refused as illegal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..models import Deployment, SupportRequest, User, utcnow
from . import audit, errors

# Roles that act for "the system" when a transition follows from another action (the last
# confirmation moves a proposal to the agreement; the last signature makes it active).
SYSTEM = "system"


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    roles: frozenset[str]
    label: str
    needs_reason: bool = False


def _t(source: str, target: str, roles: Iterable[str], label: str, *, reason: bool = False):
    return Transition(source, target, frozenset(roles), label, reason)


REQUESTER = ("headteacher", "board", "officer", "admin", "director")

REQUEST_TRANSITIONS: tuple[Transition, ...] = (
    _t("draft", "submitted", REQUESTER, "Submit the request"),
    _t("more_info", "submitted", REQUESTER, "Send the extra information"),
    _t("submitted", "matching", ("admin", "director"), "Accept for matching"),
    _t("submitted", "more_info", ("admin", "director"), "Ask for more information", reason=True),
    _t("submitted", "declined", ("admin", "director"), "Decline the request", reason=True),
    _t("more_info", "declined", ("admin", "director"), "Decline the request", reason=True),
    _t("matching", "declined", ("admin", "director"), "Decline the request", reason=True),
    _t("matching", "matched", ("admin", "director"), "Propose a system leader"),
    # any party declining a proposal sends the request back to matching
    _t("matched", "matching", ("admin", "director", "headteacher", "home_school", "sle", SYSTEM),
       "Return to matching", reason=True),
    _t("draft", "withdrawn", REQUESTER, "Withdraw the request"),
    _t("submitted", "withdrawn", REQUESTER, "Withdraw the request"),
    _t("more_info", "withdrawn", REQUESTER, "Withdraw the request"),
    _t("matching", "withdrawn", REQUESTER, "Withdraw the request"),
)

DEPLOYMENT_TRANSITIONS: tuple[Transition, ...] = (
    # step 3: every party confirmed (the last confirmer moves it on)
    _t("proposed", "agreement", ("headteacher", "home_school", "sle", "admin", "director", SYSTEM),
       "All parties confirmed"),
    # a party declines (or the co-ordinator or director records the decline of a school with
    # no login: ``brokering.respond_on_behalf``; who may is ``policy/deployments.py``)
    _t("proposed", "declined", ("headteacher", "home_school", "sle", "admin", "director"),
       "Decline", reason=True),
    # (the commissioner too, taking someone off their commission: ``policy/commissions.py``)
    _t("proposed", "cancelled", ("admin", "director", "sle"), "Withdraw the proposal",
       reason=True),
    # step 4: the last signature makes it active
    # (the co-ordinator too, recording the last signature of a school with no login)
    _t("agreement", "active", ("headteacher", "home_school", "sle", "director", "admin",
                               SYSTEM), "Agreement signed by all"),
    _t("agreement", "cancelled", ("admin", "director", "sle"), "Void the agreement",
       reason=True),
    # step 6
    _t("active", "evaluation", ("sle", "admin", "director"), "Submit the final evaluation"),
    # (the commissioner signs off the people on their commission: ``policy/evaluations.py``)
    _t("evaluation", "completed", ("director", "sle", SYSTEM), "Quality-assurance sign-off"),
    _t("active", "ended_early", ("admin", "director", "sle"), "End early", reason=True),
    _t("evaluation", "ended_early", ("admin", "director", "sle"), "End early", reason=True),
)

_MACHINES: dict[type, tuple[Transition, ...]] = {
    SupportRequest: REQUEST_TRANSITIONS,
    Deployment: DEPLOYMENT_TRANSITIONS,
}

# The timestamp column set when an object enters a status.
_STAMPS: dict[type, dict[str, str]] = {
    SupportRequest: {"submitted": "submitted_at", "matched": "matched_at"},
    Deployment: {
        "agreement": "confirmed_at",
        "active": "active_at",
        "completed": "closed_at",
        "ended_early": "closed_at",
        "cancelled": "closed_at",
        "declined": "closed_at",
    },
}

Hook = Callable[[Any, "User | None", str], None]
_HOOKS: dict[tuple[type, str], list[Hook]] = defaultdict(list)


class IllegalTransition(errors.NotNow):
    """The move is not allowed from this status (409), or not for this role (403)."""

    def __init__(self, message: str, *, forbidden: bool = False):
        super().__init__(message, forbidden=forbidden)


# Someone else changed the same thing at the same time (kept here for older imports).
Conflict = errors.Conflict


class ReasonRequired(errors.Invalid):
    """This transition must say why."""

    def __init__(self, message: str):
        super().__init__(message, field="reason")


def transitions_for(model: type) -> tuple[Transition, ...]:
    return _MACHINES[model]


def find(obj: Any, target: str) -> Transition | None:
    for t in _MACHINES[type(obj)]:
        if t.source == obj.status and t.target == target:
            return t
    return None


def can(obj: Any, target: str, user: User | None) -> bool:
    t = find(obj, target)
    role = user.role if user is not None else SYSTEM
    return t is not None and role in t.roles


def available(obj: Any, user: User) -> list[Transition]:
    """The moves this user could make now (for buttons)."""
    return [t for t in _MACHINES[type(obj)] if t.source == obj.status and user.role in t.roles]


def on_enter(model: type, status: str) -> Callable[[Hook], Hook]:
    """Register ``fn(obj, actor, reason)`` to run inside the transaction entering ``status``."""
    statuses = {t.target for t in _MACHINES[model]}
    if status not in statuses:
        raise ValueError(f"{model.__name__} never enters {status!r}")

    def register(fn: Hook) -> Hook:
        if fn not in _HOOKS[(model, status)]:
            _HOOKS[(model, status)].append(fn)
        return fn

    return register


def transition(obj: Any, target: str, actor: User | None, *, reason: str = "",
               detail: dict | None = None, ip: str = "") -> Transition:
    """Move ``obj`` to ``target`` as ``actor`` (None: the system). The caller commits."""
    t = find(obj, target)
    if t is None:
        raise IllegalTransition(
            f"{type(obj).__name__} {getattr(obj, 'reference', obj)} cannot go from "
            f"{obj.status!r} to {target!r}"
        )
    role = actor.role if actor is not None else SYSTEM
    if role not in t.roles:
        raise IllegalTransition(f"a {role} cannot {t.label.lower()}", forbidden=True)
    reason = (reason or "").strip()
    if t.needs_reason and not reason:
        raise ReasonRequired(f"Give a reason to {t.label.lower()}.")
    source = obj.status
    obj.status = target
    stamp = _STAMPS[type(obj)].get(target)
    if stamp:
        setattr(obj, stamp, utcnow())
    audit.record(
        actor,
        f"{type(obj).__name__.lower()}.{target}",
        obj,
        detail={"from": source, "to": target, **({"reason": reason} if reason else {}),
                **(detail or {})},
        ip=ip,
    )
    for hook in _HOOKS[(type(obj), target)]:
        hook(obj, actor, reason)
    return t


def commit_or_conflict() -> None:
    """Commit outside a request (CLI, demo, tests); a stale row becomes :class:`Conflict`.

    Inside a request the unit of work (``portal/unit_of_work.py``) commits once.
    """
    from ..unit_of_work import commit_or_conflict as commit

    commit()
