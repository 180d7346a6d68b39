"""Events the cases context publishes (through the outbox, from cases.service only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from aftersales.kit.events import DomainEvent, payload_key
from aftersales.kit.topics import CASE_STATUS_CHANGED


@dataclass(frozen=True, slots=True)
class CaseStatusChanged(DomainEvent):
    """A case moved from one status to another (the customer and the merchant may be told)."""

    topic: ClassVar[str] = CASE_STATUS_CHANGED
    case_id: int
    case_number: str
    customer_id: int | None
    merchant_id: int | None
    order_number: str
    kind: str
    from_status: str | None = payload_key("from")  # None: the case was just submitted
    to_status: str = payload_key("to")
    occurred_at: str | None = None  # when it happened (ISO 8601, UTC); rows of older releases lack it
    # A refund starting: its amount, and the part of it that is the lines' shipping share (decimals
    # as text; "" when none), so the notice can say why it is above the goods' price.
    amount: str = ""
    shipping_share: str = ""
    currency: str = ""


@dataclass(frozen=True, slots=True)
class SelfServiceDone(DomainEvent):
    """A customer finished an order action by themselves (自助服务), with no agent: a deflected contact."""

    topic: ClassVar[str] = "cases.self_service_done"
    order_id: int
    customer_id: int | None
    merchant_id: int | None
    action: str
    occurred_at: str  # ISO 8601, UTC
