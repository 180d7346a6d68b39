"""Timeline entries are facts: written once, never updated, read by progress views and audits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from aftersales.kit.access import SYSTEM, Principal, Role


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
    DISPUTE = "dispute"


# A small frozen dataclass like others on purpose: who did it, as the timeline keeps it.
@dataclass(frozen=True, slots=True)
class Actor:
    kind: ActorKind
    name: str
    user_id: int | None = None


SYSTEM_ACTOR = Actor(ActorKind.SYSTEM, "system")


def actor_of(principal: Principal, *, admin_change: bool = False) -> Actor:
    """Who did it, as the timeline writes it down: the system, an integration or a person.

    An administrator's change (accounts, agents, policies) is audited as the person who made it,
    whatever role signed the request, so the audit log always names someone accountable.
    """
    if admin_change:
        return Actor(ActorKind.USER, principal.display_name or principal.username, principal.user_id)
    if principal is SYSTEM:
        return SYSTEM_ACTOR
    kind = ActorKind.INTEGRATION if principal.role is Role.INTEGRATION else ActorKind.USER
    return Actor(kind, principal.display_name or principal.username, principal.user_id or None)


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
