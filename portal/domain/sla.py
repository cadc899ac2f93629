"""Service-level clocks: 48 hours to match a request, 7 days to make first contact.

Both targets run in calendar time (nights, weekends and holidays count), measured between
timezone-aware instants. Every datetime is converted to UTC before any arithmetic: Python
subtracts two datetimes that share a ``tzinfo`` by wall-clock time, which would make a clock
in Europe/London gain or lose an hour across a clock change.

A clock is *open* until the thing it measures happens (``matched_at`` / ``contacted_at``),
and *done* afterwards, when it is frozen at that moment and ``now`` no longer matters.

Labels round *down* to a whole unit, chosen by the size of the amount:

- under 1 hour: minutes ("45 minutes left"; under a minute: "less than a minute");
- under 48 hours: hours ("31 hours left", "Overdue by 3 hours");
- 48 hours or more: days ("Overdue by 2 days").

Rounding down never overstates time left; it means an amount just under a unit boundary reads
as the unit below (59 min 59 s reads "59 minutes", 47 h 59 min reads "47 hours").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

__all__ = [
    "CONTACT_DUE_SOON",
    "CONTACT_TARGET",
    "MATCH_DUE_SOON",
    "MATCH_TARGET",
    "Clock",
    "Urgency",
    "contact_clock",
    "format_duration",
    "match_clock",
    "urgency",
]

MATCH_TARGET = timedelta(hours=48)
CONTACT_TARGET = timedelta(days=7)

#: An open clock with less than this left (and not yet overdue) is "due-soon".
MATCH_DUE_SOON = timedelta(hours=12)
CONTACT_DUE_SOON = timedelta(days=2)

_DUE_SOON = {MATCH_TARGET: MATCH_DUE_SOON, CONTACT_TARGET: CONTACT_DUE_SOON}

Urgency = Literal["overdue", "due-soon", "ok", "met", "missed"]

_MINUTE = timedelta(minutes=1)
_HOUR = timedelta(hours=1)
_DAY = timedelta(days=1)
_DAYS_FROM = timedelta(hours=48)


def format_duration(amount: timedelta) -> str:
    """A non-negative duration in plain words, rounded down (see the module docstring).

    >>> format_duration(timedelta(hours=31, minutes=59))
    '31 hours'
    """
    if amount < timedelta(0):
        raise ValueError("duration must not be negative")
    if amount < _MINUTE:
        return "less than a minute"
    if amount < _HOUR:
        count, unit = amount // _MINUTE, "minute"
    elif amount < _DAYS_FROM:
        count, unit = amount // _HOUR, "hour"
    else:
        count, unit = amount // _DAY, "day"
    return f"{count} {unit}" + ("" if count == 1 else "s")


@dataclass(frozen=True)
class Clock:
    """The state of one service-level clock.

    - ``due``: when the target runs out (UTC).
    - ``remaining``: ``due`` minus ``now`` while open; ``due`` minus the completion time once
      done (so negative when overdue or missed).
    - ``overdue``: open and past ``due``. Exactly at ``due`` is not yet overdue. Always False
      once done (nothing is outstanding; a late completion shows as ``met is False``).
    - ``met``: None while open; True if done at or before ``due``, else False.
    - ``target``: the length of the clock (:data:`MATCH_TARGET` or :data:`CONTACT_TARGET`),
      needed to say how long a completion took and when it becomes "due soon".
    """

    due: datetime
    remaining: timedelta
    overdue: bool
    met: bool | None
    target: timedelta

    @property
    def label(self) -> str:
        """Plain British text for the clock, e.g. "31 hours left" or "Missed by 5 hours"."""
        if self.met is True:
            # remaining = due - done and due = start + target, so target - remaining = done - start
            return f"Met in {format_duration(self.target - self.remaining)}"
        if self.met is False:
            return f"Missed by {format_duration(-self.remaining)}"
        if self.overdue:
            return f"Overdue by {format_duration(-self.remaining)}"
        return f"{format_duration(self.remaining).capitalize()} left"


def _utc(moment: datetime, what: str) -> datetime:
    if not isinstance(moment, datetime):
        raise TypeError(f"{what} must be a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} is a naive datetime: attach a timezone (UTC)")
    return moment.astimezone(UTC)


def _clock(
    start: datetime, now: datetime, done: datetime | None, target: timedelta, names: tuple[str, ...]
) -> Clock:
    start_utc = _utc(start, names[0])
    now_utc = _utc(now, "now")
    due = start_utc + target
    if done is None:
        remaining = due - now_utc
        return Clock(due=due, remaining=remaining, overdue=remaining < timedelta(0), met=None,
                     target=target)
    done_utc = _utc(done, names[1])
    if done_utc < start_utc:
        raise ValueError(f"{names[1]} is before {names[0]}")
    remaining = due - done_utc
    return Clock(due=due, remaining=remaining, overdue=False, met=remaining >= timedelta(0),
                 target=target)


def match_clock(
    submitted_at: datetime, now: datetime, matched_at: datetime | None = None
) -> Clock:
    """The 48-hour clock from a request's submission to a system leader being proposed.

    Raises ValueError for a naive datetime, or if ``matched_at`` is before ``submitted_at``.
    ``now`` before ``submitted_at`` (a little clock skew) is tolerated: more than 48 hours left.
    """
    return _clock(submitted_at, now, matched_at, MATCH_TARGET, ("submitted_at", "matched_at"))


def contact_clock(
    confirmed_at: datetime, now: datetime, contacted_at: datetime | None = None
) -> Clock:
    """The 7-day clock from a deployment's confirmation to the system leader's first contact.

    Raises ValueError for a naive datetime, or if ``contacted_at`` is before ``confirmed_at``.
    """
    return _clock(
        confirmed_at, now, contacted_at, CONTACT_TARGET, ("confirmed_at", "contacted_at")
    )


def urgency(clock: Clock) -> Urgency:
    """Badge class for a clock: "met", "missed", "overdue", "due-soon" or "ok".

    "due-soon" means open, not overdue, and strictly less than the warning window left: 12 hours
    for the match clock, 2 days for the contact clock (a quarter of the target for any other).
    """
    if clock.met is True:
        return "met"
    if clock.met is False:
        return "missed"
    if clock.overdue:
        return "overdue"
    window = _DUE_SOON.get(clock.target, clock.target / 4)
    return "due-soon" if clock.remaining < window else "ok"
