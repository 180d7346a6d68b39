"""Events the refunds context publishes (through the outbox, from refunds.service only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from aftersales.kit.events import DomainEvent
from aftersales.kit.topics import REFUND_SETTLED


@dataclass(frozen=True, slots=True)
class RefundRequested(DomainEvent):
    """A refund was written down; the worker sends it to the payment gateway."""

    topic: ClassVar[str] = "refund.requested"
    refund_id: int


@dataclass(frozen=True, slots=True)
class RefundSettled(DomainEvent):
    """The gateway's final word on a refund: succeeded or failed."""

    topic: ClassVar[str] = REFUND_SETTLED
    refund_id: int
    case_id: int | None
    customer_id: int | None
    order_number: str
    status: str  # succeeded | failed
    amount: str  # a decimal, as text
    currency: str
    occurred_at: str | None = None  # when it happened (ISO 8601, UTC); rows of older releases lack it
