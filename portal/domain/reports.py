"""Impact report figures: the arithmetic on what :mod:`portal.reports.sql` counts and sums in
SQL (no Flask, no database here), so it can be tested on known data. What the report shows:

* deployments by status, half days delivered;
* outcomes rated (1 to 4) by Teachers' Standard and by phase, for the leader's and the schools'
  evaluations;
* average time to match (request submitted to a leader proposed) and to first contact
  (deployment confirmed to the leader's first contact);
* Board subsidy spent against each Board's budget: the Board's share (its day grant plus any
  concession) of the half days delivered on deployments it targeted, in integer pence;
* filters by academic year (1 September to 31 August, by the date the leader was proposed),
  phase and local authority.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from .charging import academic_year, academic_year_label, cost_for_half_days

__all__ = [
    "Bar",
    "CSV_HEADER",
    "BoardBudget",
    "DeploymentRow",
    "RatingRow",
    "RatingSummary",
    "Report",
    "average_hours",
    "bars",
    "cost_for_half_days",
    "csv_table",
    "mean_days",
    "mean_hours",
    "safe_cell",
    "summaries",
    "years",
]

SCALE = (1, 2, 3, 4)


@dataclass(frozen=True)
class DeploymentRow:
    id: int
    reference: str
    status: str
    phase: str
    proposed_on: date
    half_days_agreed: int = 0
    half_days_delivered: int = 0
    las: tuple[str, ...] = ()
    board_id: int | None = None
    board_day_pence: int = 0  # the Board's grant plus concession per day; 0 if not targeted
    request_id: int | None = None
    submitted_at: datetime | None = None
    matched_at: datetime | None = None
    confirmed_at: datetime | None = None
    first_contact_at: datetime | None = None


@dataclass(frozen=True)
class RatingRow:
    deployment_id: int
    source: str  # "leader" or "school"
    standard: str | None
    phase: str
    rating: int


@dataclass(frozen=True)
class RatingSummary:
    key: str
    count: int
    mean: float | None  # rounded to 2 places
    counts: dict[int, int]


@dataclass(frozen=True)
class BoardBudget:
    board_id: int
    name: str
    budget_pence: int
    spent_pence: int

    @property
    def remaining_pence(self) -> int:
        return self.budget_pence - self.spent_pence

    @property
    def percent_spent(self) -> int | None:
        """Whole per cent of the budget spent, rounded half up; None with no budget."""
        if self.budget_pence <= 0:
            return None
        return (200 * self.spent_pence + self.budget_pence) // (2 * self.budget_pence)


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    shown: str
    y: int
    width: int


@dataclass
class Report:
    rows: list[DeploymentRow]  # the newest rows shown on the page, not all of them
    total: int  # deployments in the report
    by_status: dict[str, int]
    half_days_delivered: int
    by_standard: list[RatingSummary]
    by_phase: list[RatingSummary]
    hours_to_match: float | None
    days_to_contact: float | None
    budgets: list[BoardBudget] = field(default_factory=list)


# ----------------------------------------------------------------------------------- figures


def years(found: Iterable[int]) -> list[tuple[int, str]]:
    """Academic years, newest first, with their labels."""
    return [(y, academic_year_label(y)) for y in sorted(set(found), reverse=True)]


def average_hours(pairs: Iterable[tuple[datetime | None, datetime | None]]) -> float | None:
    """Mean of ``end - start`` in hours (1 decimal place) over the pairs where both are known."""
    spans = [end - start for start, end in pairs if start is not None and end is not None]
    if not spans:
        return None
    total = sum(spans, timedelta())
    return mean_hours(total // timedelta(microseconds=1), len(spans))


def mean_hours(total_microseconds: int, count: int) -> float | None:
    """The mean of ``count`` spans summing to ``total_microseconds``, in hours to 1 decimal
    place (None with no spans): the sum comes from SQL as an exact integer, so the mean rounds
    as a sum of ``timedelta`` would."""
    if not count:
        return None
    total = timedelta(microseconds=int(total_microseconds))
    return round(total.total_seconds() / 3600 / count, 1)


def mean_days(total_microseconds: int, count: int) -> float | None:
    """As :func:`mean_hours`, then in days to 1 decimal place (the hours rounded first)."""
    hours = mean_hours(total_microseconds, count)
    return None if hours is None else round(hours / 24, 1)


def summaries(groups: Mapping[str, Mapping[int, int]], *,
              order: Sequence[str] = ()) -> list[RatingSummary]:
    """Ratings counted by key (a standard or a phase) and by rating: each key's count, mean and
    spread over 1-4. Keys in ``order`` come first in that order; any others follow
    alphabetically. An outcome with no standard is grouped as "none"."""
    keys = [k for k in order if k in groups] + sorted(k for k in groups if k not in order)
    out = []
    for k in keys:
        spread = groups[k]
        count = sum(spread.values())
        if not count:
            continue
        out.append(RatingSummary(key=k, count=count,
                                 mean=round(sum(r * n for r, n in spread.items()) / count, 2),
                                 counts={s: spread.get(s, 0) for s in SCALE}))
    return out


# ------------------------------------------------------------------------------ presentation


def bars(items: Sequence[tuple[str, float]], *, maximum: float | None = None, width: int = 360,
         row: int = 32, decimals: int = 0) -> list[Bar]:
    """Geometry for a horizontal bar chart: each bar's y and width within ``width`` pixels."""
    top = maximum if maximum is not None else max((v for _, v in items), default=0)
    out = []
    for i, (label, value) in enumerate(items):
        w = round(width * value / top) if top else 0
        shown = f"{value:.{decimals}f}" if decimals else f"{int(value)}"
        out.append(Bar(label=label, value=value, shown=shown, y=i * row, width=max(0, w)))
    return out


def safe_cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    if text and text[0] in "=+-@\t\r":
        return "'" + text
    return text


def _pounds(pence: int) -> str:
    sign = "-" if pence < 0 else ""
    pounds, p = divmod(abs(pence), 100)
    return f"{sign}{pounds}.{p:02d}"


CSV_HEADER = ["Reference", "Status", "Academic year", "Phase", "Local authorities", "Board",
              "Days agreed", "Days delivered", "Hours to match", "Days to first contact",
              "Board subsidy spent (GBP)"]


def csv_table(rows: Iterable[DeploymentRow], *, status_labels: dict[str, str],
              board_names: dict[int, str], header: bool = True) -> Iterator[list[str]]:
    """The report's deployments as CSV rows (a header first, unless ``header`` is false: a
    later batch of a streamed export); money in pounds, no floats."""
    if header:
        yield list(CSV_HEADER)
    for r in rows:
        match = average_hours([(r.submitted_at, r.matched_at)])
        contact = average_hours([(r.confirmed_at, r.first_contact_at)])
        subsidy = cost_for_half_days(r.board_day_pence, r.half_days_delivered) \
            if r.board_id is not None else 0
        yield [safe_cell(v) for v in (
            r.reference, status_labels.get(r.status, r.status),
            academic_year_label(academic_year(r.proposed_on)), r.phase, "; ".join(r.las),
            board_names.get(r.board_id, "") if r.board_id else "",
            _days(r.half_days_agreed), _days(r.half_days_delivered),
            "" if match is None else match,
            "" if contact is None else round(contact / 24, 1),
            _pounds(subsidy),
        )]


def _days(half_days: int) -> str:
    whole, half = divmod(half_days, 2)
    return f"{whole}.5" if half else str(whole)
