"""What ticket classification reads and answers: the order's facts in, a Classification out."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class TicketFacts:
    """What the linked order and the customer's history say; all optional for a ticket without an order."""

    order_number: str = ""
    category: str | None = None  # product category code of the order: baby_maternal, home_appliances, …
    merchant_kind: str | None = None  # "self_operated" (or "self") | "pop" | None
    order_amount: Decimal | None = None
    delivered: bool = False
    days_late: int = 0  # > 0 when the parcel is late against its ETA
    customer_vip: bool = False
    complaints_30d: int = 0  # earlier complaints by the same customer
    channel: str = "web"

    @property
    def is_pop(self) -> bool:
        return self.merchant_kind == "pop"

    @property
    def has_order(self) -> bool:
        return bool(self.order_number)


@dataclass(frozen=True, slots=True)
class Classification:
    responsibility: str  # merchant | logistics | platform | customer
    scenario: str  # product.defect, …, consultation, other
    tags: tuple[str, ...]  # fine tag ids, best first
    confidence: float  # 0–1
    ticket_type: str  # consultation | complaint | dispute
    threatens_escalation: bool
    reasons: tuple[str, ...] = field(default=())
