"""Who may change a system leader's directory profile and availability, and approve their
release, and when. (Meet the system leaders.)

Follows the policy convention (``portal/domain/policy/__init__.py``):

* ``edit``: the leader changes their own profile and the dates they are unavailable (a system
  leader, or the Teaching School headteacher, the director, whom the co-ordinator gave a
  leader profile so they may lead commissions: ``LEADER_ROLES``);
* ``approve_release``: the senior leader of the leader's home school approves the days the
  leader may be released this year. :func:`may_approve_release` is its SQL form (the release
  page and its loader, ``access.released_leaders_for``); the "waiting for my approval" entry
  (the home panel and "Needs your action") is a leader not yet approved for the year, SQL twin
  :func:`waiting_approve_release`.

Neither depends on a state: a profile is always open to its own leader and their home school,
so every refusal is "not your part" (403).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, False_, and_, false

from ...models import LeaderProfile, User
from . import LEADER_ROLES, Decision, allow, forbid

ACTIONS = ("edit", "approve_release")


def edit(profile: LeaderProfile, user: User) -> Decision:
    """The leader's own profile and unavailable dates."""
    if user.role not in LEADER_ROLES or profile.user_id != user.id:
        return forbid("Only the system leader can change their own profile.")
    return allow()


def has_own_profile(user: User) -> bool:
    """Whether ``user`` has a profile of their own to edit (every system leader; a Teaching
    School headteacher once the co-ordinator gave them one): the "My profile" entry."""
    return user.role in LEADER_ROLES and user.profile is not None


def approve_release(profile: LeaderProfile, user: User) -> Decision:
    """The home school's senior leader approves the leader's release."""
    if user.role != "home_school" or not user.school_id \
            or profile.home_school_id != user.school_id or profile.alliance_id != user.alliance_id:
        return forbid("Only a senior leader of the system leader's home school approves their "
                      "release.")
    return allow()


_PREDICATES = {"edit": edit, "approve_release": approve_release}


def actions(profile: LeaderProfile, user: User) -> dict[str, Decision]:
    """Every profile action for this user on this profile."""
    return {name: predicate(profile, user) for name, predicate in _PREDICATES.items()}


def waiting(profile: LeaderProfile, user: User) -> dict[str, bool]:
    """Waiting for my approval: mine to approve, and not approved for the year yet."""
    return {"approve_release": approve_release(profile, user).allowed
            and profile.release_approved_days is None}


def may_approve_release(user: User) -> ColumnElement[bool]:
    """SQL form of :func:`approve_release` allowed, over ``LeaderProfile`` (the release page)."""
    if user.role != "home_school" or not user.school_id:
        return false()
    return and_(LeaderProfile.home_school_id == user.school_id,
                LeaderProfile.alliance_id == user.alliance_id)


def waiting_approve_release(user: User) -> ColumnElement[bool]:
    """SQL twin of "approve_release" waiting: allowed, and not approved yet."""
    may = may_approve_release(user)
    if isinstance(may, False_):  # never this role's: no query at all
        return may
    return and_(may, LeaderProfile.release_approved_days.is_(None))


WAITING_SQL = {"approve_release": waiting_approve_release}
