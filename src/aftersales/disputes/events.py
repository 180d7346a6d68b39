"""Events the disputes context publishes (through the outbox, from disputes only).

Merchant credit (a later step) will consume these: DisputeStatusChanged (escalations count towards
the intervention rate, settled/withdrawn towards self-resolution), DisputeRuled (a merchant-liable
ruling with money is a dispute refund and an order defect), and DisputeAppealDecided (an overturned
ruling reverses those effects)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from aftersales.kit.events import DomainEvent, payload_key
from aftersales.kit.topics import DISPUTE_STATUS_CHANGED

# Deliberately separate: each event declares its own fields, although they share a shape, because
# its payload is a contract with the consumers of its topic.


@dataclass(frozen=True, slots=True)
class DisputeStatusChanged(DomainEvent):
    """A dispute moved from one status to another (both sides may be told)."""

    topic: ClassVar[str] = DISPUTE_STATUS_CHANGED
    dispute_id: int
    dispute_number: str
    case_number: str
    order_number: str
    customer_id: int | None
    merchant_id: int | None
    action: str
    from_status: str | None = payload_key("from")  # None: just escalated
    to_status: str = payload_key("to")
    occurred_at: str | None = None


@dataclass(frozen=True, slots=True)
class DisputeRuled(DomainEvent):
    """The platform ruled: who is liable, the outcome and what the buyer receives."""

    topic: ClassVar[str] = "dispute.ruled"
    dispute_id: int
    dispute_number: str
    order_number: str
    merchant_id: int
    liability: str
    outcome: str
    amount: str  # a decimal, as text
    currency: str
    occurred_at: str | None = None


@dataclass(frozen=True, slots=True)
class DisputeAppealDecided(DomainEvent):
    """The merchant's appeal was decided: upheld (the ruling stands) or overturned."""

    topic: ClassVar[str] = "dispute.appeal_decided"
    dispute_id: int
    dispute_number: str
    merchant_id: int
    result: str
    occurred_at: str | None = None
