"""Rank an alliance's system leaders against a support request (journey step 2, "Match").

The School Support Co-ordinator has 48 hours to propose a system leader for a Deployment
Request.  This module turns the request (:class:`Need`) and the directory
(:class:`Candidate` objects, built by the database layer) into a ranked list of
:class:`Match` objects, each with human-readable reasons, plus the leaders who cannot be
proposed at all (:class:`Exclusion`).

Pure standard library: no Flask, no SQLAlchemy, no clock.  Every function is deterministic.

Exclusions (never ranked; the first rule that applies is the reason given):

1. the leader's home school is one of the receiving schools ("Works at a receiving school");
2. the leader is inactive;
3. the request names acceptable designations and the leader's is not one of them;
4. the leader has no free half days in the time frame
   ("No free days between 1 Dec 2026 and 31 Jan 2027").

Scoring: every ranked leader gets one :class:`Reason` per criterion, in this order, and the
score is the sum of their points (always an ``int``):

- ``specialism``: ``SPECIALISM_POINTS`` if the leader has the requested specialism, else 0
  (only present when the request names a specialism);
- ``standards``: ``STANDARD_POINTS`` for each requested Teachers' Standard the leader covers,
  naming them ("Covers TS1, TS4 of TS1, TS4, TS6"; only present when standards are named);
- ``phase``: ``PHASE_POINTS`` if the leader works in the requested phase (all-through
  experience counts for primary and secondary; primary plus secondary counts for
  all-through);
- ``availability``: ``AVAILABILITY_POINTS`` if the free half days in the time frame cover the
  whole request; otherwise 0 and a warning such as "Only 3 of 5 days free";
- ``load``: ``LOAD_MAX_POINTS`` less ``LOAD_STEP_POINTS`` per live deployment, never below 0
  ("2 live deployments");
- ``locality``: ``LOCALITY_POINTS`` if the leader's local authority is that of a receiving
  school;
- ``designation``: ``DESIGNATION_POINTS`` (0), for information only.

Days in reason text are half days shown as days, as everywhere ("2½ days").

The specialism is deliberately the strongest signal: ``SPECIALISM_POINTS`` is larger than the
points for covering all nine standards, and larger than any other single criterion.

Ordering (fully deterministic): score descending, then fewer active deployments, then more free
half days, then name (case-insensitive, then exact), then ``leader_id``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from ..formatting import days as days_in_words
from ..formatting import half_days_number

__all__ = [
    "AVAILABILITY_POINTS",
    "DESIGNATIONS",
    "DESIGNATION_POINTS",
    "LOAD_MAX_POINTS",
    "LOAD_STEP_POINTS",
    "LOCALITY_POINTS",
    "PHASES",
    "PHASE_POINTS",
    "SPECIALISM_POINTS",
    "STANDARDS",
    "STANDARD_POINTS",
    "Candidate",
    "Exclusion",
    "Match",
    "Need",
    "Reason",
    "format_date",
    "format_days",
    "free_half_days",
    "rank",
    "working_days",
]

# --------------------------------------------------------------------------- reference data

#: Teachers' Standards (England), Part One TS1-TS8 and Part Two (personal and professional
#: conduct).  This order is also the order standards are listed in reason text.
STANDARDS: tuple[str, ...] = ("TS1", "TS2", "TS3", "TS4", "TS5", "TS6", "TS7", "TS8", "PART2")

#: Phases a request or a leader can name.
PHASES: tuple[str, ...] = (
    "primary",
    "secondary",
    "special",
    "all_through",
    "early_years",
    "post_16",
)

#: Designations of system leaders: NLE, LLE, SLE, and non-accredited colleagues working as
#: SLT or as SLE.
DESIGNATIONS: tuple[str, ...] = ("nle", "lle", "slt", "sle", "non_sle")

_KNOWN_STANDARDS = frozenset(STANDARDS)
_KNOWN_PHASES = frozenset(PHASES)
_STANDARD_LABELS = {code: code for code in STANDARDS} | {"PART2": "Part Two"}

_PHASE_LABELS = {
    "primary": "primary",
    "secondary": "secondary",
    "special": "special schools",
    "all_through": "all-through schools",
    "early_years": "early years",
    "post_16": "post-16",
}

_DESIGNATION_LABELS = {
    "nle": "National Leader in Education (NLE)",
    "lle": "Local Leader in Education (LLE)",
    "slt": "Non-accredited colleague working as SLT",
    "sle": "Specialist Leader of Education (SLE)",
    "non_sle": "Non-accredited colleague working as SLE",
}

_DESIGNATION_SHORT = {
    "nle": "NLE",
    "lle": "LLE",
    "slt": "non-accredited (SLT)",
    "sle": "SLE",
    "non_sle": "non-accredited (SLE)",
}

_SPECIALISM_LABELS = {
    "maths": "maths",
    "english": "English",
    "send": "SEND",
    "early_years": "early years",
    "science": "science",
    "leadership": "leadership",
    "mfl": "modern foreign languages",
    "pe": "PE",
    "re": "RE",
    "ict": "ICT",
    "eal": "EAL",
}

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# --------------------------------------------------------------------------- scoring weights

#: Leader has the requested specialism.  The strongest single signal: bigger than covering
#: all nine standards (9 x STANDARD_POINTS = 36) and than any other criterion.
SPECIALISM_POINTS: int = 40
#: For each requested Teachers' Standard the leader covers.
STANDARD_POINTS: int = 4
#: Leader works in the requested phase.
PHASE_POINTS: int = 20
#: Leader's free half days in the time frame cover every half day asked for.
AVAILABILITY_POINTS: int = 15
#: Load score for a leader with no live deployments ...
LOAD_MAX_POINTS: int = 10
#: ... less this for each live deployment, never below zero (0 from 5 deployments up).
LOAD_STEP_POINTS: int = 2
#: Leader's local authority is the local authority of at least one receiving school.
LOCALITY_POINTS: int = 5
#: The designation reason is for information only and does not change the score.
DESIGNATION_POINTS: int = 0


# --------------------------------------------------------------------------- data


def _frozen(obj: object, name: str, value: Iterable[object] | None) -> None:
    if value is not None and not isinstance(value, frozenset):
        object.__setattr__(obj, name, frozenset(value))


def _check_count(name: str, value: object, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be a whole number, not {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, not {value}")


def _check_standards(standards: frozenset[str]) -> None:
    if standards <= _KNOWN_STANDARDS:  # the usual case, without building a list
        return
    unknown = sorted(s for s in standards if s not in STANDARDS)
    if unknown:
        raise ValueError(f"Unknown Teachers' Standard: {', '.join(map(str, unknown))}")


def _check_dates(start: object, end: object) -> None:
    if not isinstance(start, date) or not isinstance(end, date):
        raise ValueError("The start and end of the time frame must be dates")
    if end < start:
        raise ValueError(
            f"The time frame ends ({format_date(end)}) before it starts ({format_date(start)})"
        )


@dataclass(frozen=True)
class Need:
    """What a Deployment Request asks for.

    Sets may be given as any iterable; they are stored as frozensets.  Raises
    :class:`ValueError` for an unknown standard, phase or designation, an end before the
    start, ``half_days`` below 1, no receiving school, or an empty ``designations`` set
    (use ``None`` to accept any designation).
    """

    standards: frozenset[str]
    phase: str
    specialism: str | None
    start: date
    end: date
    half_days: int
    receiving_school_ids: frozenset[int]
    local_authority_ids: frozenset[int]
    designations: frozenset[str] | None = None

    def __post_init__(self) -> None:
        for name in ("standards", "receiving_school_ids", "local_authority_ids", "designations"):
            _frozen(self, name, getattr(self, name))
        _check_standards(self.standards)
        if self.phase not in PHASES:
            raise ValueError(f"Unknown phase: {self.phase!r}")
        _check_dates(self.start, self.end)
        _check_count("half_days", self.half_days, minimum=1)
        if not self.receiving_school_ids:
            raise ValueError("A request needs at least one receiving school")
        if self.designations is not None:
            if not self.designations:
                raise ValueError("No designation is acceptable; use None to accept any")
            unknown = sorted(d for d in self.designations if d not in DESIGNATIONS)
            if unknown:
                raise ValueError(f"Unknown designation: {', '.join(map(str, unknown))}")


@dataclass(frozen=True)
class Candidate:
    """A system leader from the alliance's directory, as the database layer sees them.

    ``capacity_half_days`` and ``committed_half_days`` refer to the same period (an
    academic year, or whatever the caller chose).  ``unavailable`` holds inclusive
    ``(first, last)`` date ranges.  Raises :class:`ValueError` for an unknown designation,
    standard or phase, a negative count, or a range that ends before it starts.
    """

    leader_id: int
    name: str
    designation: str
    home_school_id: int
    local_authority_id: int | None
    specialisms: frozenset[str]
    phases: frozenset[str]
    standards: frozenset[str]
    capacity_half_days: int
    committed_half_days: int
    active_deployments: int
    unavailable: tuple[tuple[date, date], ...] = ()
    active: bool = True
    role: str = "sle"  # a Teaching School headteacher (the director) may lead a commission

    def __post_init__(self) -> None:
        for name in ("specialisms", "phases", "standards"):
            _frozen(self, name, getattr(self, name))
        if not isinstance(self.unavailable, tuple) or not all(
            isinstance(r, tuple) for r in self.unavailable
        ):
            object.__setattr__(self, "unavailable", tuple(tuple(r) for r in self.unavailable))
        if self.designation not in DESIGNATIONS:
            raise ValueError(f"Unknown designation: {self.designation!r}")
        _check_standards(self.standards)
        if not self.phases <= _KNOWN_PHASES:
            unknown = sorted(p for p in self.phases if p not in PHASES)
            raise ValueError(f"Unknown phase: {', '.join(map(str, unknown))}")
        _check_count("capacity_half_days", self.capacity_half_days, minimum=0)
        _check_count("committed_half_days", self.committed_half_days, minimum=0)
        _check_count("active_deployments", self.active_deployments, minimum=0)
        for span in self.unavailable:
            if len(span) != 2:
                raise ValueError(f"An unavailable range needs a first and last date: {span!r}")
            _check_dates(*span)


@dataclass(frozen=True)
class Reason:
    """One line of explanation for a rank; ``points`` is what it added to the score."""

    kind: str
    text: str
    points: int


@dataclass(frozen=True)
class Match:
    """A leader who can be proposed, with score, reasons (summing to the score) and warnings."""

    candidate: Candidate
    score: int
    reasons: tuple[Reason, ...]
    free_half_days: int
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class Exclusion:
    """A leader who must not be proposed for this request, and why."""

    candidate: Candidate
    reason: str


# --------------------------------------------------------------------------- formatting


def format_date(day: date) -> str:
    """``date(2026, 11, 23)`` -> ``"23 Nov 2026"`` (independent of the locale)."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def format_days(half_days: int) -> str:
    """Half days as days, written as everywhere else (``formatting.days``)."""
    return days_in_words(half_days)


@lru_cache(maxsize=1024)
def _list(codes: frozenset[str]) -> str:
    """Standards in the order of :data:`STANDARDS` ("TS1, TS4, Part Two"); the same few sets
    come up for every leader, so each is written once."""
    ordered = sorted(codes, key=STANDARDS.index)
    return ", ".join(_STANDARD_LABELS[c] for c in ordered)


def _specialism_label(code: str) -> str:
    return _SPECIALISM_LABELS.get(code, code.replace("_", " "))


# --------------------------------------------------------------------------- availability


#: _PART_WEEK[weekday][n]: working days among n consecutive days starting on that weekday.
_PART_WEEK = tuple(
    tuple(sum(1 for i in range(n) if (weekday + i) % 7 < 5) for n in range(7))
    for weekday in range(7)
)


def working_days(start: date, end: date) -> int:
    """Monday-to-Friday days from ``start`` to ``end`` inclusive (0 if ``end < start``)."""
    if end < start:
        return 0
    full_weeks, rest = divmod((end - start).days + 1, 7)
    return full_weeks * 5 + _PART_WEEK[start.weekday()][rest]


def _blocked_working_days(unavailable: Iterable[tuple[date, date]], start: date, end: date) -> int:
    """Working days inside the window covered by at least one unavailable range."""
    clipped = sorted(
        (max(first, start), min(last, end))
        for first, last in unavailable
        if first <= end and last >= start
    )
    blocked = 0
    current: tuple[date, date] | None = None
    for first, last in clipped:
        if current is not None and first <= current[1] + timedelta(days=1):
            current = (current[0], max(current[1], last))
            continue
        if current is not None:
            blocked += working_days(*current)
        current = (first, last)
    if current is not None:
        blocked += working_days(*current)
    return blocked


def free_half_days(candidate: Candidate, start: date, end: date) -> int:
    """Half days the leader can still give between ``start`` and ``end`` (inclusive).

    Capacity minus commitments (never negative), capped at twice the working days
    (Monday to Friday) in the window that are not inside any unavailable range.
    Raises :class:`ValueError` if ``end`` is before ``start``.
    """
    _check_dates(start, end)
    remaining = max(0, candidate.capacity_half_days - candidate.committed_half_days)
    if remaining == 0:
        return 0
    open_days = working_days(start, end) - _blocked_working_days(candidate.unavailable, start, end)
    return min(remaining, 2 * open_days)


# --------------------------------------------------------------------------- ranking


def _covers_phase(phases: frozenset[str], wanted: str) -> bool:
    """Exact phase, or all-through experience standing for primary and secondary both ways."""
    if wanted in phases:
        return True
    if wanted in ("primary", "secondary") and "all_through" in phases:
        return True
    return wanted == "all_through" and {"primary", "secondary"} <= phases


def _exclusion_reason(need: Need, candidate: Candidate, free: int | None) -> str | None:
    if candidate.home_school_id in need.receiving_school_ids:
        return "Works at a receiving school"
    if not candidate.active:
        return "Not active in the directory"
    if need.designations is not None and candidate.designation not in need.designations:
        accepted = " or ".join(
            _DESIGNATION_SHORT[d] for d in DESIGNATIONS if d in need.designations
        )
        return (
            f"Designation not accepted: {_DESIGNATION_SHORT[candidate.designation]} "
            f"(the request asks for {accepted})"
        )
    if free == 0:
        return f"No free days between {format_date(need.start)} and {format_date(need.end)}"
    return None


def _reasons(need: Need, candidate: Candidate, free: int) -> tuple[list[Reason], list[str]]:
    reasons: list[Reason] = []
    warnings: list[str] = []

    if need.specialism is not None:
        label = _specialism_label(need.specialism)
        if need.specialism in candidate.specialisms:
            reasons.append(Reason("specialism", f"Specialises in {label}", SPECIALISM_POINTS))
        else:
            reasons.append(Reason("specialism", f"No specialism in {label}", 0))

    if need.standards:
        covered = need.standards & candidate.standards
        asked = _list(need.standards)
        if not covered:
            text = f"Covers none of {asked}"
        elif covered == need.standards:
            text = f"Covers all of {asked}"
        else:
            text = f"Covers {_list(covered)} of {asked}"
        reasons.append(Reason("standards", text, STANDARD_POINTS * len(covered)))

    phase = _PHASE_LABELS[need.phase]
    if _covers_phase(candidate.phases, need.phase):
        reasons.append(Reason("phase", f"Experience in {phase}", PHASE_POINTS))
    else:
        reasons.append(Reason("phase", f"No experience in {phase} listed", 0))

    if free >= need.half_days:
        text = f"{format_days(free)} free for the {format_days(need.half_days)} asked"
        reasons.append(Reason("availability", text, AVAILABILITY_POINTS))
    else:
        text = f"Only {half_days_number(free)} of {format_days(need.half_days)} free"
        reasons.append(Reason("availability", text, 0))
        warnings.append(text)

    load = candidate.active_deployments
    load_text = (
        "No live deployments" if load == 0 else f"{load} live deployment{'' if load == 1 else 's'}"
    )
    load_points = max(0, LOAD_MAX_POINTS - LOAD_STEP_POINTS * load)
    reasons.append(Reason("load", load_text, load_points))

    several = len(need.receiving_school_ids) > 1
    if candidate.local_authority_id is None:
        reasons.append(Reason("locality", "Local authority not recorded", 0))
    elif candidate.local_authority_id in need.local_authority_ids:
        where = "a receiving school" if several else "the receiving school"
        reasons.append(Reason("locality", f"Same local authority as {where}", LOCALITY_POINTS))
    else:
        where = "the receiving schools" if several else "the receiving school"
        reasons.append(Reason("locality", f"Different local authority from {where}", 0))

    reasons.append(
        Reason("designation", _DESIGNATION_LABELS[candidate.designation], DESIGNATION_POINTS)
    )
    return reasons, warnings


def _order(match: Match) -> tuple[int, int, int, str, str, int]:
    c = match.candidate
    return (
        -match.score,
        c.active_deployments,
        -match.free_half_days,
        c.name.casefold(),
        c.name,
        c.leader_id,
    )


def rank(need: Need, candidates: Iterable[Candidate]) -> tuple[list[Match], list[Exclusion]]:
    """Rank ``candidates`` for ``need``.

    Returns ``(matches, exclusions)``: matches best first (see the module docstring for
    the scoring and the ordering key); exclusions ordered by name then ``leader_id``, each
    with the first exclusion rule that applies.  Every candidate appears in exactly one of
    the two lists.  Runs in time linear in the candidates (and their unavailable ranges).
    """
    matches: list[Match] = []
    exclusions: list[Exclusion] = []
    for candidate in candidates:
        reason = _exclusion_reason(need, candidate, None)
        free = 0
        if reason is None:
            free = free_half_days(candidate, need.start, need.end)
            reason = _exclusion_reason(need, candidate, free)
        if reason is not None:
            exclusions.append(Exclusion(candidate, reason))
            continue
        reasons, warnings = _reasons(need, candidate, free)
        matches.append(
            Match(
                candidate=candidate,
                score=sum(r.points for r in reasons),
                reasons=tuple(reasons),
                free_half_days=free,
                warnings=tuple(warnings),
            )
        )
    matches.sort(key=_order)
    exclusions.sort(
        key=lambda e: (e.candidate.name.casefold(), e.candidate.name, e.candidate.leader_id)
    )
    return matches, exclusions
