"""Events the wallet context publishes (through the outbox, from wallet.service only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from aftersales.kit.events import DomainEvent
from aftersales.kit.topics import COUPON_ISSUED


@dataclass(frozen=True, slots=True)
class CouponIssued(DomainEvent):
    """A coupon or store credit entered a customer's wallet; the customer is told."""

    topic: ClassVar[str] = COUPON_ISSUED
    customer_id: int
    code: str
    amount: str  # Decimal as text
    currency: str
    trigger: str  # late_delivery | agent_offer | vip_offer
    order_number: str
    expires_at: str  # ISO 8601, UTC
    occurred_at: str | None = None
