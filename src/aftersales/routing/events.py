"""Events the routing context publishes (through the outbox, from routing.assigning only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from aftersales.kit.events import DomainEvent


@dataclass(frozen=True, slots=True)
class WorkAssigned(DomainEvent):
    """Routing gave work to an agent on its own account (an agent came online or freed up, a
    supervisor moved it); work a caller placed comes back to it as the call's result instead."""

    topic: ClassVar[str] = "routing.assigned"
    kind: str  # ticket | chat
    ref: str  # the ticket number or the conversation id
    user_id: int | None
    group_key: str
    reason: str
    # A supervisor's reassign: who moved it, from whom, and why (for the work's own history).
    by_user_id: int | None = None
    from_user_id: int | None = None
    note: str = ""
