"""Timeline entries are facts: written once, never updated, read by progress views and audits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


# Deliberately separate: this context's own vocabulary. Enums in other contexts share the StrEnum
# shape, not the meaning; each is imported from the context that owns it.
class ActorKind(StrEnum):
    USER = "user"
    SYSTEM = "system"
    INTEGRATION = "integration"


class SubjectType(StrEnum):
    ORDER = "order"
    SHIPMENT = "shipment"
    USER = "user"
    CASE = "case"
    POLICY = "policy"
    TICKET = "ticket"


@dataclass(frozen=True, slots=True)
class Actor:
    kind: ActorKind
    name: str
    user_id: int | None = None


SYSTEM_ACTOR = Actor(ActorKind.SYSTEM, "system")


@dataclass(frozen=True, slots=True)
class Entry:
    subject_type: SubjectType
    subject_id: int
    action: str
    actor: Actor
    occurred_at: datetime
    from_state: str | None = None
    to_state: str | None = None
    reason: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    # Internal entries (notes, admin changes) are hidden from customers' progress views.
    customer_visible: bool = True
