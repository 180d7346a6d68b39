"""From rows to what the rules and the pages read: snapshots for the pure rules, and the
overviews (agents' load, queues, one routed item with its history)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from aftersales.identity import service as identity
from aftersales.routing import domain
from aftersales.routing.domain import AgentSnapshot, AgentStatus, GroupSnapshot, Tier, WaitingWork, WorkKind, WorkState
from aftersales.routing.models import AgentProfile, WorkItem
from aftersales.routing.repository import RoutingRepository
from aftersales.routing.schemas import AgentLoad, QueueStat, TransferView, WorkView


# --- snapshots for the pure rules -----------------------------------------------------------------
def snapshot(profile: AgentProfile, groups: Iterable[str], load: dict[str, int]) -> AgentSnapshot:
    return AgentSnapshot(
        user_id=profile.user_id,
        status=AgentStatus(profile.status),
        groups=frozenset(groups),
        skills=frozenset(profile.skills or ()),
        max_chats=profile.max_chats,
        max_tickets=profile.max_tickets,
        open_chats=load.get(WorkKind.CHAT.value, 0),
        open_tickets=load.get(WorkKind.TICKET.value, 0),
        last_assigned_at=profile.last_assigned_at,
        assigned_total=profile.assigned_total,
    )


def waiting(item: WorkItem) -> WaitingWork:
    return WaitingWork(
        kind=WorkKind(item.kind),
        ref=item.ref,
        group_key=item.group_key,
        enqueued_at=item.enqueued_at,
        required_skills=frozenset(item.required_skills or ()),
        priority=item.priority,
        vip=item.vip,
        order_value=item.order_value,
        exclude=frozenset(item.passed_over or ()),
    )


def group_snapshots(repo: RoutingRepository) -> list[GroupSnapshot]:
    members = repo.member_counts()
    return [
        GroupSnapshot(
            key=g.key,
            tier=Tier(g.tier),
            skills=frozenset(g.skills or ()),
            merchant_id=g.merchant_id,
            escalation_key=g.escalation_key,
            members=members.get(g.key, 0),
        )
        for g in repo.groups()
    ]


# --- reads ----------------------------------------------------------------------------------------
def work_view(repo: RoutingRepository, item: WorkItem, with_history: bool) -> WorkView:
    transfers = (
        [
            TransferView(t.move, t.from_user_id, t.to_user_id, t.from_group, t.to_group, t.reason, t.by_user_id, t.at)
            for t in repo.transfers(item.id)
        ]
        if with_history
        else []
    )
    return WorkView(
        kind=item.kind,
        ref=item.ref,
        group_key=item.group_key,
        state=item.state,
        priority=item.priority,
        vip=item.vip,
        order_value=item.order_value,
        merchant_id=item.merchant_id,
        enqueued_at=item.enqueued_at,
        assigned_to=item.assigned_to if item.state == WorkState.ASSIGNED.value else None,
        assigned_at=item.assigned_at,
        boosted=domain.boosted(waiting(item)),
        transfers=transfers,
    )


def work_for(session: Session, kind: WorkKind | str, ref: str) -> WorkView | None:
    """Where a ticket or chat is, with its transfer history (reasons included)."""
    repo = RoutingRepository(session)
    item = _work(repo, kind, ref)
    return work_view(repo, item, with_history=True) if item is not None else None


def _work(repo: RoutingRepository, kind: WorkKind | str, ref: str) -> WorkItem | None:
    """The work item of a ticket or chat; None for an unknown kind as for unknown work."""
    try:
        return repo.work(WorkKind(kind), ref)
    except ValueError:
        return None


def _agent_load(
    profile: AgentProfile, groups: Iterable[str], load: dict[str, int], merchant_id: int | None = None
) -> AgentLoad:
    return AgentLoad(
        user_id=profile.user_id,
        username=profile.username,
        display_name=profile.display_name or profile.username,
        tier=profile.tier,
        status=profile.status,
        status_changed_at=profile.status_changed_at,
        chats=load.get(WorkKind.CHAT.value, 0),
        max_chats=profile.max_chats,
        tickets=load.get(WorkKind.TICKET.value, 0),
        max_tickets=profile.max_tickets,
        skills=list(profile.skills or []),
        groups=sorted(groups),
        version=profile.version,
        merchant_id=merchant_id,
    )


def agents_overview(session: Session) -> list[AgentLoad]:
    repo = RoutingRepository(session)
    profiles = repo.profiles()
    groups = repo.group_keys_of(p.id for p in profiles)
    loads = repo.loads()
    return [
        _agent_load(p, groups[p.id], loads.get(p.user_id, {}), agent_merchant_id(session, p.user_id)) for p in profiles
    ]


def agent_merchant_id(session: Session, user_id: int) -> int | None:
    """The merchant an agent works for (merchant staff), or None (platform staff)."""
    principal = identity.principal_in(session, user_id)
    return principal.merchant_id if principal is not None else None


def profile(session: Session, user_id: int) -> AgentLoad | None:
    repo = RoutingRepository(session)
    found = repo.profile(user_id)
    if found is None:
        return None
    return _agent_load(found, repo.group_keys_of([found.id])[found.id], repo.loads([user_id]).get(user_id, {}))


def queues_overview(session: Session) -> list[QueueStat]:
    repo = RoutingRepository(session)
    counts, members, online = repo.group_counts(), repo.member_counts(), repo.online_members()
    stats = []
    for g in repo.groups():
        c = counts.get(g.key)
        # Field by field on purpose: QueueStat's own fields; look-alikes elsewhere build others'.
        stats.append(
            QueueStat(
                key=g.key,
                name_zh=g.name_zh,
                name_en=g.name_en,
                tier=g.tier,
                merchant_id=g.merchant_id,
                escalation_key=g.escalation_key,
                waiting=c.waiting if c else 0,
                oldest_waiting_at=c.oldest if c else None,
                assigned=c.assigned if c else 0,
                members=members.get(g.key, 0),
                online=online.get(g.key, 0),
            )
        )
    return stats


def escalation_group(session: Session, kind: WorkKind | str, ref: str) -> str | None:
    """Where `escalate` would send this work, or None when its queue is the top (tier 2 has none)."""
    repo = RoutingRepository(session)
    item = _work(repo, kind, ref)
    group = repo.group(item.group_key) if item is not None else None
    return group.escalation_key if group is not None else None
