"""VAT in integer pence (issue 21): half up on each line, the lines summing to the totals, a
credit note's gross split exactly into net and VAT, and rates outside 0..100% refused."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from portal.domain import charging
from portal.models import Invoice

rates = st.one_of(st.none(), st.integers(min_value=0, max_value=charging.VAT_MAX_BP))
nets = st.integers(min_value=0, max_value=10**9)


@pytest.mark.parametrize(("net", "rate", "vat"), [
    (1003, 2000, 201),  # 200.6 -> 201
    (1002, 2000, 200),  # 200.4 -> 200
    (25, 2000, 5),
    (1, 5000, 1),  # 0.5 -> 1 (half up)
    (1, 4999, 0),
    (198_000, 2000, 39_600),
    (12_345, 500, 617),  # 617.25
    (12_350, 500, 618),  # 617.5 -> 618
    (100, 1750, 18),  # 17.5 -> 18
    (999, None, 0),
    (999, 0, 0),
])
def test_vat_on_a_line_rounds_half_up(net, rate, vat):
    assert charging.vat_on(net, rate) == vat


@given(nets, rates)
def test_vat_is_within_half_a_penny_of_the_exact_amount(net, rate):
    vat = charging.vat_on(net, rate)
    exact = 0 if rate is None else net * rate / charging.BASIS_POINTS
    assert abs(vat - exact) <= 0.5
    assert isinstance(vat, int) and vat >= 0


@given(st.lists(nets, min_size=1, max_size=12), rates)
def test_the_lines_vat_sums_to_the_invoice_total(lines, rate):
    from portal.domain.finance import set_lines

    inv = Invoice(vat_rate_bp=rate, credited_pence=0)
    set_lines(inv, [(f"Line {i}", a) for i, a in enumerate(lines)])
    assert inv.vat_pence == sum(line.vat_pence for line in inv.lines)
    assert inv.total_pence == sum(line.amount_pence + line.vat_pence for line in inv.lines)
    assert inv.subtotal_pence == sum(lines)
    assert all(line.vat_pence == charging.vat_on(line.amount_pence, rate) for line in inv.lines)


@given(st.integers(min_value=0, max_value=10**9), rates)
def test_a_gross_amount_splits_exactly_into_net_and_vat(gross, rate):
    net = charging.net_of(gross, rate)
    assert 0 <= net <= gross
    vat = gross - net
    # the VAT is the line's VAT, or (where rounding skips this gross) within a penny of it
    assert abs(vat - charging.vat_on(net, rate)) <= 1
    if rate is None or rate == 0:
        assert net == gross


@given(nets, rates)
def test_net_of_undoes_adding_vat(net, rate):
    assume(rate is None or rate > 0)
    assert charging.net_of(net + charging.vat_on(net, rate), rate) == net


@pytest.mark.parametrize("bad", [-1, 10_001, 2000.0, "20", True])
def test_a_rate_out_of_range_is_refused(bad):
    with pytest.raises(ValueError, match="VAT"):
        charging.check_vat_rate(bad)


def test_negative_lines_are_refused():
    with pytest.raises(ValueError):
        charging.vat_on(-1, 2000)


@pytest.mark.parametrize(("rate", "label"), [(None, "Outside the scope of VAT"),
                                             (2000, "VAT at 20%"), (1750, "VAT at 17.5%"),
                                             (0, "VAT at 0%"), (500, "VAT at 5%")])
def test_vat_labels(rate, label):
    assert charging.vat_label(rate) == label
