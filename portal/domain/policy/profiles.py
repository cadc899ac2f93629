"""Who approves a system leader's release for the year, and when. (The directory.)

The policy convention of ``portal/domain/policy/__init__.py``: :func:`actions` answers
``approve_release`` for a user and a leader's profile; :func:`waiting` is the Python form of
"release waiting for my approval" (the home panel "Release to approve" and the "Needs your
action" list), and :func:`waiting_approve_release` its SQL twin.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false

from ...models import LeaderProfile, User
from . import Decision, allow, forbid

ACTIONS = ("approve_release",)


def approve_release(p: LeaderProfile, user: User) -> Decision:
    """The leader's home-school leader approves (or changes) the days they may be released."""
    if user.role != "home_school" or not user.school_id or user.school_id != p.home_school_id \
            or user.alliance_id != p.alliance_id:
        return forbid("Only the leader's home-school leader approves their release.")
    return allow()


def actions(p: LeaderProfile, user: User) -> dict[str, Decision]:
    return {"approve_release": approve_release(p, user)}


def waiting(p: LeaderProfile, user: User) -> dict[str, bool]:
    """Waiting for my approval: mine to approve, and not approved yet."""
    return {"approve_release": approve_release(p, user).allowed
            and p.release_approved_days is None}


def waiting_approve_release(user: User) -> ColumnElement[bool]:
    """SQL twin of "approve_release" waiting."""
    if user.role != "home_school" or not user.school_id:
        return false()
    return and_(LeaderProfile.home_school_id == user.school_id,
                LeaderProfile.alliance_id == user.alliance_id,
                LeaderProfile.release_approved_days.is_(None))


WAITING_SQL = {"approve_release": waiting_approve_release}
