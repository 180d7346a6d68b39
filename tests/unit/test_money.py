"""Money: exact Decimal amounts with a currency, quantized to the currency's minor unit."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftersales.kit.money import SUPPORTED_CURRENCIES, Money, MoneyError, quantum

# Amounts in fen, well inside the Numeric(14, 2) column the database keeps them in.
cents = st.integers(min_value=-(10**11), max_value=10**11)


def cny(amount: str | int) -> Money:
    return Money.of(amount, "CNY")


def test_adding_tenths_is_exact_where_floats_are_not() -> None:
    assert cny("0.1") + cny("0.2") == cny("0.3")
    assert (cny("0.1") + cny("0.2")).amount == Decimal("0.30")


def test_subtraction_and_times_stay_in_the_currency() -> None:
    assert cny("10.00") - cny("2.50") == cny("7.50")
    assert cny("59.90").times(3) == cny("179.70")
    assert cny("1.00").times(0) == Money.zero("CNY")


def test_subtraction_may_go_below_zero() -> None:
    assert (cny("1.00") - cny("2.50")).amount == Decimal("-1.50")


def test_comparisons_within_one_currency() -> None:
    assert cny("1.00") < cny("1.01")
    assert cny("1.00") <= cny("1.00")
    assert not cny("2") < cny("1")


@pytest.mark.parametrize(
    "combine",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
    ],
    ids=["add", "sub", "lt", "le"],
)
def test_combining_two_currencies_is_refused(combine: Callable[[Money, Money], object]) -> None:
    with pytest.raises(MoneyError, match="cannot combine CNY with USD"):
        combine(cny("1.00"), Money.of("1.00", "USD"))


def test_a_float_is_refused_even_when_it_looks_exact() -> None:
    with pytest.raises(MoneyError, match="float"):
        Money.of(0.5, "CNY")


@pytest.mark.parametrize("bad", ["abc", "", "1,00", "NaN", "Infinity", "-Infinity"])
def test_text_that_is_not_a_finite_amount_is_refused(bad: str) -> None:
    with pytest.raises(MoneyError):
        Money.of(bad, "CNY")


@pytest.mark.parametrize("currency", ["XXX", "RMB", "", "US"])
def test_unsupported_currency_is_refused(currency: str) -> None:
    with pytest.raises(MoneyError, match="unsupported currency"):
        Money.of(1, currency)


def test_currency_code_is_normalised_to_upper_case() -> None:
    assert Money.of("1", "usd") == Money.of("1", "USD")
    assert Money.of("1", "usd").currency == "USD"


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("1", "CNY", "1.00"),
        ("0.005", "CNY", "0.01"),  # half up
        ("0.004", "CNY", "0.00"),
        ("-0.005", "CNY", "-0.01"),  # half away from zero
        ("0.125", "USD", "0.13"),
        ("19.999", "EUR", "20.00"),
        ("2.5", "JPY", "3"),
        ("2.4", "JPY", "2"),
        ("1000.5", "KRW", "1001"),
        ("7", "GBP", "7.00"),
        ("1e2", "HKD", "100.00"),
    ],
)
def test_amount_is_quantized_to_the_minor_unit_of_its_currency(amount: str, currency: str, expected: str) -> None:
    money = Money.of(amount, currency)
    assert money.amount == Decimal(expected)
    assert money.amount.as_tuple().exponent == Decimal(expected).as_tuple().exponent


def test_quantum_per_currency() -> None:
    assert quantum("CNY") == Decimal("0.01")
    assert quantum("JPY") == Decimal("1")
    assert quantum("KRW") == Decimal("1")


def test_every_supported_currency_has_a_zero() -> None:
    for currency in SUPPORTED_CURRENCIES:
        zero = Money.zero(currency)
        assert zero.amount == 0
        assert zero.currency == currency


def test_ints_and_decimals_build_the_same_money() -> None:
    assert Money.of(5, "CNY") == Money.of(Decimal("5"), "CNY") == Money.of("5.00", "CNY")


def test_str_shows_amount_and_currency() -> None:
    assert str(cny("12.3")) == "12.30 CNY"
    assert str(Money.of(500, "JPY")) == "500 JPY"


def test_money_is_immutable_and_hashable() -> None:
    money = cny("1.00")
    with pytest.raises(AttributeError):
        money.amount = Decimal("2")
    assert len({cny("1"), cny("1.00"), cny("1.0")}) == 1


def test_an_amount_too_large_to_quantize_is_refused_as_money_error() -> None:
    with pytest.raises(MoneyError):
        Money.of(Decimal("1e26"), "CNY")


# --- properties ---------------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(parts=st.lists(cents, min_size=1, max_size=30))
def test_sum_of_parts_equals_the_total_of_their_amounts(parts: list[int]) -> None:
    moneys = [Money.of(Decimal(p).scaleb(-2), "CNY") for p in parts]
    total = Money.zero("CNY")
    for money in moneys:
        total = total + money
    assert total == Money.of(Decimal(sum(parts)).scaleb(-2), "CNY")
    assert total.amount * 100 == sum(parts)


@settings(max_examples=60, deadline=None)
@given(a=cents, b=cents)
def test_adding_then_subtracting_returns_the_original_exactly(a: int, b: int) -> None:
    x = Money.of(Decimal(a).scaleb(-2), "CNY")
    y = Money.of(Decimal(b).scaleb(-2), "CNY")
    assert (x + y) - y == x
    assert x + y == y + x


@settings(max_examples=60, deadline=None)
@given(unit=st.integers(min_value=0, max_value=10**9), quantity=st.integers(min_value=0, max_value=1000))
def test_times_equals_repeated_addition(unit: int, quantity: int) -> None:
    price = Money.of(Decimal(unit).scaleb(-2), "CNY")
    assert price.times(quantity).amount == Decimal(unit * quantity).scaleb(-2)


@settings(max_examples=60, deadline=None)
@given(
    amount=st.decimals(min_value=-(10**9), max_value=10**9, allow_nan=False, allow_infinity=False, places=6),
    currency=st.sampled_from(sorted(SUPPORTED_CURRENCIES)),
)
def test_quantized_amount_is_within_half_a_minor_unit_and_idempotent(amount: Decimal, currency: str) -> None:
    money = Money.of(amount, currency)
    assert abs(money.amount - amount) <= quantum(currency) / 2
    assert money.amount == money.amount.quantize(quantum(currency))
    assert Money.of(money.amount, currency) == money
