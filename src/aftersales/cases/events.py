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
