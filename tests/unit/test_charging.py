"""Unit and property tests for portal.domain.charging (integer pence throughout)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.domain.charging import (
    DESIGNATION_LABELS,
    DESIGNATIONS,
    KINDS,
    PARTIES,
    PAYING_PARTIES,
    Quote,
    RateCard,
    Settlement,
    academic_year,
    academic_year_bounds,
    academic_year_label,
    brokerage_applies,
    brokerage_fee,
    consultation_charge,
    cost_for_half_days,
    describe_half_days,
    east_sussex_card,
    format_pence,
    good_practice_visit_charge,
    offers_consultations,
    offers_good_practice_visits,
    quote,
    sefton_card,
    settle_early_end,
    split_evenly,
)

SEFTON_RATES = {"nle": 50_000, "lle": 45_000, "slt": 40_000, "sle": 35_000, "non_sle": 30_000}


def make_card(**overrides: object) -> RateCard:
    """A Sefton-like card with some fields replaced."""
    fields: dict[str, object] = {
        "model": "sefton",
        "day_rates": dict(SEFTON_RATES),
        "brokerage_bp": 1_000,
        "board_grant_day": 0,
        "board_school_day": 0,
        "gpv_half_day": 10_000,
        "gpv_free_per_year": 1,
        "consult_hour": 7_000,
        "consult_free_hours": 1,
    }
    fields.update(overrides)
    return RateCard(**fields)  # type: ignore[arg-type]


def party_total(q: Quote, party: str) -> int:
    return sum(line.amount for line in q.lines_for(party))


# --------------------------------------------------------------------------------------------
# Worked examples from the brief
# --------------------------------------------------------------------------------------------


def test_sefton_lle_for_four_days() -> None:
    q = quote(sefton_card(), "lle", 8)
    assert q.half_days == 8
    assert q.day_rate == 45_000
    assert q.commission_cost == 180_000
    assert q.brokerage_fee == 18_000
    assert q.school_pays == 198_000
    assert q.school_shares == (198_000,)
    assert q.board_pays == 0
    assert q.home_school_receives == 180_000
    assert q.teaching_school_receives == 18_000
    assert not q.subsidised


def test_east_sussex_targeted_six_days() -> None:
    q = quote(east_sussex_card(), "sle", 12, targeted=True)
    assert q.home_school_receives == 210_000
    assert q.board_pays == 120_000
    assert q.school_pays == 90_000
    assert q.commission_cost == 210_000
    assert q.brokerage_fee == 0
    assert q.teaching_school_receives == 0
    assert q.subsidised


def test_east_sussex_targeted_early_end_after_two_of_six_days() -> None:
    s = settle_early_end(east_sussex_card(), "sle", 12, 4, targeted=True)
    assert s.delivered.school_pays == 30_000
    assert s.delivered.board_pays == 40_000
    assert s.delivered.home_school_receives == 70_000
    assert s.agreed.school_pays == 90_000
    assert s.agreed.board_pays == 120_000
    assert s.paid == {"school": 0, "board": 0}
    assert s.refunds == {"school": 0, "board": 0}
    assert s.still_owed == {"school": 30_000, "board": 40_000}


def test_east_sussex_early_end_when_paid_the_delivered_amounts_owes_nothing_more() -> None:
    s = settle_early_end(
        east_sussex_card(), "sle", 12, 4, targeted=True, paid={"school": 30_000, "board": 40_000}
    )
    assert s.still_owed == {"school": 0, "board": 0}
    assert s.refunds == {"school": 0, "board": 0}


def test_east_sussex_early_end_refunds_what_was_paid_ahead() -> None:
    s = settle_early_end(
        east_sussex_card(), "sle", 12, 4, targeted=True, paid={"school": 90_000, "board": 120_000}
    )
    assert s.refunds == {"school": 60_000, "board": 80_000}
    assert s.still_owed == {"school": 0, "board": 0}
    assert s.paid == {"school": 90_000, "board": 120_000}


def test_sefton_good_practice_visits_first_free_second_charged() -> None:
    card = sefton_card()
    assert good_practice_visit_charge(card, 0, 1) == 0
    assert good_practice_visit_charge(card, 1, 1) == 10_000


def test_sefton_consultation_first_hour_free() -> None:
    card = sefton_card()
    assert consultation_charge(card, 0, 2) == 7_000
    assert consultation_charge(card, 0, 1) == 0
    assert consultation_charge(card, 1, 1) == 7_000
    assert consultation_charge(card, 1, 3) == 21_000


# --------------------------------------------------------------------------------------------
# Rate cards
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("designation", "day_rate"),
    [("nle", 50_000), ("lle", 45_000), ("slt", 40_000), ("sle", 35_000), ("non_sle", 30_000)],
)
def test_sefton_day_rate_per_designation(designation: str, day_rate: int) -> None:
    card = sefton_card()
    assert card.day_rates[designation] == day_rate
    assert card.day_rate(designation) == day_rate
    q = quote(card, designation, 2)
    assert q.day_rate == day_rate
    assert q.commission_cost == day_rate
    assert q.brokerage_fee == day_rate // 10
    assert q.school_pays == day_rate + day_rate // 10


@pytest.mark.parametrize("designation", DESIGNATIONS)
def test_east_sussex_day_rate_is_the_national_sle_rate_for_everyone(designation: str) -> None:
    card = east_sussex_card()
    assert card.day_rate(designation) == 35_000
    q = quote(card, designation, 2)
    assert (q.commission_cost, q.brokerage_fee, q.school_pays, q.board_pays) == (
        35_000,
        0,
        35_000,
        0,
    )
    targeted = quote(card, designation, 2, targeted=True)
    assert (targeted.school_pays, targeted.board_pays) == (15_000, 20_000)


def test_seeded_cards_other_fields() -> None:
    es = east_sussex_card()
    assert es.model == "east_sussex"
    assert (es.brokerage_bp, es.board_grant_day, es.board_school_day) == (0, 20_000, 15_000)
    assert (es.gpv_half_day, es.gpv_free_per_year, es.consult_hour, es.consult_free_hours) == (
        0,
        0,
        0,
        0,
    )
    assert es.has_board_subsidy
    sef = sefton_card()
    assert sef.model == "sefton"
    assert (sef.brokerage_bp, sef.board_grant_day, sef.board_school_day) == (1_000, 0, 0)
    assert (sef.gpv_half_day, sef.gpv_free_per_year) == (10_000, 1)
    assert (sef.consult_hour, sef.consult_free_hours) == (7_000, 1)
    assert not sef.has_board_subsidy


def test_east_sussex_published_split_matches_day_rate() -> None:
    es = east_sussex_card()
    assert es.board_grant_day + es.board_school_day == es.day_rate("sle")


def test_designation_labels_cover_every_designation() -> None:
    assert set(DESIGNATION_LABELS) == set(DESIGNATIONS)
    assert DESIGNATION_LABELS["nle"] == "National Leader of Education"
    assert DESIGNATION_LABELS["lle"] == "Local Leader of Education"
    assert DESIGNATION_LABELS["sle"] == "Specialist Leader of Education"
    assert DESIGNATION_LABELS["slt"] == "Non-accredited, working as SLT"
    assert DESIGNATION_LABELS["non_sle"] == "Non-accredited, working as SLE"
    assert DESIGNATIONS == ("nle", "lle", "slt", "sle", "non_sle")
    assert KINDS == ("sle_deployment", "commission", "good_practice_visit", "consultation")


def test_rate_card_day_rates_are_read_only_and_copied() -> None:
    rates = dict(SEFTON_RATES)
    card = make_card(day_rates=rates)
    rates["nle"] = 1
    assert card.day_rate("nle") == 50_000
    with pytest.raises(TypeError):
        card.day_rates["nle"] = 1  # type: ignore[index]
    assert make_card() == sefton_card()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"model": "kent"}, "unknown charging model"),
        ({"day_rates": {k: v for k, v in SEFTON_RATES.items() if k != "nle"}}, "no day rate"),
        ({"day_rates": {**SEFTON_RATES, "ceo": 1}}, "unknown designation"),
        ({"day_rates": {**SEFTON_RATES, "sle": 0}}, "at least 1"),
        ({"day_rates": {**SEFTON_RATES, "sle": 350.0}}, "whole number"),
        ({"day_rates": [("sle", 1)]}, "map each designation"),
        ({"brokerage_bp": -1}, "at least 0"),
        ({"brokerage_bp": 10_001}, "cannot exceed 100%"),
        ({"brokerage_bp": True}, "whole number"),
        ({"board_grant_day": 30_001}, "exceeds the lowest day rate"),
        ({"board_school_day": 15_000}, "needs a Board grant"),
        ({"gpv_half_day": -100}, "at least 0"),
        ({"consult_free_hours": 0.5}, "whole number"),
    ],
)
def test_rate_card_rejects_bad_values(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_card(**overrides)


def test_rate_card_allows_grant_equal_to_lowest_rate() -> None:
    card = make_card(board_grant_day=30_000, board_school_day=5_000)
    q = quote(card, "non_sle", 2, targeted=True)
    assert (q.board_pays, q.school_pays - q.brokerage_fee) == (30_000, 0)


# --------------------------------------------------------------------------------------------
# Rounding
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day_rate", "half_days", "expected"),
    [
        (35_000, 1, 17_500),
        (35_000, 3, 52_500),
        (45_000, 3, 67_500),
        (35_001, 1, 17_501),  # 17,500.5 rounds half up
        (35_001, 2, 35_001),
        (35_001, 3, 52_502),  # 52,501.5 rounds half up
        (1, 1, 1),  # 0.5p rounds half up
        (3, 1, 2),
        (35_000, 0, 0),
    ],
)
def test_cost_for_half_days_rounds_half_up(day_rate: int, half_days: int, expected: int) -> None:
    assert cost_for_half_days(day_rate, half_days) == expected


@pytest.mark.parametrize(
    ("cost", "bp", "expected"),
    [
        (17_505, 1_000, 1_751),  # 1,750.5 -> 1,751 (exact half goes up)
        (17_504, 1_000, 1_750),  # 1,750.4 -> 1,750
        (17_506, 1_000, 1_751),  # 1,750.6 -> 1,751
        (17_495, 1_000, 1_750),  # 1,749.5 -> 1,750
        (180_000, 1_000, 18_000),
        (5, 1_000, 1),  # 0.5 -> 1
        (4, 1_000, 0),  # 0.4 -> 0
        (10_000, 1, 1),
        (5_000, 1, 1),  # 0.5 -> 1
        (4_999, 1, 0),
        (12_345, 0, 0),
        (12_345, 10_000, 12_345),
        (0, 1_000, 0),
    ],
)
def test_brokerage_fee_rounds_half_up(cost: int, bp: int, expected: int) -> None:
    assert brokerage_fee(cost, bp) == expected


def test_brokerage_rounding_through_quote() -> None:
    card = make_card(day_rates={**SEFTON_RATES, "sle": 35_010})
    q = quote(card, "sle", 1)
    assert q.commission_cost == 17_505
    assert q.brokerage_fee == 1_751
    assert q.school_pays == 19_256
    assert q.teaching_school_receives == 1_751


def test_half_day_quote_with_odd_rate_rounds_cost_up() -> None:
    card = make_card(day_rates={**SEFTON_RATES, "nle": 50_001})
    q = quote(card, "nle", 1)
    assert q.commission_cost == 25_001
    assert q.brokerage_fee == 2_500  # 2,500.1 -> 2,500
    assert q.school_pays == 27_501


def test_sefton_half_day_and_odd_half_days() -> None:
    q = quote(sefton_card(), "sle", 1)
    assert (q.commission_cost, q.brokerage_fee, q.school_pays) == (17_500, 1_750, 19_250)
    q = quote(sefton_card(), "nle", 5)
    assert (q.commission_cost, q.brokerage_fee, q.school_pays) == (125_000, 12_500, 137_500)


def test_subsidised_rounding_keeps_school_share_as_remainder() -> None:
    card = make_card(
        model="east_sussex",
        day_rates={d: 35_001 for d in DESIGNATIONS},
        brokerage_bp=0,
        board_grant_day=20_001,
        board_school_day=15_000,
    )
    q = quote(card, "sle", 1, targeted=True)
    # cost 17,500.5 -> 17,501; Board 10,000.5 -> 10,001; school the remainder 7,500 exactly.
    assert q.commission_cost == 17_501
    assert q.board_pays == 10_001
    assert q.school_pays == 7_500


# --------------------------------------------------------------------------------------------
# Several receiving schools
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "parts", "expected"),
    [
        (100, 3, (34, 33, 33)),
        (101, 3, (34, 34, 33)),
        (99, 3, (33, 33, 33)),
        (2, 5, (1, 1, 0, 0, 0)),
        (0, 2, (0, 0)),
        (7, 1, (7,)),
    ],
)
def test_split_evenly(total: int, parts: int, expected: tuple[int, ...]) -> None:
    assert split_evenly(total, parts) == expected


def test_several_schools_share_the_school_cost_to_the_penny() -> None:
    q = quote(sefton_card(), "sle", 1, schools=3)
    assert q.school_pays == 19_250
    assert q.school_shares == (6_417, 6_417, 6_416)
    assert sum(q.school_shares) == q.school_pays


def test_several_schools_on_a_targeted_deployment() -> None:
    q = quote(east_sussex_card(), "sle", 12, targeted=True, schools=4)
    assert q.school_pays == 90_000
    assert q.school_shares == (22_500, 22_500, 22_500, 22_500)
    assert q.board_pays == 120_000
    assert q.lines_for("school")[0].description.startswith("Receiving schools (4, shared equally)")


def test_several_schools_split_on_early_end() -> None:
    s = settle_early_end(sefton_card(), "sle", 6, 1, schools=3)
    assert s.delivered.school_shares == (6_417, 6_417, 6_416)
    assert s.agreed.school_shares == (38_500, 38_500, 38_500)  # 3 days: £1,155 / 3


# --------------------------------------------------------------------------------------------
# Board subsidy and concession
# --------------------------------------------------------------------------------------------


def test_concession_moves_cost_from_school_to_board() -> None:
    q = quote(east_sussex_card(), "sle", 12, targeted=True, concession_day=5_000)
    assert q.board_pays == 150_000
    assert q.school_pays == 60_000
    assert q.home_school_receives == 210_000
    board_lines = q.lines_for("board")
    assert [line.amount for line in board_lines] == [120_000, 30_000]
    assert "concession" in board_lines[1].description


def test_full_concession_makes_it_free_to_the_school() -> None:
    q = quote(east_sussex_card(), "sle", 3, targeted=True, concession_day=15_000)
    assert q.board_pays == 52_500
    assert q.school_pays == 0
    assert q.school_shares == (0,)
    assert q.lines_for("school") == ()


def test_targeted_on_a_card_without_board_subsidy_is_priced_normally() -> None:
    plain = quote(sefton_card(), "lle", 8)
    targeted = quote(sefton_card(), "lle", 8, targeted=True)
    assert targeted.school_pays == plain.school_pays == 198_000
    assert targeted.board_pays == 0
    assert not targeted.subsidised


def test_untargeted_east_sussex_deployment_school_pays_everything() -> None:
    q = quote(east_sussex_card(), "sle", 12)
    assert (q.school_pays, q.board_pays, q.home_school_receives) == (210_000, 0, 210_000)


# --------------------------------------------------------------------------------------------
# Breakdown lines
# --------------------------------------------------------------------------------------------


def test_sefton_lines_describe_each_movement() -> None:
    q = quote(sefton_card(), "lle", 8)
    assert [(line.party, line.amount) for line in q.lines] == [
        ("school", 180_000),
        ("school", 18_000),
        ("home_school", 180_000),
        ("teaching_school", 18_000),
    ]
    assert q.lines[0].description == (
        "Receiving school: 4 days of Local Leader of Education support at £450.00 a day"
    )
    assert "10% of the £1,800.00 commission cost" in q.lines[1].description


def test_east_sussex_targeted_lines() -> None:
    q = quote(east_sussex_card(), "sle", 12, targeted=True)
    assert [(line.party, line.amount) for line in q.lines] == [
        ("school", 90_000),
        ("board", 120_000),
        ("home_school", 210_000),
    ]
    assert "£150.00 a day" in q.lines[0].description
    assert "£200.00 a day for 6 days" in q.lines[1].description


def test_lines_for_rejects_unknown_party() -> None:
    with pytest.raises(ValueError, match="unknown party"):
        quote(sefton_card(), "sle", 2).lines_for("lea")


@pytest.mark.parametrize(
    ("half_days", "text"),
    [(0, "0 days"), (1, "half a day"), (2, "1 day"), (3, "1½ days"), (8, "4 days")],
)
def test_describe_half_days(half_days: int, text: str) -> None:
    assert describe_half_days(half_days) == text


@pytest.mark.parametrize(
    ("pence", "text"),
    [
        (0, "£0.00"),
        (5, "£0.05"),
        (180_000, "£1,800.00"),
        (123_456_789, "£1,234,567.89"),
        (-1_050, "-£10.50"),
    ],
)
def test_format_pence(pence: int, text: str) -> None:
    assert format_pence(pence) == text


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("ceo", 2), {}, "unknown designation"),
        (("NLE", 2), {}, "unknown designation"),
        ((None, 2), {}, "unknown designation"),
        (("sle", 0), {}, "at least 1"),
        (("sle", -2), {}, "at least 1"),
        (("sle", 1.5), {}, "whole number"),
        (("sle", "2"), {}, "whole number"),
        (("sle", True), {}, "whole number"),
        (("sle", 2), {"schools": 0}, "at least 1"),
        (("sle", 2), {"schools": -1}, "at least 1"),
        (("sle", 2), {"schools": 2.0}, "whole number"),
        (("sle", 2), {"targeted": "yes"}, "True or False"),
        (("sle", 2), {"targeted": True, "concession_day": -1}, "at least 0"),
        (("sle", 2), {"targeted": True, "concession_day": 15_001}, "exceeds"),
        (("sle", 2), {"concession_day": 1_000}, "concession applies only"),
    ],
)
def test_east_sussex_quote_rejects_bad_input(
    args: tuple[object, ...], kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        quote(east_sussex_card(), *args, **kwargs)  # type: ignore[arg-type]


def test_concession_on_a_card_without_subsidy_is_rejected() -> None:
    with pytest.raises(ValueError, match="concession applies only"):
        quote(sefton_card(), "sle", 2, targeted=True, concession_day=1_000)


def test_quote_needs_a_rate_card() -> None:
    with pytest.raises(ValueError, match="RateCard"):
        quote({"sle": 35_000}, "sle", 2)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("agreed", "delivered", "paid", "message"),
    [
        (4, 5, None, "cannot exceed"),
        (4, -1, None, "at least 0"),
        (4, 1.0, None, "whole number"),
        (0, 0, None, "at least 1"),
        (4, 2, {"home_school": 10}, "only"),
        (4, 2, {"school": -1}, "at least 0"),
        (4, 2, {"board": 10.5}, "whole number"),
    ],
)
def test_settlement_rejects_bad_input(
    agreed: int, delivered: int, paid: dict[str, int] | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        settle_early_end(east_sussex_card(), "sle", agreed, delivered, targeted=True, paid=paid)


def test_settlement_before_any_visit_owes_nothing_and_refunds_everything() -> None:
    s = settle_early_end(
        sefton_card(), "nle", 10, 0, paid={"school": 275_000, "board": 0}, schools=2
    )
    assert s.delivered.half_days == 0
    assert s.delivered.school_pays == 0
    assert s.delivered.school_shares == (0, 0)
    assert s.delivered.lines == ()
    assert s.refunds == {"school": 275_000, "board": 0}
    assert s.still_owed == {"school": 0, "board": 0}


def test_settlement_when_everything_was_delivered_matches_the_agreement() -> None:
    s = settle_early_end(sefton_card(), "lle", 8, 8, paid={"school": 100_000})
    assert s.delivered == s.agreed
    assert s.still_owed == {"school": 98_000, "board": 0}
    assert s.refunds == {"school": 0, "board": 0}


def test_sefton_early_end_reduces_brokerage_too() -> None:
    s = settle_early_end(sefton_card(), "lle", 8, 3, paid={"school": 198_000})
    assert s.delivered.commission_cost == 67_500
    assert s.delivered.brokerage_fee == 6_750
    assert s.refunds["school"] == 198_000 - 74_250
    assert isinstance(s, Settlement)


# --------------------------------------------------------------------------------------------
# Good-practice visits and consultations
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prior", "half_days", "expected"),
    [(0, 1, 0), (0, 2, 10_000), (0, 3, 20_000), (1, 1, 10_000), (1, 2, 20_000), (5, 1, 10_000)],
)
def test_good_practice_visit_allowance(prior: int, half_days: int, expected: int) -> None:
    assert good_practice_visit_charge(sefton_card(), prior, half_days) == expected


def test_good_practice_visits_with_a_bigger_allowance() -> None:
    card = make_card(gpv_free_per_year=2, gpv_half_day=12_500)
    assert good_practice_visit_charge(card, 0, 3) == 12_500
    assert good_practice_visit_charge(card, 1, 3) == 25_000
    assert good_practice_visit_charge(card, 2, 1) == 12_500


@pytest.mark.parametrize(
    ("prior", "half_days", "message"),
    [(-1, 1, "at least 0"), (0, 0, "at least 1"), (0, 1.5, "whole number")],
)
def test_good_practice_visit_rejects_bad_input(prior: int, half_days: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        good_practice_visit_charge(sefton_card(), prior, half_days)


@pytest.mark.parametrize(
    ("prior", "hours", "message"),
    [(-1, 1, "at least 0"), (0, 0, "at least 1"), (0, "1", "whole number")],
)
def test_consultation_rejects_bad_input(prior: int, hours: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        consultation_charge(sefton_card(), prior, hours)


def test_east_sussex_offers_no_visits_or_consultations() -> None:
    es = east_sussex_card()
    assert not offers_good_practice_visits(es)
    assert not offers_consultations(es)
    assert offers_good_practice_visits(sefton_card())
    assert offers_consultations(sefton_card())
    with pytest.raises(ValueError, match="does not offer good-practice visits"):
        good_practice_visit_charge(es, 0, 1)
    with pytest.raises(ValueError, match="does not offer consultations"):
        consultation_charge(es, 0, 1)


def test_brokerage_applies_only_to_deployments_and_commissions() -> None:
    assert brokerage_applies("sle_deployment")
    assert brokerage_applies("commission")
    assert not brokerage_applies("good_practice_visit")
    assert not brokerage_applies("consultation")
    with pytest.raises(ValueError, match="unknown kind"):
        brokerage_applies("coaching")


def test_visit_and_consultation_prices_are_all_in() -> None:
    # A Sefton second visit is exactly £100: no 10% brokerage on top.
    assert good_practice_visit_charge(sefton_card(), 1, 1) == sefton_card().gpv_half_day
    assert consultation_charge(sefton_card(), 1, 1) == sefton_card().consult_hour


# --------------------------------------------------------------------------------------------
# Academic years
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "year"),
    [
        (date(2026, 9, 1), 2026),
        (date(2027, 8, 31), 2026),
        (date(2027, 9, 1), 2027),
        (date(2026, 8, 31), 2025),
        (date(2027, 1, 1), 2026),
        (date(2026, 12, 31), 2026),
        (date(2028, 2, 29), 2027),  # leap day
        (date(2024, 2, 29), 2023),
        (date(2000, 2, 29), 1999),
        (datetime(2026, 8, 31, 23, 59, 59), 2025),
        (datetime(2026, 9, 1, 0, 0, 0), 2026),
    ],
)
def test_academic_year(day: date, year: int) -> None:
    assert academic_year(day) == year


@pytest.mark.parametrize(
    ("year", "label"),
    [(2026, "2026/27"), (1999, "1999/00"), (2009, "2009/10"), (2099, "2099/00")],
)
def test_academic_year_label(year: int, label: str) -> None:
    assert academic_year_label(year) == label


def test_academic_year_bounds() -> None:
    assert academic_year_bounds(2026) == (date(2026, 9, 1), date(2027, 8, 31))
    assert academic_year_bounds(2027) == (date(2027, 9, 1), date(2028, 8, 31))


def test_academic_year_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="expected a date"):
        academic_year("2026-09-01")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="whole number"):
        academic_year_label("2026")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least 1"):
        academic_year_bounds(0)


@given(st.dates(min_value=date(1901, 1, 1), max_value=date(9998, 12, 31)))
def test_every_date_lies_within_its_academic_year(day: date) -> None:
    year = academic_year(day)
    first, last = academic_year_bounds(year)
    assert first <= day <= last
    assert (last - first).days in (364, 365)
    assert academic_year(first - timedelta(days=1)) == year - 1
    assert academic_year(last + timedelta(days=1)) == year + 1


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------

rates = st.integers(min_value=1, max_value=200_000)


@st.composite
def rate_cards(draw: st.DrawFn) -> RateCard:
    day_rates = {d: draw(rates) for d in DESIGNATIONS}
    lowest = min(day_rates.values())
    grant = draw(st.one_of(st.just(0), st.integers(min_value=0, max_value=lowest)))
    return RateCard(
        model=draw(st.sampled_from(["east_sussex", "sefton"])),
        day_rates=day_rates,
        brokerage_bp=draw(st.integers(min_value=0, max_value=10_000)),
        board_grant_day=grant,
        board_school_day=draw(st.integers(min_value=0, max_value=100_000)) if grant else 0,
        gpv_half_day=draw(st.integers(min_value=0, max_value=50_000)),
        gpv_free_per_year=draw(st.integers(min_value=0, max_value=5)),
        consult_hour=draw(st.integers(min_value=0, max_value=20_000)),
        consult_free_hours=draw(st.integers(min_value=0, max_value=5)),
    )


@st.composite
def terms(draw: st.DrawFn) -> dict[str, object]:
    card = draw(st.one_of(st.just(sefton_card()), st.just(east_sussex_card()), rate_cards()))
    designation = draw(st.sampled_from(DESIGNATIONS))
    targeted = draw(st.booleans())
    concession = 0
    if targeted and card.board_grant_day > 0:
        grantable = card.day_rates[designation] - card.board_grant_day
        concession = draw(st.integers(min_value=0, max_value=grantable))
    return {
        "card": card,
        "designation": designation,
        "targeted": targeted,
        "concession_day": concession,
        "schools": draw(st.integers(min_value=1, max_value=40)),
    }


half_day_counts = st.integers(min_value=1, max_value=400)


@given(terms(), half_day_counts)
def test_parts_always_add_up_to_the_whole(t: dict[str, object], half_days: int) -> None:
    q = quote(half_days=half_days, **t)  # type: ignore[arg-type]
    card = t["card"]
    assert isinstance(card, RateCard)
    assert q.school_pays + q.board_pays == q.home_school_receives + q.teaching_school_receives
    assert q.home_school_receives == q.commission_cost
    assert q.teaching_school_receives == q.brokerage_fee
    assert sum(q.school_shares) == q.school_pays
    assert len(q.school_shares) == t["schools"]
    assert max(q.school_shares) - min(q.school_shares) <= 1
    assert list(q.school_shares) == sorted(q.school_shares, reverse=True)
    for party, total in [
        ("school", q.school_pays),
        ("board", q.board_pays),
        ("home_school", q.home_school_receives),
        ("teaching_school", q.teaching_school_receives),
    ]:
        assert party_total(q, party) == total
    assert all(line.amount > 0 and line.party in PARTIES for line in q.lines)
    for amount in (q.commission_cost, q.brokerage_fee, q.school_pays, q.board_pays):
        assert isinstance(amount, int) and amount >= 0
    # the rounding is half up to the penny against the exact value
    exact_cost = Fraction(card.day_rates[t["designation"]] * half_days, 2)  # type: ignore[index]
    assert 0 <= q.commission_cost - exact_cost <= Fraction(1, 2)
    exact_fee = Fraction(q.commission_cost * card.brokerage_bp, 10_000)
    assert -Fraction(1, 2) < q.brokerage_fee - exact_fee <= Fraction(1, 2)
    if not q.subsidised:
        assert q.board_pays == 0


@given(terms(), half_day_counts, st.data())
def test_settlement_never_charges_more_than_agreed(
    t: dict[str, object], agreed_half_days: int, data: st.DataObject
) -> None:
    delivered_half_days = data.draw(st.integers(min_value=0, max_value=agreed_half_days))
    paid = data.draw(
        st.fixed_dictionaries(
            {},
            optional={
                "school": st.integers(min_value=0, max_value=10_000_000),
                "board": st.integers(min_value=0, max_value=10_000_000),
            },
        )
    )
    s = settle_early_end(
        agreed_half_days=agreed_half_days,
        delivered_half_days=delivered_half_days,
        paid=paid,
        **t,  # type: ignore[arg-type]
    )
    d, a = s.delivered, s.agreed
    assert a == quote(half_days=agreed_half_days, **t)  # type: ignore[arg-type]
    assert d.half_days == delivered_half_days
    assert d.school_pays <= a.school_pays
    assert d.board_pays <= a.board_pays
    assert d.home_school_receives <= a.home_school_receives
    assert d.teaching_school_receives <= a.teaching_school_receives
    assert all(ds <= ag for ds, ag in zip(d.school_shares, a.school_shares, strict=True))
    assert d.school_pays + d.board_pays == d.home_school_receives + d.teaching_school_receives
    owed = {"school": d.school_pays, "board": d.board_pays}
    for party in PAYING_PARTIES:
        got = paid.get(party, 0)
        assert s.paid[party] == got
        assert s.refunds[party] >= 0 and s.still_owed[party] >= 0
        assert s.refunds[party] == 0 or s.still_owed[party] == 0
        assert got - s.refunds[party] + s.still_owed[party] == owed[party]
        assert s.refunds[party] <= got
    if delivered_half_days:
        assert d == quote(half_days=delivered_half_days, **t)  # type: ignore[arg-type]
    # a party that paid the whole agreed sum ahead is never asked for more
    full = settle_early_end(
        agreed_half_days=agreed_half_days,
        delivered_half_days=delivered_half_days,
        paid={"school": a.school_pays, "board": a.board_pays},
        **t,  # type: ignore[arg-type]
    )
    assert full.still_owed == {"school": 0, "board": 0}
    assert full.refunds == {
        "school": a.school_pays - d.school_pays,
        "board": a.board_pays - d.board_pays,
    }


@given(terms(), st.integers(min_value=1, max_value=200), st.integers(min_value=1, max_value=200))
def test_more_half_days_never_cost_less(t: dict[str, object], h1: int, h2: int) -> None:
    low, high = sorted((h1, h2))
    a = quote(half_days=low, **t)  # type: ignore[arg-type]
    b = quote(half_days=high, **t)  # type: ignore[arg-type]
    assert a.school_pays <= b.school_pays
    assert a.board_pays <= b.board_pays
    assert a.commission_cost <= b.commission_cost


@given(
    rate_cards(),
    st.integers(min_value=0, max_value=20),
    st.integers(min_value=1, max_value=20),
    st.integers(min_value=1, max_value=20),
)
def test_allowance_charges_are_additive_across_visits(
    card: RateCard, prior: int, first: int, second: int
) -> None:
    """Booking two visits one after the other costs the same as one visit of the same length."""
    if offers_good_practice_visits(card):
        together = good_practice_visit_charge(card, prior, first + second)
        apart = good_practice_visit_charge(card, prior, first) + good_practice_visit_charge(
            card, prior + first, second
        )
        assert together == apart
        free_left = max(0, card.gpv_free_per_year - prior)
        assert together == max(0, first + second - free_left) * card.gpv_half_day
    if offers_consultations(card):
        together = consultation_charge(card, prior, first + second)
        apart = consultation_charge(card, prior, first) + consultation_charge(
            card, prior + first, second
        )
        assert together == apart
        assert together <= (first + second) * card.consult_hour


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=1, max_value=500))
def test_split_evenly_properties(total: int, parts: int) -> None:
    shares = split_evenly(total, parts)
    assert len(shares) == parts
    assert sum(shares) == total
    assert max(shares) - min(shares) <= 1
    assert list(shares) == sorted(shares, reverse=True)
