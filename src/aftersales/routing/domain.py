"""Pure rules of routing: who may take a piece of work, who takes it, and in what order waiting
work is served. No database here: the service feeds snapshots in and writes the outcome back.

The order of criteria (see docs/decisions/0013-routing.md):
1. eligible: online, in the work's group, has every skill the work requires, room left for
   that kind of work (chats and tickets have separate capacities);
2. least loaded by load ratio (open / capacity), so a 2-chat agent at 1 is as full as a 4-chat
   agent at 2;
3. fair rotation among equals: the one assigned longest ago, then the one with fewer
   assignments in total (equal timestamps happen under a frozen clock), then the lower user id.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from aftersales.kit.vocabulary import Priority


# Deliberately separate: this context's own vocabulary. Enums in other contexts share the StrEnum
# shape, not the meaning; each is imported from the context that owns it.
class AgentStatus(StrEnum):
    ONLINE = "online"
    AWAY = "away"  # keeps the work in hand, gets none new
    OFFLINE = "offline"


class Tier(StrEnum):
    T1 = "t1"
    T2 = "t2"


class WorkKind(StrEnum):
    TICKET = "ticket"
    CHAT = "chat"


class WorkState(StrEnum):
    QUEUED = "queued"
    ASSIGNED = "assigned"
    DONE = "done"


class MoveKind(StrEnum):
    """Why a piece of work changed hands; kept in the append-only transfer history."""

    TRANSFER = "transfer"
    ESCALATE = "escalate"
    REASSIGN = "reassign"


class AssignReason(StrEnum):
    ARRIVAL = "arrival"  # assigned when it arrived
    FREED = "freed"  # an agent freed up (work done, came online, more capacity)
    TRANSFER = "transfer"
    ESCALATE = "escalate"
    REASSIGN = "reassign"


DEFAULT_GROUP = "tier1-general"
# Orders at or above this value (in the order's currency) count as high-value and move up the queue.
HIGH_VALUE_ORDER = Decimal("2000")
# Ranks of the ticket priorities (kit.vocabulary); lower is more urgent. "normal" is an alias of
# medium that callers outside the desk may send.
PRIORITY_RANKS: dict[str, int] = {
    Priority.URGENT.value: 0,
    Priority.HIGH.value: 1,
    Priority.MEDIUM.value: 2,
    "normal": 2,
    Priority.LOW.value: 3,
}
MAX_CHATS = 50
MAX_TICKETS = 500
SKILL_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.\-]{0,39}$")


def priority_rank(name: str) -> int:
    """The rank of a named priority; unknown names sort with medium rather than fail."""
    return PRIORITY_RANKS.get(name.strip().lower(), PRIORITY_RANKS["medium"])


@dataclass(frozen=True, slots=True)
class RoutableWork:
    """What the tickets or chat context hands to routing. `priority` is a name ("urgent",
    "high", "medium", "low") or a rank where 0 is the most urgent."""

    kind: WorkKind | str
    ref: str  # ticket number or conversation id
    group_key: str | None = None
    required_skills: Iterable[str] = ()
    priority: int | str = PRIORITY_RANKS["medium"]
    vip: bool = False
    order_value: Decimal | None = None
    merchant_id: int | None = None
    category: str | None = None
    problem_type: str | None = None

    @property
    def work_kind(self) -> WorkKind:
        return work_kind(self.kind)

    @property
    def rank(self) -> int:
        return self.priority if isinstance(self.priority, int) else priority_rank(self.priority)

    @property
    def skills(self) -> frozenset[str]:
        return frozenset(self.required_skills)


def work_kind(kind: WorkKind | str) -> WorkKind:
    try:
        return WorkKind(kind)
    except ValueError as exc:
        raise ValueError(f"'{kind}' is not a kind of routed work; use ticket or chat") from exc


@dataclass(frozen=True, slots=True)
class Assignment:
    kind: WorkKind
    ref: str
    user_id: int
    group_key: str
    reason: str
    nth: int = 0  # the work's how-manieth assignment this is (keys its announcement)


@dataclass(frozen=True, slots=True)
class Placement:
    """Where placed or moved work is now: its group, and the assignment when an agent took it at
    once (None: it waits there). The caller learns both from the one call."""

    group_key: str
    assignment: Assignment | None


@dataclass(frozen=True, slots=True)
class AgentSnapshot:
    user_id: int
    status: AgentStatus
    groups: frozenset[str]
    skills: frozenset[str]
    max_chats: int
    max_tickets: int
    open_chats: int = 0
    open_tickets: int = 0
    last_assigned_at: datetime | None = None
    assigned_total: int = 0

    def capacity(self, kind: WorkKind) -> int:
        return self.max_chats if kind is WorkKind.CHAT else self.max_tickets

    def load(self, kind: WorkKind) -> int:
        return self.open_chats if kind is WorkKind.CHAT else self.open_tickets

    def has_room(self, kind: WorkKind) -> bool:
        return self.load(kind) < self.capacity(kind)

    def load_ratio(self, kind: WorkKind) -> Fraction:
        capacity = self.capacity(kind)
        return Fraction(self.load(kind), capacity) if capacity else Fraction(1)

    def took(self, kind: WorkKind, at: datetime) -> AgentSnapshot:
        """The snapshot after this agent took one more piece of work of `kind` at `at`."""
        chats = self.open_chats + (1 if kind is WorkKind.CHAT else 0)
        tickets = self.open_tickets + (1 if kind is WorkKind.TICKET else 0)
        return replace(
            self, open_chats=chats, open_tickets=tickets, last_assigned_at=at, assigned_total=self.assigned_total + 1
        )


@dataclass(frozen=True, slots=True)
class WaitingWork:
    """A piece of work as the rules see it: where it belongs, what it needs, how urgent it is."""

    kind: WorkKind
    ref: str
    group_key: str
    enqueued_at: datetime
    required_skills: frozenset[str] = frozenset()
    priority: int = PRIORITY_RANKS["medium"]
    vip: bool = False
    order_value: Decimal | None = None
    exclude: frozenset[int] = field(default=frozenset())  # agents it was just moved away from


@dataclass(frozen=True, slots=True)
class GroupSnapshot:
    key: str
    tier: Tier
    skills: frozenset[str]
    merchant_id: int | None = None
    escalation_key: str | None = None
    members: int = 0


# --- who may take it, who takes it ----------------------------------------------------------------
def eligible(work: WaitingWork, agent: AgentSnapshot) -> bool:
    """Online, in the work's group, every required skill, and room for this kind of work."""
    return (
        agent.status is AgentStatus.ONLINE
        and work.group_key in agent.groups
        and work.required_skills <= agent.skills
        and agent.has_room(work.kind)
        and agent.user_id not in work.exclude
    )


def _rotation_key(agent: AgentSnapshot, kind: WorkKind) -> tuple[Fraction, int, float, int, int]:
    never = agent.last_assigned_at is None
    stamp = 0.0 if agent.last_assigned_at is None else agent.last_assigned_at.timestamp()
    return (agent.load_ratio(kind), 0 if never else 1, stamp, agent.assigned_total, agent.user_id)


def choose_agent(work: WaitingWork, agents: Iterable[AgentSnapshot]) -> int | None:
    """The user id of the agent who should take `work`, or None when nobody fits (it waits)."""
    candidates = [a for a in agents if eligible(work, a)]
    if not candidates:
        return None
    return min(candidates, key=lambda a: _rotation_key(a, work.kind)).user_id


# --- the order waiting work is served in ----------------------------------------------------------
def boosted(work: WaitingWork) -> bool:
    """VIP customers and high-value orders move up within their priority."""
    return work.vip or (work.order_value is not None and work.order_value >= HIGH_VALUE_ORDER)


def queue_key(work: WaitingWork) -> tuple[int, int, datetime, str]:
    return (work.priority, 0 if boosted(work) else 1, work.enqueued_at, work.ref)


def queue_order(waiting: Iterable[WaitingWork]) -> list[WaitingWork]:
    """Priority rank first, then VIP / high value, then the longest waiting."""
    return sorted(waiting, key=queue_key)


def pick_work(agent: AgentSnapshot, waiting: Iterable[WaitingWork]) -> WaitingWork | None:
    """The best waiting work that this agent may take now."""
    for work in queue_order(waiting):
        if eligible(work, agent):
            return work
    return None


def distribute(
    waiting: Sequence[WaitingWork], agents: Sequence[AgentSnapshot], at: Sequence[datetime]
) -> tuple[list[tuple[str, int]], list[AgentSnapshot]]:
    """Serve waiting work in queue order, one assignment per moment in `at` (a simulation of
    arrivals; the service does the same one item at a time). Returns (ref, user id) pairs and
    the agents afterwards; work nobody can take stays out of the pairs."""
    pool = {a.user_id: a for a in agents}
    placed: list[tuple[str, int]] = []
    for work, moment in zip(queue_order(waiting), at, strict=False):
        chosen = choose_agent(work, pool.values())
        if chosen is None:
            continue
        pool[chosen] = pool[chosen].took(work.kind, moment)
        placed.append((work.ref, chosen))
    return placed, list(pool.values())


# --- which group a new piece of work belongs to ---------------------------------------------------
def pick_group(work: RoutableWork, groups: Sequence[GroupSnapshot]) -> str:
    """A named group if it exists; a POP merchant's own queue when it has staff; the group
    whose skills name the problem type, then the category (tier 1 before tier 2); else the
    tier-1 general queue."""
    by_key = {g.key: g for g in groups}
    if work.group_key and work.group_key in by_key:
        return work.group_key
    if work.merchant_id is not None:
        for group in groups:
            # A merchant without service staff cannot answer; the platform takes the question.
            if group.merchant_id == work.merchant_id and group.members > 0:
                return group.key
    platform = sorted((g for g in groups if g.merchant_id is None), key=lambda g: (g.tier.value, g.key))
    for wanted in (work.problem_type, work.category):
        if wanted:
            for group in platform:
                if wanted in group.skills:
                    return group.key
    return DEFAULT_GROUP


def escalation_target(group: GroupSnapshot) -> str | None:
    return group.escalation_key


# --- checks on what an administrator enters -------------------------------------------------------
def skills_problem(skills: Iterable[str]) -> str | None:
    for skill in skills:
        if not SKILL_PATTERN.fullmatch(skill):
            return (
                f"The skill '{skill[:40]}' is not valid: use lowercase letters, digits, '.', '_' or '-' "
                "(at most 40 characters)."
            )
    return None


def capacity_problem(max_chats: int, max_tickets: int) -> str | None:
    if not 0 <= max_chats <= MAX_CHATS:
        return f"Concurrent chats must be between 0 and {MAX_CHATS}."
    if not 0 <= max_tickets <= MAX_TICKETS:
        return f"Open tickets must be between 0 and {MAX_TICKETS}."
    return None


def parse_skills(text: str) -> list[str]:
    """Skills typed as a comma- or space-separated list, lower-cased, without repeats."""
    seen: list[str] = []
    for part in re.split(r"[,\s，]+", text.strip().lower()):
        if part and part not in seen:
            seen.append(part)
    return seen


def may_work_in(agent_merchant_id: int | None, group_merchant_id: int | None) -> bool:
    """Who may be handed work in a group: a platform queue is worked by platform staff (bound to no
    merchant), a merchant's own queue by that merchant's staff only."""
    return agent_merchant_id == group_merchant_id
