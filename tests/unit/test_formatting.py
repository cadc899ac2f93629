from datetime import UTC, date, datetime

import pytest

from portal.formatting import days, money, uk_date, uk_datetime


@pytest.mark.parametrize(("pence", "text"), [
    (0, "£0.00"), (5, "£0.05"), (198000, "£1,980.00"), (123456789, "£1,234,567.89"),
    (-30000, "−£300.00"),
])
def test_money_is_pounds_and_pence_with_commas(pence, text):
    assert money(pence) == text


def test_money_refuses_floats():
    with pytest.raises(TypeError):
        money(19.8)


def test_dates_are_british():
    assert uk_date(date(2026, 11, 23)) == "23 Nov 2026"
    assert uk_date(date(2027, 3, 1)) == "1 Mar 2027"


def test_datetimes_show_london_time():
    # 23:30 UTC in summer is 00:30 the next day in London
    assert uk_datetime(datetime(2026, 6, 30, 23, 30, tzinfo=UTC)) == "1 Jul 2026, 00:30"
    assert uk_date(datetime(2026, 6, 30, 23, 30, tzinfo=UTC)) == "1 Jul 2026"
    assert uk_datetime(datetime(2026, 11, 23, 14, 5, tzinfo=UTC)) == "23 Nov 2026, 14:05"


@pytest.mark.parametrize(("half", "text"), [(1, "half a day"), (2, "1 day"), (3, "1½ days"),
                                            (5, "2½ days"), (8, "4 days"), (0, "0 days")])
def test_half_days_read_as_days(half, text):
    assert days(half) == text


@pytest.mark.parametrize("half", range(0, 41))
def test_every_way_the_portal_writes_days_agrees(half):
    """Pages (the filter), agreements and invoices (charging) and matching reasons write a
    number of half days the same way: "2½ days", never "2.5 days" on one page and "2½" on
    another (issue 15, item 10)."""
    from portal.domain import charging, matching
    assert days(half) == charging.describe_half_days(half) == matching.format_days(half)
    assert "." not in days(half)
