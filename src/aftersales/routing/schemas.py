"""Shapes routing hands out: an agent's load, a queue's numbers, a routed piece of work."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class AgentLoad:
    user_id: int
    username: str
    display_name: str
    tier: str
    status: str
    status_changed_at: datetime
    chats: int
    max_chats: int
    tickets: int
    max_tickets: int
    skills: list[str]
    groups: list[str]
    version: int
    merchant_id: int | None = None  # the merchant whose staff this agent is; None for platform staff

    @property
    def full_chats(self) -> bool:
        return self.chats >= self.max_chats

    @property
    def full_tickets(self) -> bool:
        return self.tickets >= self.max_tickets


@dataclass(frozen=True, slots=True)
class QueueStat:
    key: str
    name_zh: str
    name_en: str
    tier: str
    merchant_id: int | None
    escalation_key: str | None
    waiting: int
    oldest_waiting_at: datetime | None
    assigned: int
    members: int
    online: int


@dataclass(frozen=True, slots=True)
class TransferView:
    move: str
    from_user_id: int | None
    to_user_id: int | None
    from_group: str
    to_group: str
    reason: str
    by_user_id: int | None
    at: datetime


@dataclass(frozen=True, slots=True)
class WorkView:
    kind: str
    ref: str
    group_key: str
    state: str
    priority: int
    vip: bool
    order_value: Decimal | None
    merchant_id: int | None
    enqueued_at: datetime
    assigned_to: int | None
    assigned_at: datetime | None
    boosted: bool
    transfers: list[TransferView] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Board:
    """Everything the supervisor page shows."""

    agents: list[AgentLoad]
    queues: list[QueueStat]
    open_work: list[WorkView]
    now: datetime
    # Who may be handed each open item ("kind:ref" → user ids): platform staff for platform queues,
    # the merchant's own staff for a merchant's queue.
    candidates: dict[str, list[int]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class GroupOption:
    key: str
    name_zh: str
    name_en: str
    tier: str
