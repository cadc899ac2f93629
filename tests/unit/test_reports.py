"""Impact report figures on known data: the row-by-row oracle (tests/reports_oracle.py) that the
SQL report is checked against, and the arithmetic the SQL report uses (portal/domain/reports.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from portal.domain import reports
from portal.domain.reports import DeploymentRow, RatingRow
from tests import reports_oracle as oracle

STATUSES = ["proposed", "active", "evaluation", "completed", "ended_early"]
T0 = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)


def row(i, status="completed", phase="primary", on=date(2026, 10, 1), *, delivered=8,
        agreed=8, las=("Sefton",), board=None, board_day=0, request=None, match_h=None,
        contact_d=None):
    return DeploymentRow(
        id=i, reference=f"D-{i}", status=status, phase=phase, proposed_on=on,
        half_days_agreed=agreed, half_days_delivered=delivered, las=las, board_id=board,
        board_day_pence=board_day, request_id=request if request is not None else i,
        submitted_at=T0, matched_at=T0 + timedelta(hours=match_h) if match_h is not None else None,
        confirmed_at=T0, first_contact_at=T0 + timedelta(days=contact_d)
        if contact_d is not None else None,
    )


ROWS = [
    row(1, "completed", match_h=24, contact_d=3, board=7, board_day=20000, delivered=12),
    row(2, "active", match_h=48, contact_d=9, delivered=3),
    row(3, "ended_early", "secondary", las=("Liverpool",), match_h=30, contact_d=None,
        board=7, board_day=25000, delivered=4, agreed=12),
    row(4, "completed", on=date(2025, 12, 1), match_h=10, contact_d=1, delivered=6),
    row(5, "evaluation", on=date(2027, 8, 31), las=("Sefton", "Knowsley"), delivered=5),
]

RATINGS = [
    RatingRow(1, "leader", "TS2", "primary", 4), RatingRow(1, "school", "TS2", "primary", 3),
    RatingRow(1, "leader", "TS6", "primary", 3), RatingRow(3, "leader", "TS2", "secondary", 1),
    RatingRow(4, "leader", "TS2", "primary", 2), RatingRow(1, "school", None, "primary", 2),
]


def test_academic_year_runs_september_to_august():
    this_year = oracle.filter_rows(ROWS, year=2026)
    assert [r.id for r in this_year] == [1, 2, 3, 5]  # 31 Aug 2027 is still 2026/27
    assert [r.id for r in oracle.filter_rows(ROWS, year=2025)] == [4]
    assert oracle.years(ROWS) == [(2026, "2026/27"), (2025, "2025/26")]


def test_filters_by_phase_and_la_combine():
    assert [r.id for r in oracle.filter_rows(ROWS, phase="secondary")] == [3]
    assert [r.id for r in oracle.filter_rows(ROWS, la="Knowsley")] == [5]
    assert [r.id for r in oracle.filter_rows(ROWS, year=2026, la="Sefton",
                                              phase="primary")] == [1, 2, 5]
    assert oracle.filter_rows(ROWS, phase="special") == []


def test_status_counts_include_zeroes_in_order():
    counts = oracle.by_status(ROWS, STATUSES)
    assert list(counts) == STATUSES
    assert counts == {"proposed": 0, "active": 1, "evaluation": 1, "completed": 2,
                      "ended_early": 1}


def test_time_to_match_and_first_contact_averages():
    report = oracle.build(oracle.filter_rows(ROWS, year=2026), RATINGS, statuses=STATUSES)
    assert report.hours_to_match == pytest.approx(34.0)  # (24 + 48 + 30) / 3; row 5 unmatched
    assert report.days_to_contact == pytest.approx(6.0)  # (3 + 9) / 2; rows 3 and 5 unknown
    assert report.half_days_delivered == 12 + 3 + 4 + 5
    assert report.total == 4


def test_a_request_matched_twice_counts_once_at_its_latest_match():
    rows = [row(1, request=9, match_h=10), row(2, request=9, match_h=50), row(3, match_h=20)]
    assert oracle.build(rows, [], statuses=STATUSES).hours_to_match == pytest.approx(35.0)


def test_no_data_gives_no_averages():
    report = oracle.build([], RATINGS, statuses=STATUSES)
    assert report.hours_to_match is None and report.days_to_contact is None
    assert report.by_standard == [] and report.half_days_delivered == 0


def test_ratings_by_standard_and_phase():
    by_standard = oracle.ratings_by(RATINGS, "standard", order=["TS1", "TS2", "TS6"])
    assert [(s.key, s.count, s.mean) for s in by_standard] == [
        ("TS2", 4, 2.5), ("TS6", 1, 3.0), ("none", 1, 2.0)]
    assert by_standard[0].counts == {1: 1, 2: 1, 3: 1, 4: 1}
    leader_only = oracle.ratings_by(RATINGS, "standard", source="leader")
    assert [(s.key, s.count, s.mean) for s in leader_only] == [("TS2", 3, 2.33), ("TS6", 1, 3.0)]
    by_phase = oracle.ratings_by(RATINGS, "phase", order=["primary", "secondary"])
    assert [(s.key, s.count, s.mean) for s in by_phase] == [
        ("primary", 5, 2.8), ("secondary", 1, 1.0)]


def test_report_keeps_only_ratings_of_filtered_deployments():
    report = oracle.build(oracle.filter_rows(ROWS, phase="secondary"), RATINGS,
                           statuses=STATUSES)
    assert [(s.key, s.count) for s in report.by_standard] == [("TS2", 1)]


def test_board_subsidy_spent_against_budget_in_pence():
    # row 1: 6 days at £200 = £1,200; row 3: 2 days at £250 (grant + concession) = £500
    assert oracle.subsidy_spent(ROWS) == {7: 170_000}
    [budget, other] = oracle.board_budgets(ROWS, [(7, "Primary Board", 2_000_000),
                                                   (8, "Secondary Board", 0)])
    assert (budget.spent_pence, budget.remaining_pence, budget.percent_spent) == (
        170_000, 1_830_000, 9)  # 8.5% rounds half up
    assert (other.spent_pence, other.percent_spent) == (0, None)
    assert all(isinstance(b.spent_pence, int) for b in (budget, other))


def test_odd_half_day_subsidy_rounds_half_up_to_the_penny():
    rows = [row(1, board=1, board_day=20001, delivered=1)]
    assert oracle.subsidy_spent(rows) == {1: 10001}


def test_bars_scale_to_the_largest_value_or_a_fixed_maximum():
    b = reports.bars([("A", 4), ("B", 2), ("C", 0)], width=100)
    assert [(x.width, x.y, x.shown) for x in b] == [(100, 0, "4"), (50, 32, "2"), (0, 64, "0")]
    means = reports.bars([("TS2", 2.5)], maximum=4, width=100, decimals=2)
    assert means[0].width == 62 and means[0].shown == "2.50"
    assert reports.bars([("A", 0)], width=100)[0].width == 0  # no division by zero


def test_csv_table_is_formula_safe_and_in_pounds():
    rows = [row(1, board=7, board_day=20000, delivered=5, match_h=24, contact_d=3),
            DeploymentRow(id=2, reference="=HYPERLINK(1)", status="active", phase="primary",
                          proposed_on=date(2026, 9, 1))]
    table = list(reports.csv_table(rows, status_labels={"completed": "Completed"},
                                   board_names={7: "Primary Board"}))
    assert table[0][0] == "Reference" and len(table) == 3
    assert table[1] == ["D-1", "Completed", "2026/27", "primary", "Sefton", "Primary Board",
                        "4", "2.5", "24.0", "3.0", "500.00"]
    assert table[2][0] == "'=HYPERLINK(1)" and table[2][-1] == "0.00"
    assert reports.safe_cell("-1") == "'-1" and reports.safe_cell(None) == ""

    assert list(reports.csv_table(rows[:1], status_labels={}, board_names={},
                                  header=False))[0][0] == "D-1"  # a later batch: no header


def test_summaries_from_counts_match_the_ratings_row_by_row():
    """The SQL report counts ratings by (key, rating); the summary is the oracle's."""
    for key, order in (("standard", ["TS1", "TS2", "TS6"]), ("phase", ["primary"])):
        groups: dict = {}
        for r in RATINGS:
            spread = groups.setdefault(getattr(r, key) or "none", {})
            spread[r.rating] = spread.get(r.rating, 0) + 1
        assert reports.summaries(groups, order=order) == oracle.ratings_by(RATINGS, key,
                                                                           order=order)


def test_means_from_exact_microseconds_round_as_timedeltas_do():
    # 2 h 15 min exactly is 2.25 hours: it rounds to 2.2 as the sum of timedeltas did
    pairs = [(T0, T0 + timedelta(hours=2, minutes=15))] * 3
    total = 3 * (135 * 60 * 1_000_000)
    assert reports.mean_hours(total, 3) == reports.average_hours(pairs) == 2.2
    assert reports.mean_hours(0, 0) is None and reports.mean_days(0, 0) is None
    assert reports.mean_days(2 * 36 * 3600 * 1_000_000, 2) == 1.5
    assert reports.mean_hours(1, 1) == 0.0  # a microsecond is kept, not lost to a float
    assert reports.years([2025, 2026, 2026]) == [(2026, "2026/27"), (2025, "2025/26")]
