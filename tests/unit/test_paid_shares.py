"""What each order line was paid: the order's discount and shipping shared out over its lines in
proportion to their value, by largest remainder, to the cent. Pure functions, no database."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftersales.kit.money import MoneyError, allocate, share_of_units
from aftersales.orders.domain import paid_shares

D = Decimal
CENT = D("0.01")
line_totals = st.lists(st.integers(min_value=0, max_value=10**8), min_size=1, max_size=30).map(
    lambda cents: [D(c) * CENT for c in cents]
)


def test_the_issue_examples_refund_what_was_paid() -> None:
    # One line of 268.00 with a 10.00 discount: the buyer paid 258.00 for it.
    [only] = paid_shares([D("268.00")], shipping_fee=D("0.00"), discount_total=D("10.00"), currency="CNY")
    assert (only.discount, only.shipping, only.paid) == (D("10.00"), D("0.00"), D("258.00"))
    # 1,299.00 and 99.00 with a 20.00 discount: the big line carries 18.58 of it.
    big, small = paid_shares([D("1299.00"), D("99.00")], shipping_fee=D(0), discount_total=D("20.00"), currency="CNY")
    assert (big.discount, small.discount) == (D("18.58"), D("1.42"))
    assert (big.paid, small.paid) == (D("1280.42"), D("97.58"))


def test_largest_remainder_gives_the_odd_cents_to_the_largest_fractions() -> None:
    # 10.00 over three equal lines: 3.34 + 3.33 + 3.33, the first line (ties by position) takes the cent.
    assert allocate(D("10.00"), [D(1), D(1), D(1)], "CNY") == [D("3.34"), D("3.33"), D("3.33")]
    # 1.00 over 1:2 = 0.333… and 0.666…: the larger remainder (0.666…) rounds up.
    assert allocate(D("1.00"), [D(1), D(2)], "CNY") == [D("0.33"), D("0.67")]


def test_shipping_is_shared_too_and_everything_adds_up_to_the_payable_total() -> None:
    shares = paid_shares([D("100.00"), D("300.00")], shipping_fee=D("10.00"), discount_total=D("8.00"), currency="CNY")
    assert [s.shipping for s in shares] == [D("2.50"), D("7.50")]
    assert [s.discount for s in shares] == [D("2.00"), D("6.00")]
    assert sum(s.paid for s in shares) == D("402.00")


def test_free_lines_share_nothing_and_all_free_lines_share_equally() -> None:
    paid = [s.paid for s in paid_shares([D("0.00"), D("50.00")], D("6.00"), D("5.00"), "CNY")]
    assert paid == [D("0.00"), D("51.00")]
    assert [s.shipping for s in paid_shares([D(0), D(0)], D("5.01"), D(0), "CNY")] == [D("2.51"), D("2.50")]


def test_a_discount_larger_than_the_goods_eats_into_shipping() -> None:
    [only] = paid_shares([D("5.00")], shipping_fee=D("10.00"), discount_total=D("12.00"), currency="CNY")
    assert (only.discount, only.shipping, only.paid) == (D("5.00"), D("3.00"), D("3.00"))


def test_yen_is_shared_in_whole_yen() -> None:
    assert allocate(D("100"), [D(1), D(1), D(1)], "JPY") == [D("34"), D("33"), D("33")]


def test_amounts_off_the_currency_unit_or_negative_are_refused() -> None:
    with pytest.raises(MoneyError):
        allocate(D("1.005"), [D(1)], "CNY")
    with pytest.raises(MoneyError):
        allocate(D("1.00"), [D(-1), D(2)], "CNY")
    with pytest.raises(MoneyError):
        allocate(D("1.00"), [], "CNY")
    assert allocate(D("0.00"), [], "CNY") == []


@settings(max_examples=300, deadline=None)
@given(
    totals=line_totals,
    shipping=st.integers(min_value=0, max_value=10**6),
    discount=st.integers(min_value=0, max_value=10**9),
)
def test_shares_sum_exactly_to_the_paid_total_and_never_exceed_a_line(
    totals: list[Decimal], shipping: int, discount: int
) -> None:
    shipping_fee = D(shipping) * CENT
    goods = sum(totals, D(0))
    discount_total = min(D(discount) * CENT, goods + shipping_fee)  # the order feed refuses more
    shares = paid_shares(totals, shipping_fee, discount_total, "CNY")
    assert sum((s.paid for s in shares), D(0)) == goods + shipping_fee - discount_total
    assert sum((s.discount for s in shares), D(0)) == min(discount_total, goods)
    for line_total, share in zip(totals, shares, strict=True):
        assert D(0) <= share.discount <= line_total
        assert D(0) <= share.goods - share.discount <= line_total
        assert share.paid >= 0
        assert share.paid == share.paid.quantize(CENT)


@settings(max_examples=300, deadline=None)
@given(
    total=st.integers(min_value=0, max_value=10**10),
    weights=st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=40),
)
def test_allocate_is_exact_and_proportional_to_within_a_cent(total: int, weights: list[int]) -> None:
    amount = D(total) * CENT
    shares = allocate(amount, [D(w) for w in weights], "CNY")
    assert sum(shares, D(0)) == amount
    whole = sum(weights) or len(weights)
    for weight, share in zip(weights, shares, strict=True):
        exact = amount * (D(weight) if sum(weights) else D(1)) / D(whole)
        assert abs(share - exact) < CENT
        assert share >= 0


@settings(max_examples=300, deadline=None)
@given(
    paid=st.integers(min_value=0, max_value=10**9),
    claims=st.lists(st.integers(min_value=1, max_value=7), min_size=1, max_size=10),
)
def test_claims_of_units_add_up_exactly_to_the_line(paid: int, claims: list[int]) -> None:
    line_paid, quantity = D(paid) * CENT, sum(claims)
    already, parts = 0, []
    for taking in claims:
        parts.append(share_of_units(line_paid, quantity, already, taking, "CNY"))
        already += taking
    assert sum(parts, D(0)) == line_paid
    assert all(D(0) <= p <= line_paid for p in parts)


def test_one_unit_of_three_is_a_third_of_what_the_line_was_paid() -> None:
    assert share_of_units(D("100.00"), 3, 0, 1, "CNY") == D("33.33")
    assert share_of_units(D("100.00"), 3, 1, 1, "CNY") == D("33.33")
    assert share_of_units(D("100.00"), 3, 2, 1, "CNY") == D("33.34")
    assert share_of_units(D("100.00"), 3, 0, 3, "CNY") == D("100.00")
    assert share_of_units(D("100.00"), 3, 3, 1, "CNY") == D("0.00")
