"""Money is a Decimal amount with a currency, never a float."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

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
