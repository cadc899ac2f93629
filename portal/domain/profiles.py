"""A system leader's own directory profile: saving it keeps the invariants matching relies on.

:func:`portal.domain.brokering.ranking` reads ``capacity_days`` as the days a leader offers in
the year, so it is always the sum of the three terms, each a whole number from 0 to
:data:`MAX_TERM_DAYS` (the school days in the longest term). The form says so beside each field
too; this is where the rule lives, so the CLI or an API cannot store a profile that breaks it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import select

from ..extensions import db
from ..models import (
    PHASES,
    STANDARDS,
    LeaderProfile,
    Specialism,
    Unavailability,
    User,
    standards_to_mask,
    utcnow,
)
from . import audit, errors
from .policy import profiles as policy
from .policy import require

MAX_TERM_DAYS = 65
TERMS = ("autumn_days", "spring_days", "summer_days")
DAYS_MESSAGE = f"Enter a number of days from 0 to {MAX_TERM_DAYS}"


STALE_PROFILE = ("Your profile was changed elsewhere (another tab?) while you were editing it. "
                 "Nothing was saved.")


def _check_version(profile: LeaderProfile, version: int | str | None) -> None:
    if version is not None and str(version) != str(profile.version):
        raise errors.Conflict(STALE_PROFILE)


def _days(field: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_TERM_DAYS:
        raise errors.Invalid(DAYS_MESSAGE, field=field)
    return value


def save_profile(actor: User, profile: LeaderProfile, *, bio: str, phases: Iterable[str],
                 standards: Iterable[str], specialisms: Iterable[Specialism],
                 autumn_days: int, spring_days: int, summer_days: int, accepting: bool,
                 version: int | str | None = None, ip: str = "") -> LeaderProfile:
    """Save ``actor``'s own profile (audited). Refuses days matching cannot use (``Invalid``,
    beside the term's field), anyone else's profile (``Forbidden``) and, given the
    ``version`` the form was drawn from, a profile changed since (``Conflict``)."""
    require(policy.edit(profile, actor))
    _check_version(profile, version)
    terms = {name: _days(name, value) for name, value in
             zip(TERMS, (autumn_days, spring_days, summer_days), strict=True)}
    before = {"capacity_days": profile.capacity_days, "accepting": profile.accepting}
    chosen_phases, chosen_standards = set(phases), set(standards)
    profile.bio = bio or ""
    profile.phases = ",".join(p for p in PHASES if p in chosen_phases)
    profile.standards_mask = standards_to_mask([s for s in STANDARDS if s in chosen_standards])
    profile.specialisms = list(specialisms)
    profile.autumn_days = terms["autumn_days"]
    profile.spring_days = terms["spring_days"]
    profile.summer_days = terms["summer_days"]
    profile.capacity_days = sum(terms.values())
    profile.accepting = bool(accepting)
    audit.record(actor, "profile.update", profile, detail={
        "before": before,
        "after": {"capacity_days": profile.capacity_days, "accepting": profile.accepting}}, ip=ip)
    return profile


# ---------------------------------------------------------------------------- availability


def add_unavailable(actor: User, profile: LeaderProfile, *, start: date, end: date,
                    note: str = "", ip: str = "") -> Unavailability:
    """The leader marks days they cannot be deployed (matching leaves them out then)."""
    require(policy.edit(profile, actor))
    if end < start:
        raise errors.Invalid("The last day must be on or after the first day", field="end")
    u = Unavailability(start=start, end=end, note=(note or "").strip())
    profile.unavailable.append(u)
    db.session.flush()
    audit.record(actor, "profile.unavailable_add", u, alliance_id=profile.alliance_id,
                 detail={"start": start.isoformat(), "end": end.isoformat()}, ip=ip)
    return u


def remove_unavailable(actor: User, profile: LeaderProfile, unavailable_id: int, *,
                       ip: str = "") -> None:
    """The leader removes one of their own unavailable ranges (another's is not found)."""
    require(policy.edit(profile, actor))
    u = db.session.scalar(select(Unavailability).where(
        Unavailability.id == unavailable_id, Unavailability.profile_id == profile.id))
    if u is None:
        raise errors.NotVisible(f"unavailability {unavailable_id}")
    audit.record(actor, "profile.unavailable_remove", u, alliance_id=profile.alliance_id,
                 detail={"start": u.start.isoformat(), "end": u.end.isoformat()}, ip=ip)
    db.session.delete(u)


# ---------------------------------------------------------------------------------- release


STALE_RELEASE = ("{name}'s release was changed by someone else while you were looking. The "
                 "current figure is shown: check it and approve again.")


def approve_release(actor: User, profile: LeaderProfile, days: int, *,
                    version: int | str | None = None, ip: str = "") -> None:
    """The home school approves ``days`` of the leader's release this year: at most the days
    the leader offers, and (given ``version``) against the figure the approver saw."""
    require(policy.approve_release(profile, actor))
    if not isinstance(days, int) or isinstance(days, bool) or days < 0:
        raise errors.Invalid("Enter the days you approve, 0 if none", field="days")
    if days > profile.capacity_days:
        raise errors.Invalid(f"{profile.user.name} offers {profile.capacity_days} days; "
                             f"approve {profile.capacity_days} or fewer", field="days")
    if version is not None and str(version) != str(profile.version):
        raise errors.Conflict(STALE_RELEASE.format(name=profile.user.name))
    before = profile.release_approved_days
    profile.release_approved_days = days
    profile.release_approved_by_id = actor.id
    profile.release_approved_at = utcnow()
    audit.record(actor, "profile.release_approve", profile,
                 detail={"before": before, "after": days, "offered": profile.capacity_days},
                 ip=ip)
