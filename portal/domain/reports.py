"""Impact report figures, computed from plain rows (no Flask, no database), so they can be tested
on known data.

The routes load :class:`DeploymentRow` and :class:`RatingRow` tuples for the deployments a user
may see, then everything here is arithmetic:

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

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from .charging import academic_year, academic_year_label, cost_for_half_days

__all__ = [
    "Bar",
    "BoardBudget",
    "DeploymentRow",
    "RatingRow",
    "RatingSummary",
    "Report",
    "average_hours",
    "bars",
    "board_budgets",
    "build",
    "by_status",
    "csv_table",
    "filter_rows",
    "ratings_by",
    "safe_cell",
    "subsidy_spent",
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
    rows: list[DeploymentRow]
    by_status: dict[str, int]
    half_days_delivered: int
    by_standard: list[RatingSummary]
    by_phase: list[RatingSummary]
    hours_to_match: float | None
    days_to_contact: float | None
    budgets: list[BoardBudget] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.rows)


# --------------------------------------------------------------------------------- filtering


def years(rows: Iterable[DeploymentRow]) -> list[tuple[int, str]]:
    """The academic years the rows fall in, newest first, with their labels."""
    found = sorted({academic_year(r.proposed_on) for r in rows}, reverse=True)
    return [(y, academic_year_label(y)) for y in found]


def filter_rows(rows: Iterable[DeploymentRow], *, year: int | None = None,
                phase: str | None = None, la: str | None = None) -> list[DeploymentRow]:
    out = []
    for r in rows:
        if year is not None and academic_year(r.proposed_on) != year:
            continue
        if phase and r.phase != phase:
            continue
        if la and la not in r.las:
            continue
        out.append(r)
    return out


# ----------------------------------------------------------------------------------- figures


def by_status(rows: Iterable[DeploymentRow], statuses: Sequence[str]) -> dict[str, int]:
    """Count per status, in the order given, every status present (zero included)."""
    counts = Counter(r.status for r in rows)
    return {s: counts.get(s, 0) for s in statuses}


def average_hours(pairs: Iterable[tuple[datetime | None, datetime | None]]) -> float | None:
    """Mean of ``end - start`` in hours (1 decimal place) over the pairs where both are known."""
    spans = [end - start for start, end in pairs if start is not None and end is not None]
    if not spans:
        return None
    total = sum(spans, timedelta())
    return round(total.total_seconds() / 3600 / len(spans), 1)


def _hours_to_match(rows: Sequence[DeploymentRow]) -> float | None:
    per_request: dict[object, tuple] = {}
    for r in rows:  # a request matched twice (after a decline) counts once, at its latest match
        per_request[r.request_id if r.request_id is not None else ("d", r.id)] = (
            r.submitted_at, r.matched_at)
    return average_hours(per_request.values())


def _days_to_contact(rows: Sequence[DeploymentRow]) -> float | None:
    hours = average_hours((r.confirmed_at, r.first_contact_at) for r in rows)
    return None if hours is None else round(hours / 24, 1)


def ratings_by(ratings: Iterable[RatingRow], key: str, *, source: str | None = None,
               order: Sequence[str] = ()) -> list[RatingSummary]:
    """Ratings grouped by ``standard`` or ``phase``: count, mean and spread over 1-4.

    Keys in ``order`` come first in that order; any others follow alphabetically. An outcome with
    no standard is grouped as "none".
    """
    groups: dict[str, list[int]] = defaultdict(list)
    for r in ratings:
        if source and r.source != source:
            continue
        groups[getattr(r, key) or "none"].append(r.rating)
    keys = [k for k in order if k in groups] + sorted(k for k in groups if k not in order)
    out = []
    for k in keys:
        values = groups[k]
        spread = Counter(values)
        out.append(RatingSummary(key=k, count=len(values),
                                 mean=round(sum(values) / len(values), 2),
                                 counts={s: spread.get(s, 0) for s in SCALE}))
    return out


def subsidy_spent(rows: Iterable[DeploymentRow]) -> dict[int, int]:
    """Pence of Board subsidy spent per Board: its day share for the half days delivered."""
    spent: dict[int, int] = defaultdict(int)
    for r in rows:
        if r.board_id is not None and r.board_day_pence:
            spent[r.board_id] += cost_for_half_days(r.board_day_pence, r.half_days_delivered)
    return dict(spent)


def board_budgets(rows: Iterable[DeploymentRow],
                  boards: Iterable[tuple[int, str, int]]) -> list[BoardBudget]:
    """Each Board (id, name, budget in pence) with what its targeted deployments have spent."""
    spent = subsidy_spent(rows)
    return [BoardBudget(board_id=i, name=name, budget_pence=budget, spent_pence=spent.get(i, 0))
            for i, name, budget in boards]


def build(rows: Sequence[DeploymentRow], ratings: Iterable[RatingRow], *,
          statuses: Sequence[str], standards: Sequence[str] = (), phases: Sequence[str] = (),
          boards: Iterable[tuple[int, str, int]] = ()) -> Report:
    """Every figure of the report for rows already filtered; ratings are kept to those rows."""
    ids = {r.id for r in rows}
    kept = [r for r in ratings if r.deployment_id in ids]
    return Report(
        rows=list(rows),
        by_status=by_status(rows, statuses),
        half_days_delivered=sum(r.half_days_delivered for r in rows),
        by_standard=ratings_by(kept, "standard", order=standards),
        by_phase=ratings_by(kept, "phase", order=phases),
        hours_to_match=_hours_to_match(rows),
        days_to_contact=_days_to_contact(rows),
        budgets=board_budgets(rows, boards),
    )


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


def csv_table(rows: Iterable[DeploymentRow], *, status_labels: dict[str, str],
              board_names: dict[int, str]) -> list[list[str]]:
    """The report's deployments as CSV rows (a header first); money in pounds, no floats."""
    header = ["Reference", "Status", "Academic year", "Phase", "Local authorities", "Board",
              "Days agreed", "Days delivered", "Hours to match", "Days to first contact",
              "Board subsidy spent (GBP)"]
    out = [header]
    for r in rows:
        match = average_hours([(r.submitted_at, r.matched_at)])
        contact = average_hours([(r.confirmed_at, r.first_contact_at)])
        subsidy = cost_for_half_days(r.board_day_pence, r.half_days_delivered) \
            if r.board_id is not None else 0
        out.append([safe_cell(v) for v in (
            r.reference, status_labels.get(r.status, r.status),
            academic_year_label(academic_year(r.proposed_on)), r.phase, "; ".join(r.las),
            board_names.get(r.board_id, "") if r.board_id else "",
            _days(r.half_days_agreed), _days(r.half_days_delivered),
            "" if match is None else match,
            "" if contact is None else round(contact / 24, 1),
            _pounds(subsidy),
        )])
    return out


def _days(half_days: int) -> str:
    whole, half = divmod(half_days, 2)
    return f"{whole}.5" if half else str(whole)
