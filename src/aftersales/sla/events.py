"""Events the SLA context publishes (through the outbox, from sla.service only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from aftersales.kit.events import DomainEvent


@dataclass(frozen=True, slots=True)
class SlaWarning(DomainEvent):
    """A clock came near its target (its warn_at passed)."""

    topic: ClassVar[str] = "sla.warning"
    subject_id: int  # the ticket's id
    metric: str
    target_at: str  # ISO 8601, UTC
    clock_id: int


# Same fields as SlaWarning on purpose: each topic is its own event class that subscribers match on.
@dataclass(frozen=True, slots=True)
class SlaBreached(DomainEvent):
    """A clock passed its target: the promise to the customer broke."""

    topic: ClassVar[str] = "sla.breached"
    subject_id: int  # the ticket's id
    metric: str
    target_at: str  # ISO 8601, UTC
    clock_id: int
