"""Events the orders context publishes (through the outbox, from orders.service only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from aftersales.kit.events import DomainEvent, payload_key
from aftersales.kit.topics import ORDER_STATUS_CHANGED


@dataclass(frozen=True, slots=True)
class OrderStatusChanged(DomainEvent):
    """An order was created (from_status None) or moved to another status."""

    topic: ClassVar[str] = ORDER_STATUS_CHANGED
    order: str  # the order number
    order_id: int
    customer_id: int | None
    from_status: str | None = payload_key("from")
    to_status: str = payload_key("to")
    occurred_at: str | None = None  # when it happened (ISO 8601, UTC); rows of older releases lack it
