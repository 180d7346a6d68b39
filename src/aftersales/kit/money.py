"""Money is a Decimal amount with a currency, never a float."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction

from babel.numbers import format_currency

# Minor units per ISO 4217; CNY, USD and EUR have 2, JPY and KRW none.
_EXPONENTS = {"JPY": 0, "KRW": 0}
SUPPORTED_CURRENCIES = frozenset({"CNY", "USD", "EUR", "HKD", "JPY", "KRW", "GBP"})


class MoneyError(ValueError):
    pass


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-_EXPONENTS.get(currency, 2))


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    @classmethod
    def of(cls, amount: Decimal | int | str, currency: str) -> Money:
        if isinstance(amount, float):
            raise MoneyError("money must not be built from a float")
        currency = currency.upper()
        if currency not in SUPPORTED_CURRENCIES:
            raise MoneyError(f"unsupported currency {currency!r}")
        try:
            value = Decimal(amount)
        except (InvalidOperation, ValueError) as exc:
            raise MoneyError(f"{amount!r} is not an amount") from exc
        if not value.is_finite():
            raise MoneyError(f"{amount!r} is not a finite amount")
        try:
            return cls(value.quantize(quantum(currency), rounding=ROUND_HALF_UP), currency)
        except InvalidOperation as exc:
            raise MoneyError(f"{amount!r} is too large an amount") from exc

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls.of(0, currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise MoneyError(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money.of(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money.of(self.amount - other.amount, self.currency)

    def times(self, quantity: int) -> Money:
        return Money.of(self.amount * quantity, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


def _unit_for(currency: str, amount: Decimal) -> Decimal:
    """The currency's minor unit, or the cent for an amount finer than it (a feed may send 0.50 JPY)."""
    unit = quantum(currency)
    return unit if amount % unit == 0 else min(unit, Decimal("0.01"))


def _units(amount: Decimal, unit: Decimal) -> int:
    count = amount / unit
    if count != count.to_integral_value():
        raise MoneyError(f"{amount} is not a whole number of {unit}")
    return int(count)


def allocate(total: Decimal, weights: Sequence[Decimal], currency: str) -> list[Decimal]:
    """Share `total` out in proportion to `weights`, to the currency's minor unit, by largest
    remainder: everyone gets the floor of their exact share, and the units left over go one each to
    the largest fractions (ties to the earlier position). The shares add up exactly to `total`, and
    none differs from its exact share by a whole unit. All weights zero: equal shares."""
    unit = _unit_for(currency, total)
    if total < 0 or any(w < 0 for w in weights):
        raise MoneyError("only amounts and weights of 0 or more can be shared out")
    units = _units(total, unit)
    if not weights:
        if units:
            raise MoneyError(f"{total} {currency} cannot be shared out over nothing")
        return []
    parts = [Fraction(w) for w in weights]
    whole = sum(parts, Fraction(0))
    if whole == 0:
        parts, whole = [Fraction(1)] * len(parts), Fraction(len(parts))
    exact = [units * part / whole for part in parts]
    shares = [int(x) for x in exact]  # floor: every exact share is ≥ 0
    left = units - sum(shares)
    by_fraction = sorted(range(len(exact)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in by_fraction[:left]:
        shares[i] += 1
    return [(Decimal(n) * unit).quantize(unit) for n in shares]


def share_of_units(paid: Decimal, quantity: int, already: int, taking: int, currency: str) -> Decimal:
    """What `taking` units of a line of `quantity` units cost, when `already` units of it were claimed
    before: the line's `paid` amount counted up unit by unit (rounded down to the minor unit at each
    step), so the claims on one line always add up exactly to what the line was paid."""
    unit = _unit_for(currency, paid)
    cents = _units(paid, unit)

    def upto(n: int) -> int:
        n = max(0, min(n, quantity))
        return cents * n // quantity if quantity else 0

    return (Decimal(upto(already + taking) - upto(already)) * unit).quantize(unit)


def shown(amount: Decimal, currency: str, lang: str) -> str:
    """An amount as a person reads it (¥500.00), as the pages' money formatter writes it."""
    return format_currency(amount, currency, locale=lang.replace("-", "_"))
