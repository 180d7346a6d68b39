"""Refund statuses, their transition table and the pure money rules (no database, no clock)."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum

from aftersales.kit.errors import Conflict, Invalid
from aftersales.kit.money import SUPPORTED_CURRENCIES, quantum


# Deliberately separate: this context's own vocabulary. Enums in other contexts share the StrEnum
# shape, not the meaning; each is imported from the context that owns it.
class RefundStatus(StrEnum):
    REQUESTED = "requested"  # written with the case transition; the worker has not reached the gateway
    SUBMITTED = "submitted"  # the gateway acknowledged it and gave its reference
    SUCCEEDED = "succeeded"  # the gateway confirmed the money went back
    FAILED = "failed"  # the gateway refused or reported failure; may be retried with a new key


FINAL = frozenset({RefundStatus.SUCCEEDED, RefundStatus.FAILED})

# Every status change of a refund is one of these. A confirmation may overtake the acknowledgement
# (gateways call back asynchronously), so `requested` may go straight to a final status.
TRANSITIONS: dict[RefundStatus, frozenset[RefundStatus]] = {
    RefundStatus.REQUESTED: frozenset({RefundStatus.SUBMITTED, RefundStatus.SUCCEEDED, RefundStatus.FAILED}),
    RefundStatus.SUBMITTED: frozenset({RefundStatus.SUCCEEDED, RefundStatus.FAILED}),
    RefundStatus.SUCCEEDED: frozenset(),
    RefundStatus.FAILED: frozenset(),
}


def can_move(current: RefundStatus, target: RefundStatus) -> bool:
    return target in TRANSITIONS[current]


# Keys leave room for the retry suffix inside the 120-character column.
MAX_KEY_LENGTH = 100
MAX_REASON_LENGTH = 200
_RETRY = re.compile(r"^(?P<base>.+):retry(?P<n>\d+)$")


def refundable(paid_total: Decimal, earlier: Iterable[tuple[Decimal, RefundStatus | str]]) -> Decimal:
    """What may still be refunded on an order: what its payments captured (at most its payable total,
    lines + shipping − discount) minus every earlier refund that has not failed. A failed refund
    returned nothing, so it does not count. Never negative, never above what was paid."""
    taken = sum((amount for amount, status in earlier if RefundStatus(status) is not RefundStatus.FAILED), Decimal(0))
    ceiling = max(paid_total, Decimal(0))
    return min(ceiling, max(ceiling - taken, Decimal(0)))


@dataclass(frozen=True, slots=True)
class Taken:
    """An earlier refund of the order: its amount, status and what it paid back per order line."""

    amount: Decimal
    status: str
    lines: Mapping[int, Decimal] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LineLeft:
    line_id: int
    line_no: int
    paid: Decimal  # what the payments captured on this line
    left: Decimal  # what may still be refunded on it


def refundable_lines(lines: Iterable[tuple[int, int, Decimal]], earlier: Iterable[Taken]) -> list[LineLeft]:
    """Per order line (id, number, captured): what was captured on it minus what refunds that have
    not failed paid back for it. Never negative."""
    taken: dict[int, Decimal] = {}
    for refund in earlier:
        if RefundStatus(refund.status) is RefundStatus.FAILED:
            continue
        for line_id, amount in refund.lines.items():
            taken[line_id] = taken.get(line_id, Decimal(0)) + amount
    return [
        LineLeft(line_id, line_no, paid, max(paid - taken.get(line_id, Decimal(0)), Decimal(0)))
        for line_id, line_no, paid in lines
    ]


def check_lines(
    *, amount: Decimal, currency: str, order_number: str, asked: Mapping[int, Decimal], left: Iterable[LineLeft]
) -> None:
    """A refund for order lines: its parts name lines of the order, add up to the refund, and none
    exceeds what its line can still refund."""
    by_id = {line.line_id: line for line in left}
    unknown = sorted(set(asked) - set(by_id))
    if unknown:
        raise Invalid(f"Order {order_number} has no line with id {unknown[0]} to refund.")
    if sum(asked.values(), Decimal(0)) != amount or any(part < 0 for part in asked.values()):
        raise Invalid(f"The parts of a refund of {amount} {currency} per line must be 0 or more and add up to it.")
    for line_id, part in asked.items():
        line = by_id[line_id]
        if part > line.left:
            raise Conflict(
                f"Line {line.line_no} of order {order_number} can refund at most {line.left} {currency} more: it was "
                f"paid {line.paid} {currency} and {line.paid - line.left} {currency} is already refunded or on its "
                f"way; {part} {currency} was asked."
            )


def check_request(
    *,
    amount: Decimal,
    currency: str,
    order_number: str,
    order_currency: str,
    paid_total: Decimal,
    still_refundable: Decimal,
) -> None:
    """Refuse a refund with a sentence that gives the numbers; return quietly when it may go ahead."""
    if currency not in SUPPORTED_CURRENCIES:
        raise Invalid(f"Currency '{currency}' is not supported; use one of {', '.join(sorted(SUPPORTED_CURRENCIES))}.")
    if not amount.is_finite():
        raise Invalid(f"The refund amount {amount} is not a number.")
    if amount != amount.quantize(quantum(currency)):
        raise Invalid(f"The refund amount {amount} has more decimal places than {currency} allows.")
    if currency != order_currency:
        raise Conflict(
            f"Order {order_number} was paid in {order_currency}; a refund in {currency} cannot go back to that payment."
        )
    if amount <= 0:
        raise Conflict(f"A refund must be more than 0.00 {currency}; {amount} {currency} was asked.")
    if amount > still_refundable:
        already = max(paid_total, Decimal(0)) - still_refundable
        raise Conflict(
            f"Order {order_number} can refund at most {still_refundable} {currency} more: it was paid "
            f"{paid_total} {currency} and {already} {currency} is already refunded or on its way; "
            f"{amount} {currency} was asked."
        )


def check_key(key: str) -> None:
    if not key or len(key) > MAX_KEY_LENGTH:
        raise Invalid(f"A refund idempotency key must have 1 to {MAX_KEY_LENGTH} characters.")


def base_key(key: str) -> str:
    """The business key a retry's idempotency key was derived from: 'K:retry2' → 'K'."""
    match = _RETRY.match(key)
    return key if match is None else match["base"]


def retry_key(key: str) -> str:
    """The key of the next attempt after a failed refund: 'K' → 'K:retry1' → 'K:retry2'. Derived from
    the failed refund's own key, so retrying the same failed refund twice is one retry."""
    match = _RETRY.match(key)
    if match is None:
        return f"{key}:retry1"
    return f"{match['base']}:retry{int(match['n']) + 1}"


def backoff(attempts: int) -> timedelta:
    """When the next try of a refund the gateway could not take is due (the outbox's schedule)."""
    return timedelta(seconds=min(2 ** max(attempts, 1), 3600))


def simulated_outcome_succeeds(amount: Decimal) -> bool:
    """The simulator's failure trigger: an amount whose cents are .99 is declined by the 'bank'
    (for demos and tests of the failure path); every other amount succeeds."""
    return (amount * 100) % 100 != 99


def callback_signature(secret: str, body: bytes) -> str:
    """HMAC-SHA256 of the raw callback body with the shared secret, as lowercase hex."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_matches(secret: str, body: bytes, header: str) -> bool:
    """The X-Gateway-Signature header, bare hex or as 'sha256=<hex>', compared in constant time."""
    sent = header.strip().removeprefix("sha256=").lower()
    return bool(sent) and hmac.compare_digest(sent, callback_signature(secret, body))
