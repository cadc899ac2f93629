"""The charge of an NLE/LLE commission (Sefton points C and F): each person's days at their
designation's rate, plus 10% brokerage on the whole commission's cost, to the penny."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.domain.charging import (
    DESIGNATIONS,
    Person,
    commission_delivered,
    commission_quote,
    east_sussex_card,
    format_pence,
    quote,
    sefton_card,
)

CARD = sefton_card()
LLE = Person("lle", "lle", 8)
SLE = Person("sle", "sle", 12)


def test_worked_example_four_lle_days_and_six_sle_days() -> None:
    q = commission_quote(CARD, [LLE, SLE])
    assert [p.cost for p in q.people] == [180_000, 210_000]
    assert q.commission_cost == 390_000
    assert q.brokerage_fee == 39_000
    assert q.school_pays == 429_000
    assert format_pence(q.school_pays) == "£4,290.00"
    assert q.school_shares == (429_000,)
    assert q.fee_shares == (39_000,)


def test_worked_example_sle_stops_after_two_days() -> None:
    q = commission_delivered(CARD, [Person("lle", "lle", 8, 8), Person("sle", "sle", 12, 4)])
    assert q.cost_of("lle") == 180_000
    assert q.cost_of("sle") == 70_000
    assert q.brokerage_fee == 25_000
    assert q.school_pays == 275_000
    assert format_pence(q.school_pays) == "£2,750.00"


def test_all_delivered_charges_exactly_the_quote() -> None:
    done = [Person("lle", "lle", 8, 8), Person("sle", "sle", 12, 12)]
    assert commission_delivered(CARD, done) == commission_quote(CARD, done)


def test_nothing_delivered_costs_nothing() -> None:
    q = commission_delivered(CARD, [LLE, SLE])
    assert (q.commission_cost, q.brokerage_fee, q.school_pays) == (0, 0, 0)


def test_brokerage_is_on_the_whole_not_per_person() -> None:
    # one half day at 35,005p a day each: 17,503p (17,502.5 up) per person; 10% of each is
    # 1,750.3p -> 1,750p, twice 3,500p; 10% of the whole 35,006p is 3,500.6p -> 3,501p
    odd = replace(CARD, day_rates={**CARD.day_rates, "sle": 35_005})
    q = commission_quote(odd, [Person(1, "sle", 1), Person(2, "sle", 1)])
    assert q.commission_cost == 35_006
    assert q.brokerage_fee == 3_501
    per_person = sum(quote(odd, "sle", 1).brokerage_fee for _ in range(2))
    assert per_person == 3_500


def test_east_sussex_commission_has_no_brokerage() -> None:
    q = commission_quote(east_sussex_card(), [Person(1, "lle", 4), Person(2, "sle", 4)])
    assert q.brokerage_fee == 0
    assert q.school_pays == q.commission_cost == 4 * 35_000


def test_two_schools_share_cost_and_fee() -> None:
    q = commission_quote(CARD, [LLE, SLE], schools=2)
    assert q.school_shares == (214_500, 214_500)
    assert q.fee_shares == (19_500, 19_500)


@pytest.mark.parametrize("people, message", [
    ([], "at least one person"),
    ([Person(1, "head", 2)], "unknown designation"),
    ([Person(1, "sle", -1)], "at least 0"),
    ([Person(1, "sle", 2, 3)], "cannot exceed"),
    ([Person(1, "sle", 2, True)], "whole number"),
    (["sle"], "expected a Person"),
])
def test_bad_people_refused(people: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        commission_quote(CARD, people)


def test_fewer_than_one_school_refused() -> None:
    with pytest.raises(ValueError, match="receiving schools"):
        commission_quote(CARD, [LLE], schools=0)


people_st = st.lists(
    st.tuples(st.sampled_from(DESIGNATIONS), st.integers(0, 60), st.integers(0, 60))
    .map(lambda t: (t[0], max(t[1], t[2]), min(t[1], t[2]))),
    min_size=1, max_size=6,
).map(lambda rows: [Person(i, d, a, dl) for i, (d, a, dl) in enumerate(rows)])


@given(people_st, st.integers(1, 5))
def test_commission_adds_up_to_the_penny(people: list[Person], schools: int) -> None:
    for q, days in ((commission_quote(CARD, people, schools=schools),
                     [p.half_days_agreed for p in people]),
                    (commission_delivered(CARD, people, schools=schools),
                     [p.half_days_delivered for p in people])):
        exact = sum(Fraction(CARD.day_rates[p.designation] * d, 2)
                    for p, d in zip(people, days, strict=True))
        assert abs(q.commission_cost - exact) <= Fraction(len(people), 2)
        assert q.commission_cost == sum(p.cost for p in q.people)
        assert abs(q.brokerage_fee - Fraction(q.commission_cost, 10)) <= Fraction(1, 2)
        assert q.school_pays == q.commission_cost + q.brokerage_fee
        assert sum(q.school_shares) == q.school_pays
        assert sum(q.fee_shares) == q.brokerage_fee
        assert all(s >= f >= 0 for s, f in zip(q.school_shares, q.fee_shares, strict=True))
        assert max(q.school_shares) - min(q.school_shares) <= 1


@given(people_st)
def test_an_early_end_never_charges_more_than_agreed(people: list[Person]) -> None:
    agreed = commission_quote(CARD, people)
    delivered = commission_delivered(CARD, people)
    assert delivered.school_pays <= agreed.school_pays
    assert delivered.brokerage_fee <= agreed.brokerage_fee
    for a, d in zip(agreed.people, delivered.people, strict=True):
        assert d.cost <= a.cost
