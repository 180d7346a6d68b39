"""Every query of the routing context."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from aftersales.db.repository import Repository
from aftersales.routing.domain import AgentStatus, WorkKind, WorkState
from aftersales.routing.models import AgentProfile, GroupMembership, SkillGroup, WorkItem, WorkTransfer

# How many waiting items are weighed when an agent frees up; the SQL order already puts the most
# urgent first, the rules then settle VIP and high value within that window.
PULL_WINDOW = 200


@dataclass(frozen=True, slots=True)
class GroupCounts:
    waiting: int
    oldest: datetime | None
    assigned: int


class RoutingRepository(Repository):
    def flush(self) -> None:
        self.session.flush()

    # --- groups -----------------------------------------------------------------------------------
    def groups(self) -> list[SkillGroup]:
        return list(self.session.scalars(select(SkillGroup).order_by(SkillGroup.tier, SkillGroup.key)))

    def group(self, key: str) -> SkillGroup | None:
        return self.session.scalar(select(SkillGroup).where(SkillGroup.key == key))

    def groups_by_keys(self, keys: Iterable[str]) -> list[SkillGroup]:
        wanted = list(keys)
        if not wanted:
            return []
        return list(self.session.scalars(select(SkillGroup).where(SkillGroup.key.in_(wanted))))

    def member_counts(self) -> dict[str, int]:
        rows = self.session.execute(
            select(SkillGroup.key, func.count(GroupMembership.id))
            .join(GroupMembership, GroupMembership.group_id == SkillGroup.id)
            .group_by(SkillGroup.key)
        )
        return {key: int(n) for key, n in rows}

    def online_members(self) -> dict[str, int]:
        rows = self.session.execute(
            select(SkillGroup.key, func.count(GroupMembership.id))
            .join(GroupMembership, GroupMembership.group_id == SkillGroup.id)
            .join(AgentProfile, AgentProfile.id == GroupMembership.agent_id)
            .where(AgentProfile.status == AgentStatus.ONLINE.value)
            .group_by(SkillGroup.key)
        )
        return {key: int(n) for key, n in rows}

    # --- agents -----------------------------------------------------------------------------------
    def profile(self, user_id: int) -> AgentProfile | None:
        return self.session.scalar(select(AgentProfile).where(AgentProfile.user_id == user_id))

    def lock_profile(self, user_id: int) -> AgentProfile | None:
        """The agent's row, locked until the transaction ends, so two workers never both fill
        the last free slot (SQLite ignores FOR UPDATE: its single writer serialises instead)."""
        stmt = (
            select(AgentProfile)
            .where(AgentProfile.user_id == user_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return self.session.scalar(stmt)

    def profiles(self) -> list[AgentProfile]:
        return list(self.session.scalars(select(AgentProfile).order_by(AgentProfile.tier, AgentProfile.username)))

    def online_members_of(self, group_key: str) -> list[AgentProfile]:
        stmt = (
            select(AgentProfile)
            .join(GroupMembership, GroupMembership.agent_id == AgentProfile.id)
            .join(SkillGroup, SkillGroup.id == GroupMembership.group_id)
            .where(SkillGroup.key == group_key, AgentProfile.status == AgentStatus.ONLINE.value)
        )
        return list(self.session.scalars(stmt))

    def group_keys_of(self, agent_ids: Iterable[int]) -> dict[int, set[str]]:
        ids = list(agent_ids)
        found: dict[int, set[str]] = {i: set() for i in ids}
        if not ids:
            return found
        rows = self.session.execute(
            select(GroupMembership.agent_id, SkillGroup.key)
            .join(SkillGroup, SkillGroup.id == GroupMembership.group_id)
            .where(GroupMembership.agent_id.in_(ids))
        )
        for agent_id, key in rows:
            found[agent_id].add(key)
        return found

    def memberships_of(self, agent_id: int) -> list[GroupMembership]:
        return list(self.session.scalars(select(GroupMembership).where(GroupMembership.agent_id == agent_id)))

    def remove(self, obj: object) -> None:
        self.session.delete(obj)

    # --- load -------------------------------------------------------------------------------------
    def loads(self, user_ids: Iterable[int] | None = None) -> dict[int, dict[str, int]]:
        """Open work per agent and kind, counted from the work table (never a stored counter that
        could drift)."""
        stmt = (
            select(WorkItem.assigned_to, WorkItem.kind, func.count(WorkItem.id))
            .where(WorkItem.state == WorkState.ASSIGNED.value, WorkItem.assigned_to.is_not(None))
            .group_by(WorkItem.assigned_to, WorkItem.kind)
        )
        if user_ids is not None:
            stmt = stmt.where(WorkItem.assigned_to.in_(list(user_ids)))
        found: dict[int, dict[str, int]] = {}
        for user_id, kind, n in self.session.execute(stmt):
            if user_id is not None:
                found.setdefault(user_id, {})[kind] = int(n)
        return found

    def load_of(self, user_id: int, kind: WorkKind) -> int:
        stmt = select(func.count(WorkItem.id)).where(
            WorkItem.assigned_to == user_id,
            WorkItem.state == WorkState.ASSIGNED.value,
            WorkItem.kind == kind.value,
        )
        return int(self.session.scalar(stmt) or 0)

    # --- work -------------------------------------------------------------------------------------
    def work(self, kind: WorkKind, ref: str, *, lock: bool = False) -> WorkItem | None:
        stmt = select(WorkItem).where(WorkItem.kind == kind.value, WorkItem.ref == ref)
        if lock:
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        return self.session.scalar(stmt)

    def waiting_for(self, group_keys: Iterable[str], kinds: Iterable[WorkKind]) -> list[WorkItem]:
        keys, kind_values = list(group_keys), [k.value for k in kinds]
        if not keys or not kind_values:
            return []
        stmt = (
            select(WorkItem)
            .where(
                WorkItem.state == WorkState.QUEUED.value,
                WorkItem.group_key.in_(keys),
                WorkItem.kind.in_(kind_values),
            )
            .order_by(WorkItem.priority, WorkItem.vip.desc(), WorkItem.enqueued_at, WorkItem.id)
            .limit(PULL_WINDOW)
        )
        return list(self.session.scalars(stmt))

    def claim_queued(self, work_id: int) -> WorkItem | None:
        """Lock a waiting item if it is still waiting and nobody else holds it right now."""
        stmt = (
            select(WorkItem)
            .where(WorkItem.id == work_id, WorkItem.state == WorkState.QUEUED.value)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
        return self.session.scalar(stmt)

    def group_counts(self) -> dict[str, GroupCounts]:
        waiting = {
            key: (int(n), oldest)
            for key, n, oldest in self.session.execute(
                select(WorkItem.group_key, func.count(WorkItem.id), func.min(WorkItem.enqueued_at))
                .where(WorkItem.state == WorkState.QUEUED.value)
                .group_by(WorkItem.group_key)
            )
        }
        assigned = {
            key: int(n)
            for key, n in self.session.execute(
                select(WorkItem.group_key, func.count(WorkItem.id))
                .where(WorkItem.state == WorkState.ASSIGNED.value)
                .group_by(WorkItem.group_key)
            )
        }
        counts: dict[str, GroupCounts] = {}
        for key in set(waiting) | set(assigned):
            n, oldest = waiting.get(key, (0, None))
            counts[key] = GroupCounts(waiting=n, oldest=oldest, assigned=assigned.get(key, 0))
        return counts

    def open_work(self, limit: int) -> list[WorkItem]:
        """Waiting and assigned work for the supervisor, the longest waiting first."""
        stmt = (
            select(WorkItem)
            .where(WorkItem.state.in_([WorkState.QUEUED.value, WorkState.ASSIGNED.value]))
            .order_by(WorkItem.state.desc(), WorkItem.priority, WorkItem.enqueued_at, WorkItem.id)
            .limit(limit)
        )
        return list(self.session.scalars(stmt))

    def transfers(self, work_id: int) -> list[WorkTransfer]:
        return list(
            self.session.scalars(select(WorkTransfer).where(WorkTransfer.work_id == work_id).order_by(WorkTransfer.id))
        )
