"""Unit tests for portal.domain.sla (pure Python, no app or database)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.domain.sla import (
    CONTACT_DUE_SOON,
    CONTACT_TARGET,
    MATCH_DUE_SOON,
    MATCH_TARGET,
    Clock,
    contact_clock,
    format_duration,
    match_clock,
    urgency,
)

T0 = datetime(2024, 9, 2, 9, 0, tzinfo=UTC)  # a Monday morning
SECOND = timedelta(seconds=1)
H = timedelta(hours=1)
D = timedelta(days=1)
LONDON = ZoneInfo("Europe/London")

MOMENTS = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
OFFSETS = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=60))


def test_targets() -> None:
    assert MATCH_TARGET == timedelta(hours=48)
    assert CONTACT_TARGET == timedelta(days=7)
    assert MATCH_DUE_SOON == timedelta(hours=12)
    assert CONTACT_DUE_SOON == timedelta(days=2)


# --------------------------------------------------------------------------------------------
# format_duration and its rounding
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (timedelta(0), "less than a minute"),
        (timedelta(seconds=59), "less than a minute"),
        (timedelta(seconds=59, microseconds=999999), "less than a minute"),
        (timedelta(minutes=1), "1 minute"),
        (timedelta(seconds=119), "1 minute"),
        (timedelta(minutes=2), "2 minutes"),
        (timedelta(minutes=45), "45 minutes"),
        (H - SECOND, "59 minutes"),
        (H, "1 hour"),
        (timedelta(hours=1, minutes=59), "1 hour"),
        (timedelta(hours=2), "2 hours"),
        (timedelta(hours=31), "31 hours"),
        (timedelta(hours=31, minutes=59, seconds=59), "31 hours"),
        (timedelta(hours=48) - SECOND, "47 hours"),
        (timedelta(hours=48), "2 days"),
        (timedelta(hours=71, minutes=59), "2 days"),
        (timedelta(hours=72), "3 days"),
        (timedelta(days=7), "7 days"),
        (timedelta(days=400), "400 days"),
    ],
)
def test_format_duration(amount: timedelta, text: str) -> None:
    assert format_duration(amount) == text


def test_format_duration_rejects_negative() -> None:
    with pytest.raises(ValueError):
        format_duration(-SECOND)


# --------------------------------------------------------------------------------------------
# The 48-hour match clock
# --------------------------------------------------------------------------------------------


class TestMatchClockOpen:
    def test_just_submitted(self) -> None:
        clock = match_clock(T0, T0)
        assert clock == Clock(
            due=datetime(2024, 9, 4, 9, 0, tzinfo=UTC),
            remaining=timedelta(hours=48),
            overdue=False,
            met=None,
            target=MATCH_TARGET,
        )
        assert clock.label == "2 days left"
        assert urgency(clock) == "ok"

    def test_calendar_hours_over_a_weekend(self) -> None:
        friday_5pm = datetime(2024, 9, 6, 17, 0, tzinfo=UTC)
        clock = match_clock(friday_5pm, friday_5pm)
        assert clock.due == datetime(2024, 9, 8, 17, 0, tzinfo=UTC)  # Sunday, not Tuesday

    def test_hours_left(self) -> None:
        clock = match_clock(T0, T0 + 17 * H)
        assert clock.remaining == 31 * H
        assert clock.overdue is False
        assert clock.met is None
        assert clock.label == "31 hours left"
        assert urgency(clock) == "ok"

    def test_hours_left_rounds_down(self) -> None:
        clock = match_clock(T0, T0 + timedelta(hours=16, minutes=1))
        assert clock.label == "31 hours left"

    def test_minutes_left(self) -> None:
        clock = match_clock(T0, T0 + timedelta(hours=47, minutes=15))
        assert clock.remaining == timedelta(minutes=45)
        assert clock.label == "45 minutes left"
        assert urgency(clock) == "due-soon"

    def test_one_hour_left(self) -> None:
        assert match_clock(T0, T0 + 47 * H).label == "1 hour left"

    def test_one_second_before_due(self) -> None:
        clock = match_clock(T0, T0 + MATCH_TARGET - SECOND)
        assert clock.remaining == SECOND
        assert clock.overdue is False
        assert clock.label == "Less than a minute left"
        assert urgency(clock) == "due-soon"

    def test_exactly_48_hours_is_due_not_overdue(self) -> None:
        clock = match_clock(T0, T0 + MATCH_TARGET)
        assert clock.remaining == timedelta(0)
        assert clock.overdue is False
        assert clock.met is None
        assert clock.label == "Less than a minute left"
        assert urgency(clock) == "due-soon"

    def test_one_second_after_due_is_overdue(self) -> None:
        clock = match_clock(T0, T0 + MATCH_TARGET + SECOND)
        assert clock.remaining == -SECOND
        assert clock.overdue is True
        assert clock.met is None
        assert clock.label == "Overdue by less than a minute"
        assert urgency(clock) == "overdue"

    def test_overdue_by_minutes(self) -> None:
        assert match_clock(T0, T0 + 48 * H + timedelta(minutes=10)).label == "Overdue by 10 minutes"

    def test_overdue_by_hours(self) -> None:
        clock = match_clock(T0, T0 + 51 * H)
        assert clock.remaining == -3 * H
        assert clock.label == "Overdue by 3 hours"
        assert urgency(clock) == "overdue"

    def test_overdue_by_one_hour(self) -> None:
        assert match_clock(T0, T0 + 49 * H).label == "Overdue by 1 hour"

    def test_overdue_just_under_two_days_still_in_hours(self) -> None:
        assert match_clock(T0, T0 + 96 * H - SECOND).label == "Overdue by 47 hours"

    def test_overdue_by_days(self) -> None:
        assert match_clock(T0, T0 + 96 * H).label == "Overdue by 2 days"
        assert match_clock(T0, T0 + 48 * H + 5 * D + 23 * H).label == "Overdue by 5 days"

    def test_due_soon_boundary(self) -> None:
        assert urgency(match_clock(T0, T0 + 36 * H)) == "ok"  # exactly 12 hours left
        assert urgency(match_clock(T0, T0 + 36 * H + SECOND)) == "due-soon"

    def test_now_slightly_before_submission_is_tolerated(self) -> None:
        clock = match_clock(T0, T0 - 5 * SECOND)
        assert clock.remaining == MATCH_TARGET + 5 * SECOND
        assert clock.label == "2 days left"
        assert urgency(clock) == "ok"


class TestMatchClockDone:
    def test_met(self) -> None:
        clock = match_clock(T0, T0 + 30 * D, matched_at=T0 + 20 * H)
        assert clock == Clock(
            due=T0 + MATCH_TARGET,
            remaining=28 * H,
            overdue=False,
            met=True,
            target=MATCH_TARGET,
        )
        assert clock.label == "Met in 20 hours"
        assert urgency(clock) == "met"

    def test_met_ignores_now(self) -> None:
        done = T0 + 20 * H
        assert match_clock(T0, T0 + 21 * H, done) == match_clock(T0, T0 + 900 * D, done)

    def test_met_at_once(self) -> None:
        assert match_clock(T0, T0, matched_at=T0).label == "Met in less than a minute"

    def test_met_in_minutes(self) -> None:
        clock = match_clock(T0, T0 + H, matched_at=T0 + timedelta(minutes=25))
        assert clock.label == "Met in 25 minutes"

    def test_met_one_second_before_due(self) -> None:
        clock = match_clock(T0, T0 + 3 * D, matched_at=T0 + MATCH_TARGET - SECOND)
        assert clock.met is True
        assert clock.remaining == SECOND
        assert clock.label == "Met in 47 hours"
        assert urgency(clock) == "met"

    def test_met_exactly_at_48_hours(self) -> None:
        clock = match_clock(T0, T0 + 3 * D, matched_at=T0 + MATCH_TARGET)
        assert clock.met is True
        assert clock.overdue is False
        assert clock.remaining == timedelta(0)
        assert clock.label == "Met in 2 days"
        assert urgency(clock) == "met"

    def test_missed_by_one_second(self) -> None:
        clock = match_clock(T0, T0 + 3 * D, matched_at=T0 + MATCH_TARGET + SECOND)
        assert clock.met is False
        assert clock.overdue is False  # nothing outstanding once matched
        assert clock.remaining == -SECOND
        assert clock.label == "Missed by less than a minute"
        assert urgency(clock) == "missed"

    def test_missed_by_hours(self) -> None:
        clock = match_clock(T0, T0 + 3 * D, matched_at=T0 + 53 * H)
        assert clock.met is False
        assert clock.label == "Missed by 5 hours"
        assert urgency(clock) == "missed"

    def test_missed_by_days(self) -> None:
        clock = match_clock(T0, T0 + 9 * D, matched_at=T0 + 8 * D)
        assert clock.label == "Missed by 6 days"

    def test_matched_before_submitted_rejected(self) -> None:
        with pytest.raises(ValueError, match="matched_at is before submitted_at"):
            match_clock(T0, T0, matched_at=T0 - SECOND)


# --------------------------------------------------------------------------------------------
# The 7-day first-contact clock
# --------------------------------------------------------------------------------------------


class TestContactClock:
    def test_just_confirmed(self) -> None:
        clock = contact_clock(T0, T0)
        assert clock == Clock(
            due=datetime(2024, 9, 9, 9, 0, tzinfo=UTC),
            remaining=7 * D,
            overdue=False,
            met=None,
            target=CONTACT_TARGET,
        )
        assert clock.label == "7 days left"
        assert urgency(clock) == "ok"

    def test_days_left_round_down(self) -> None:
        assert contact_clock(T0, T0 + 2 * D + H).label == "4 days left"

    def test_due_soon_boundary_is_two_days(self) -> None:
        exactly_two_days = contact_clock(T0, T0 + 5 * D)
        assert exactly_two_days.label == "2 days left"
        assert urgency(exactly_two_days) == "ok"
        just_under = contact_clock(T0, T0 + 5 * D + SECOND)
        assert just_under.label == "47 hours left"
        assert urgency(just_under) == "due-soon"

    def test_twelve_hours_left_is_due_soon_for_contact(self) -> None:
        assert urgency(contact_clock(T0, T0 + 6 * D + 12 * H)) == "due-soon"

    def test_exactly_seven_days_is_due_not_overdue(self) -> None:
        clock = contact_clock(T0, T0 + CONTACT_TARGET)
        assert clock.overdue is False
        assert clock.remaining == timedelta(0)
        assert urgency(clock) == "due-soon"

    def test_one_second_after_seven_days_is_overdue(self) -> None:
        clock = contact_clock(T0, T0 + CONTACT_TARGET + SECOND)
        assert clock.overdue is True
        assert clock.label == "Overdue by less than a minute"
        assert urgency(clock) == "overdue"

    def test_overdue_by_days(self) -> None:
        assert contact_clock(T0, T0 + 9 * D + 7 * H).label == "Overdue by 2 days"

    def test_met(self) -> None:
        clock = contact_clock(T0, T0 + 10 * D, contacted_at=T0 + 3 * D + 2 * H)
        assert clock.met is True
        assert clock.overdue is False
        assert clock.remaining == 3 * D + 22 * H
        assert clock.label == "Met in 3 days"
        assert urgency(clock) == "met"

    def test_met_exactly_at_seven_days(self) -> None:
        clock = contact_clock(T0, T0 + 10 * D, contacted_at=T0 + CONTACT_TARGET)
        assert clock.met is True
        assert clock.label == "Met in 7 days"

    def test_missed_by_one_second(self) -> None:
        clock = contact_clock(T0, T0 + 10 * D, contacted_at=T0 + CONTACT_TARGET + SECOND)
        assert clock.met is False
        assert clock.label == "Missed by less than a minute"
        assert urgency(clock) == "missed"

    def test_missed_by_hours(self) -> None:
        clock = contact_clock(T0, T0 + 10 * D, contacted_at=T0 + 7 * D + 5 * H)
        assert clock.label == "Missed by 5 hours"

    def test_missed_by_days(self) -> None:
        clock = contact_clock(T0, T0 + 10 * D, contacted_at=T0 + 9 * D)
        assert clock.label == "Missed by 2 days"

    def test_contacted_before_confirmed_rejected(self) -> None:
        with pytest.raises(ValueError, match="contacted_at is before confirmed_at"):
            contact_clock(T0, T0, contacted_at=T0 - H)


# --------------------------------------------------------------------------------------------
# Time zones
# --------------------------------------------------------------------------------------------


class TestTimeZones:
    @pytest.mark.parametrize(
        "call",
        [
            lambda: match_clock(datetime(2024, 9, 2, 9, 0), T0),
            lambda: match_clock(T0, datetime(2024, 9, 2, 9, 0)),
            lambda: match_clock(T0, T0, datetime(2024, 9, 2, 10, 0)),
            lambda: contact_clock(datetime(2024, 9, 2, 9, 0), T0),
            lambda: contact_clock(T0, datetime(2024, 9, 2, 9, 0)),
            lambda: contact_clock(T0, T0, datetime(2024, 9, 2, 10, 0)),
        ],
    )
    def test_naive_datetimes_rejected(self, call) -> None:
        with pytest.raises(ValueError, match="naive"):
            call()

    def test_non_datetime_rejected(self) -> None:
        with pytest.raises(TypeError):
            match_clock("2024-09-02T09:00:00Z", T0)  # type: ignore[arg-type]

    def test_due_is_utc(self) -> None:
        start = datetime(2024, 9, 2, 10, 0, tzinfo=timezone(timedelta(hours=1)))
        clock = match_clock(start, start)
        assert clock.due == datetime(2024, 9, 4, 9, 0, tzinfo=UTC)
        assert clock.due.tzinfo is UTC

    def test_clock_change_does_not_move_the_deadline(self) -> None:
        # Confirmed at noon BST; the clocks go back on 27 October 2024. Seven calendar days
        # later is 11:00 GMT, not noon: at 11:30 London time the clock is 30 minutes overdue.
        confirmed = datetime(2024, 10, 26, 12, 0, tzinfo=LONDON)
        now = datetime(2024, 11, 2, 11, 30, tzinfo=LONDON)
        clock = contact_clock(confirmed, now)
        assert clock.due == datetime(2024, 11, 2, 11, 0, tzinfo=UTC)
        assert clock.overdue is True
        assert clock.label == "Overdue by 30 minutes"

    def test_spring_forward_match_clock(self) -> None:
        # Submitted 09:00 GMT on Saturday 30 March 2024; BST starts on the Sunday.
        submitted = datetime(2024, 3, 30, 9, 0, tzinfo=LONDON)
        now = datetime(2024, 4, 1, 9, 30, tzinfo=LONDON)  # 08:30 UTC
        clock = match_clock(submitted, now)
        assert clock.due == datetime(2024, 4, 1, 9, 0, tzinfo=UTC)
        assert clock.remaining == timedelta(minutes=30)
        assert clock.label == "30 minutes left"

    def test_mixed_zones_compare_as_instants(self) -> None:
        submitted = datetime(2024, 9, 2, 9, 0, tzinfo=UTC)
        matched = datetime(2024, 9, 4, 11, 0, tzinfo=timezone(timedelta(hours=2)))  # 09:00Z
        clock = match_clock(submitted, T0 + 5 * D, matched)
        assert clock.met is True
        assert clock.remaining == timedelta(0)


# --------------------------------------------------------------------------------------------
# Clock value and urgency
# --------------------------------------------------------------------------------------------


class TestClockValue:
    def test_frozen(self) -> None:
        clock = match_clock(T0, T0)
        with pytest.raises(dataclasses.FrozenInstanceError):
            clock.overdue = True  # type: ignore[misc]

    @pytest.mark.parametrize(
        ("remaining", "overdue", "met", "label", "badge"),
        [
            (31 * H, False, None, "31 hours left", "ok"),
            (timedelta(minutes=45), False, None, "45 minutes left", "due-soon"),
            (-3 * H, True, None, "Overdue by 3 hours", "overdue"),
            (-2 * D, True, None, "Overdue by 2 days", "overdue"),
            (28 * H, False, True, "Met in 20 hours", "met"),
            (-5 * H, False, False, "Missed by 5 hours", "missed"),
        ],
    )
    def test_label_and_badge_from_fields(
        self, remaining: timedelta, overdue: bool, met: bool | None, label: str, badge: str
    ) -> None:
        clock = Clock(
            due=T0 + MATCH_TARGET, remaining=remaining, overdue=overdue, met=met,
            target=MATCH_TARGET,
        )
        assert clock.label == label
        assert urgency(clock) == badge

    def test_other_target_warns_in_last_quarter(self) -> None:
        four_days = timedelta(days=4)
        base = {"due": T0, "overdue": False, "met": None, "target": four_days}
        assert urgency(Clock(remaining=D, **base)) == "ok"
        assert urgency(Clock(remaining=D - SECOND, **base)) == "due-soon"


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------


class TestProperties:
    @given(MOMENTS, st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=60)))
    def test_open_match_clock(self, start: datetime, elapsed: timedelta) -> None:
        clock = match_clock(start, start + elapsed)
        assert clock.due - start == MATCH_TARGET
        assert clock.remaining == MATCH_TARGET - elapsed
        assert clock.overdue is (elapsed > MATCH_TARGET)
        assert clock.met is None
        assert urgency(clock) in {"ok", "due-soon", "overdue"}
        assert clock.label.endswith(" left") is not clock.overdue
        assert clock.label.startswith("Overdue by ") is clock.overdue

    @given(MOMENTS, OFFSETS, OFFSETS)
    def test_done_contact_clock(self, start: datetime, took: timedelta, later: timedelta) -> None:
        clock = contact_clock(start, start + took + later, contacted_at=start + took)
        assert clock.met is (took <= CONTACT_TARGET)
        assert clock.overdue is False
        assert CONTACT_TARGET - clock.remaining == took
        expected = "met" if clock.met else "missed"
        assert urgency(clock) == expected
        if clock.met:
            assert clock.label == f"Met in {format_duration(took)}"
        else:
            assert clock.label == f"Missed by {format_duration(took - CONTACT_TARGET)}"

    @given(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3650)))
    def test_format_duration_never_overstates(self, amount: timedelta) -> None:
        text = format_duration(amount)
        if text == "less than a minute":
            assert amount < timedelta(minutes=1)
            return
        count, unit = text.split(" ")
        size = {"minute": timedelta(minutes=1), "hour": H, "day": D}[unit.removesuffix("s")]
        assert size * int(count) <= amount < size * (int(count) + 1)
        assert unit.endswith("s") is (int(count) != 1)
