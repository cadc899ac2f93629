"""The shared input rules (portal/validators.py): pounds, whole numbers, dates, time frames."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.validators import (
    DB_INT_MAX,
    MAX_PENCE,
    MAX_TIME_FRAME,
    PlausibleDate,
    UKDateField,
    date_problem,
    optional_id,
    parse_pounds,
    parse_uk_date,
    pounds,
    time_frame_problem,
    uk_date_input,
    whole_number,
)


@pytest.mark.parametrize(("typed", "pence"), [
    ("1,500.50", 150_050), ("£1500", 150_000), ("£ 1,980.50", 198_050), ("1.5", 150),
    ("0", 0), ("0.07", 7), (" 25 ", 2_500), ("1,000,000.00", MAX_PENCE), ("12,345,6.00", None),
    ("100", 10_000), ("£0.5", 50), ("999,999", 99_999_900),
])
def test_pounds_are_read_as_a_uk_user_means_them(typed, pence):
    if pence is None:
        with pytest.raises(ValueError):
            parse_pounds(typed)
    else:
        assert parse_pounds(typed) == pence
        assert isinstance(parse_pounds(typed), int)


@pytest.mark.parametrize(("typed", "says"), [
    ("1,5", "commas only between thousands"),
    ("1,50", "commas only between thousands"),
    ("15,00", "commas only between thousands"),
    ("1,5000", "commas only between thousands"),
    ("1.5.0", "one full stop"),
    ("1.555", "whole pence"),
    ("-1", "without a minus sign"),
    ("−1.50", "without a minus sign"),
    ("NaN", "like 150 or 1,980.50"),
    ("1e3", "like 150 or 1,980.50"),
    ("Infinity", "like 150 or 1,980.50"),
    ("", "like 150 or 1,980.50"),
    ("£", "like 150 or 1,980.50"),
    ("1 500", "like 150 or 1,980.50"),
    ("١٥", "like 150 or 1,980.50"),  # Arabic-Indic digits are digits to Python only
    ("1,000,000.01", "up to £1,000,000.00"),
    ("99999999999999999999", "up to £1,000,000.00"),
    ("1" + "0" * 5000, "up to £1,000,000.00"),  # longer than int() reads
])
def test_pounds_that_would_be_a_guess_are_refused_with_a_message(typed, says):
    with pytest.raises(ValueError, match=says):
        parse_pounds(typed)


def test_a_lower_maximum_is_named_in_the_message():
    assert parse_pounds("10,000", maximum=1_000_000) == 1_000_000
    with pytest.raises(ValueError, match=r"up to £10,000\.00"):
        parse_pounds("10,000.01", maximum=1_000_000)


def test_pounds_round_trip_for_editing():
    for pence in (0, 7, 150, 150_050, MAX_PENCE):
        assert parse_pounds(pounds(pence)) == pence
    assert pounds(None) == ""


@pytest.mark.parametrize("value", ["1", "42", " 7 ", str(DB_INT_MAX), 5])
def test_whole_numbers_in_range_are_read(value):
    assert whole_number(value) == int(str(value).strip())


@pytest.mark.parametrize("value", ["", "0", "-1", "+1", "1.0", "1e3", "abc", "1 2", "٣",
                                   str(DB_INT_MAX + 1), "9" * 40, None, True])
def test_anything_else_is_not_a_whole_number(value):
    with pytest.raises(ValueError):
        whole_number(value)


def test_optional_id_reads_none_for_empty_and_refuses_junk():
    assert optional_id("") is None and optional_id(None) is None and optional_id("12") == 12
    for junk in ("zzz", "None", "0", "99999999999999999999"):
        with pytest.raises(ValueError):
            optional_id(junk)


def test_date_problem_names_the_bounds_in_british_dates():
    assert date_problem(date(2027, 1, 1), date(2026, 12, 1), date(2027, 2, 1)) is None
    assert date_problem(date(2026, 1, 1), date(2026, 12, 1), None) == \
        "Enter a date on or after 1 Dec 2026."
    assert date_problem(date(9999, 12, 31), None, date(2028, 12, 1),
                        too_late="Enter it by {latest}.") == "Enter it by 1 Dec 2028."


class _Field:
    def __init__(self, data):
        self.data, self.errors = data, []


def test_plausible_date_refuses_typing_slips_either_way():
    from wtforms.validators import StopValidation

    check = PlausibleDate(past=timedelta(days=14), future=timedelta(days=730),
                          today=lambda: date(2026, 12, 1))
    check(None, _Field(date(2026, 11, 17)))  # a fortnight ago: fine
    check(None, _Field(None))  # nothing typed: the required check answers that
    for slip in (date(1, 1, 1), date(1900, 1, 1), date(9999, 12, 31), date(2026, 11, 16)):
        with pytest.raises(StopValidation):
            check(None, _Field(slip))


def test_time_frames_end_after_they_start_and_last_at_most_two_years():
    start = date(2027, 1, 11)
    assert time_frame_problem(start, start) is None
    assert time_frame_problem(start, start + MAX_TIME_FRAME) is None
    assert "on or after its start" in time_frame_problem(start, start - timedelta(days=1))
    assert "at most 2 years" in time_frame_problem(start, start + MAX_TIME_FRAME
                                                   + timedelta(days=1))
    assert time_frame_problem(None, start) is None


# ------------------------------------------------------------------ dates as typed in the UK

_days = st.dates(min_value=date(1000, 1, 1), max_value=date(9999, 12, 31))


@given(_days, st.sampled_from(["/", ".", "-", " ", " / "]), st.booleans())
def test_a_uk_date_is_read_day_first_whatever_the_separator(day, sep, padded):
    d, m = (f"{day.day:02d}", f"{day.month:02d}") if padded else (str(day.day), str(day.month))
    assert parse_uk_date(f"{d}{sep}{m}{sep}{day.year}") == day


@given(_days)
def test_what_a_date_picker_sends_and_what_the_field_shows_both_read_back(day):
    assert parse_uk_date(day.isoformat()) == day
    assert parse_uk_date(uk_date_input(day)) == day
    assert uk_date_input(day) == f"{day.day:02d}/{day.month:02d}/{day.year}"


@given(st.text(max_size=40))
def test_any_text_is_a_date_or_a_message_never_a_crash(text):
    try:
        assert isinstance(parse_uk_date(text), date)
    except ValueError as exc:
        assert "26/03/2027" in str(exc)


@given(st.integers(1, 12), st.integers(13, 31), st.integers(1000, 9999))
def test_a_month_written_first_is_refused_not_swapped(month, day, year):
    with pytest.raises(ValueError, match="day before the month"):
        parse_uk_date(f"{month:02d}/{day:02d}/{year}")


@pytest.mark.parametrize(("typed", "says"), [
    ("", "Enter a date"),
    ("26/03/27", "year in full"),
    ("31/02/2027", "not in the month"),
    ("26/13/2027", "month from 1 to 12"),
    ("2027-02-30", "not in the month"),
    ("next Tuesday", "day, month and year"),
    ("26 March 2027", "day, month and year"),
    ("٢٦/٠٣/٢٠٢٧", "day, month and year"),  # digits to Python, not to a person
    ("26/03/2027/1", "day, month and year"),
])
def test_dates_that_would_be_a_guess_are_refused_with_a_message(typed, says):
    with pytest.raises(ValueError, match=says):
        parse_uk_date(typed)


def _field(**kw):
    from wtforms import Form

    class F(Form):
        on = UKDateField("On", **kw)

    return F


@pytest.mark.parametrize(("typed", "data", "shown"), [
    ("26/3/2027", date(2027, 3, 26), "26/3/2027"),
    ("2027-03-26", date(2027, 3, 26), "2027-03-26"),
    ("31/02/2027", None, "31/02/2027"),
    ("", None, ""),
])
def test_the_date_field_keeps_what_was_typed_and_says_what_is_wrong_once(typed, data, shown):
    from werkzeug.datastructures import MultiDict

    form = _field()(MultiDict({"on": typed}))
    ok = form.validate()
    assert form.on.data == data
    assert form.on._value() == shown
    if data is None and typed:
        assert not ok and len(form.on.errors) == 1 and "26/03/2027" in form.on.errors[0]
    else:
        assert ok


def test_the_date_field_shows_a_saved_date_the_uk_way_as_text():
    form = _field()(data={"on": date(2027, 3, 6)})
    html = str(form.on())
    assert 'value="06/03/2027"' in html and 'type="text"' in html
    assert form.on.date_hint == "For example, 26/03/2027."
