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


@dataclass(frozen=True, slots=True)
class SlaMet(DomainEvent):
    """A clock stopped because its promise was kept or broken: the first response was sent or the
    ticket resolved. `elapsed_seconds` is the business time it counted, paused (pending) time left out."""

    topic: ClassVar[str] = "sla.met"
    subject_id: int  # the ticket's id
    metric: str  # the clock's metric
    cause: str  # what stopped it: first_response (a reply) or resolution (a resolve also meets an open first response)
    clock_id: int
    started_at: str  # ISO 8601, UTC: when the clock started (the ticket arrived or reopened)
    occurred_at: str  # ISO 8601, UTC
    elapsed_seconds: int
    target_seconds: int
    late: bool
