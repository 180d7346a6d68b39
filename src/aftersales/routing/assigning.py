"""The assigning engine shared by the use cases: lock, check again, assign; and an agent who
frees up pulls the best waiting work that fits.

Each assignment travels once: work a caller placed (enqueue, transfer, escalate, reassign,
release) comes back to that caller as the call's result, and the caller mirrors it; assignments
nobody asked for in that call (an agent came online or freed up, a supervisor moved work on the
board) are announced as WorkAssigned through the outbox.

Capacity holds also with several workers at once: before an agent gets work their profile row is
locked (SELECT ... FOR UPDATE on PostgreSQL; SQLite has one writer at a time) and their load is
counted again under that lock. Waiting work is claimed with SKIP LOCKED, so two agents freeing up
together never take the same item. Rows are locked work first, then agents in user-id order.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from aftersales.kit import clock
from aftersales.messaging.outbox import publish_event
from aftersales.routing import domain
from aftersales.routing.domain import AgentStatus, Assignment, AssignReason, WaitingWork, WorkKind, WorkState
from aftersales.routing.events import WorkAssigned
from aftersales.routing.models import AgentProfile, WorkItem
from aftersales.routing.repository import PULL_WINDOW, RoutingRepository
from aftersales.routing.views import snapshot, waiting

TOPIC_ASSIGNED = WorkAssigned.topic


# --- assigning --------------------------------------------------------------------------------------
def assign(session: Session, item: WorkItem, agent: AgentProfile, reason: AssignReason) -> Assignment:
    now = clock.now()
    item.state = WorkState.ASSIGNED.value
    item.assigned_to = agent.user_id
    item.assigned_at = now
    item.assignments = (item.assignments or 0) + 1
    agent.last_assigned_at = now
    agent.assigned_total = (agent.assigned_total or 0) + 1
    result = Assignment(WorkKind(item.kind), item.ref, agent.user_id, item.group_key, reason.value, item.assignments)
    session.flush()
    return result


def announce(
    session: Session,
    made: list[Assignment],
    *,
    by_user_id: int | None = None,
    from_user_id: int | None = None,
    note: str = "",
) -> list[Assignment]:
    """Publish the assignments no caller receives (see the module's docstring); returns them.
    A supervisor's move says who made it, from whom, and why."""
    for assignment in made:
        publish_event(
            session,
            # Field by field on purpose: WorkAssigned's own fields; look-alikes elsewhere build others'.
            WorkAssigned(
                kind=assignment.kind.value,
                ref=assignment.ref,
                user_id=assignment.user_id,
                group_key=assignment.group_key,
                reason=assignment.reason,
                by_user_id=by_user_id,
                from_user_id=from_user_id,
                note=note,
            ),
            f"{TOPIC_ASSIGNED}:{assignment.kind.value}:{assignment.ref}:{assignment.nth}",
        )
    return made


def fits_now(repo: RoutingRepository, agent: AgentProfile, work: WaitingWork) -> bool:
    """Eligibility checked again on the locked row with a fresh count."""
    load = {work.kind.value: repo.load_of(agent.user_id, work.kind)}
    return domain.eligible(work, snapshot(agent, {work.group_key}, load))


def lock_agents(repo: RoutingRepository, user_ids: Iterable[int | None]) -> dict[int, AgentProfile]:
    """Lock agent rows in user-id order, the one order every use case follows."""
    locked: dict[int, AgentProfile] = {}
    for user_id in sorted({u for u in user_ids if u is not None}):
        profile = repo.lock_profile(user_id)
        if profile is not None:
            locked[user_id] = profile
    return locked


def try_assign(
    session: Session,
    repo: RoutingRepository,
    item: WorkItem,
    reason: AssignReason,
    also_lock: int | None = None,
) -> Assignment | None:
    """Give `item` to the best agent who fits now, or leave it waiting."""
    work = waiting(item)
    candidates = {p.user_id: p for p in repo.online_members_of(item.group_key)}
    while candidates:
        loads = repo.loads(candidates)
        snapshots = [snapshot(p, {item.group_key}, loads.get(uid, {})) for uid, p in candidates.items()]
        chosen = domain.choose_agent(work, snapshots)
        if chosen is None:
            return None
        agent = lock_agents(repo, [chosen, also_lock]).get(chosen)
        if agent is not None and fits_now(repo, agent, work):
            return assign(session, item, agent, reason)
        candidates.pop(chosen)  # filled up or went away meanwhile: ask the next one
    return None


def fill(session: Session, repo: RoutingRepository, agent: AgentProfile) -> list[Assignment]:
    """An agent freed up (locked by the caller): give them the best waiting work that fits,
    as much as their capacity allows."""
    if agent.status != AgentStatus.ONLINE.value:
        return []
    groups = repo.group_keys_of([agent.id])[agent.id]
    made: list[Assignment] = []
    while True:
        snap = snapshot(agent, groups, repo.loads([agent.user_id]).get(agent.user_id, {}))
        kinds = [k for k in WorkKind if snap.has_room(k)]
        rows = repo.waiting_for(groups, kinds)
        by_ref = {(r.kind, r.ref): r for r in rows}
        progressed = False
        for work in domain.queue_order(waiting(r) for r in rows):
            if not domain.eligible(work, snap):
                continue
            item = repo.claim_queued(by_ref[(work.kind.value, work.ref)].id)
            if item is None:
                continue  # another agent took it a moment ago
            made.append(assign(session, item, agent, AssignReason.FREED))
            snap = snap.took(work.kind, clock.now())
            progressed = True
        if not progressed or len(rows) < PULL_WINDOW:
            return made
