"""Who may change a system leader's directory profile and availability, and approve their
release, and when. (Meet the system leaders.)

Follows the policy convention (``portal/domain/policy/__init__.py``):

* ``edit``: the leader changes their own profile and the dates they are unavailable;
* ``approve_release``: the senior leader of the leader's home school approves the days the
  leader may be released this year. Its "waiting for me" list is the release page, selected by
  :func:`waiting_approve_release` (``access.released_leaders_for``, the loader's scope too).

Neither depends on a state: a profile is always open to its own leader and their home school,
so every refusal is "not your part" (403).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false

from ...models import LeaderProfile, User
from . import Decision, allow, forbid

ACTIONS = ("edit", "approve_release")


def edit(profile: LeaderProfile, user: User) -> Decision:
    """The leader's own profile and unavailable dates."""
    if user.role != "sle" or profile.user_id != user.id:
        return forbid("Only the system leader can change their own profile.")
    return allow()


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
    """The release page's entries (Python form of :func:`waiting_approve_release`)."""
    return {"approve_release": approve_release(profile, user).allowed}


def waiting_approve_release(user: User) -> ColumnElement[bool]:
    """SQL twin of :func:`approve_release` allowed, over ``LeaderProfile``."""
    if user.role != "home_school" or not user.school_id:
        return false()
    return and_(LeaderProfile.home_school_id == user.school_id,
                LeaderProfile.alliance_id == user.alliance_id)


WAITING_SQL = {"approve_release": waiting_approve_release}
