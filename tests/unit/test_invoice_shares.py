"""How a quote is split into the receiving schools' invoices (charging.invoice_shares)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from portal.domain.charging import east_sussex_card, invoice_shares, quote, sefton_card

from .test_charging import terms


def test_one_school_sefton_lle_four_days():
    assert invoice_shares(quote(sefton_card(), "lle", 8)) == ((180_000, 18_000),)


def test_east_sussex_targeted_has_no_brokerage_line():
    assert invoice_shares(quote(east_sussex_card(), "sle", 12, targeted=True)) == ((90_000, 0),)


def test_three_schools_share_pennies_like_the_agreement():
    q = quote(sefton_card(), "sle", 1, schools=3)  # 17,500 + 1,750 = 19,250 between three
    shares = invoice_shares(q)
    assert [c + f for c, f in shares] == list(q.school_shares) == [6_417, 6_417, 6_416]
    assert [f for _c, f in shares] == [584, 583, 583]


@given(terms(), st.integers(min_value=1, max_value=400))
def test_invoice_lines_always_add_up_to_the_quote(t, half_days):
    q = quote(half_days=half_days, **t)
    shares = invoice_shares(q)
    assert len(shares) == len(q.school_shares)
    assert all(c >= 0 and f >= 0 for c, f in shares)
    assert [c + f for c, f in shares] == list(q.school_shares)
    assert sum(f for _c, f in shares) == q.brokerage_fee
    assert sum(c for c, _f in shares) == q.school_pays - q.brokerage_fee
    # what the schools and the Board pay is what the home school and the Teaching School get
    assert sum(c for c, _f in shares) + q.board_pays == q.home_school_receives
