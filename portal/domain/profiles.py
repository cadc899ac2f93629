"""A system leader's own directory profile: saving it keeps the invariants matching relies on.

:func:`portal.domain.brokering.ranking` reads ``capacity_days`` as the days a leader offers in
the year, so it is always the sum of the three terms, each a whole number from 0 to
:data:`MAX_TERM_DAYS` (the school days in the longest term). The form says so beside each field
too; this is where the rule lives, so the CLI or an API cannot store a profile that breaks it.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..models import PHASES, STANDARDS, LeaderProfile, Specialism, User, standards_to_mask
from . import audit, errors

MAX_TERM_DAYS = 65
TERMS = ("autumn_days", "spring_days", "summer_days")
DAYS_MESSAGE = f"Enter a number of days from 0 to {MAX_TERM_DAYS}"


def _days(field: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_TERM_DAYS:
        raise errors.Invalid(DAYS_MESSAGE, field=field)
    return value


def save_profile(actor: User, profile: LeaderProfile, *, bio: str, phases: Iterable[str],
                 standards: Iterable[str], specialisms: Iterable[Specialism],
                 autumn_days: int, spring_days: int, summer_days: int, accepting: bool,
                 ip: str = "") -> LeaderProfile:
    """Save ``actor``'s own profile (audited). Refuses days matching cannot use (``Invalid``,
    beside the term's field) and anyone else's profile (``Forbidden``)."""
    if profile.user_id != actor.id:
        raise errors.Forbidden("Only the system leader can change their own profile.")
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
