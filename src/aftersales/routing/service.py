"""Use cases of routing. The tickets and chat contexts call `enqueue`, `release`, `transfer`,
`escalate`, `reassign`, `set_status` inside their own transaction (a SQLAlchemy Session); pages
and the CLI call the Database-level functions further down. An assignment the caller receives as
its result is not published again; the others are announced as "routing.assigned" (assigning.py).

How capacity holds with several workers at once: see assigning.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import yaml
from sqlalchemy.orm import Session

from aftersales.db.uow import Database
from aftersales.identity import service as identity
from aftersales.kit import clock
from aftersales.kit.access import Principal
from aftersales.kit.errors import Conflict, Invalid, NotFound
from aftersales.orders import service as orders
from aftersales.orders.domain import MerchantKind
from aftersales.routing import assigning, domain
from aftersales.routing.defaults import AgentSpec, Defaults, DefaultsError, GroupSpec, parse_defaults
from aftersales.routing.domain import (
    AgentStatus,
    Assignment,
    AssignReason,
    MoveKind,
    Placement,
    RoutableWork,
    Tier,
    WorkKind,
    WorkState,
)
from aftersales.routing.models import AgentProfile, GroupMembership, SkillGroup, WorkItem, WorkTransfer
from aftersales.routing.repository import RoutingRepository
from aftersales.routing.schemas import AgentLoad, Board, GroupOption
from aftersales.routing.views import (
    agent_merchant_id,
    agents_overview,
    escalation_group,
    group_snapshots,
    profile,
    queues_overview,
    work_for,
    work_view,
)
from aftersales.timeline import service as timeline
from aftersales.timeline.domain import Entry, SubjectType, actor_of

__all__ = [
    "AgentStatus",
    "Assignment",
    "Placement",
    "RoutableWork",
    "WorkKind",
    "agents_overview",
    "change_status",
    "enqueue",
    "ensure_defaults",
    "escalate",
    "escalation_group",
    "place",
    "profile",
    "queues_overview",
    "reassign",
    "release",
    "set_status",
    "transfer",
    "update_agent",
    "work_for",
]

DEFAULTS_PATH = Path(__file__).parent / "data" / "defaults.yaml"
TOPIC_ASSIGNED = assigning.TOPIC_ASSIGNED
MAX_REF = 64
MAX_REASON = 2000


# --- the API other contexts call inside their transaction -------------------------------------------
def _kind(kind: WorkKind | str) -> WorkKind:
    try:
        return domain.work_kind(kind)
    except ValueError as exc:
        raise Invalid(str(exc).capitalize() + ".") from exc


def _check_ref(ref: str) -> str:
    ref = ref.strip()
    if not ref or len(ref) > MAX_REF:
        raise Invalid(f"A routed item needs a reference of 1 to {MAX_REF} characters (a ticket number or chat id).")
    return ref


def enqueue(session: Session, work: RoutableWork) -> Assignment | None:
    """Place new work (see place) and say only who took it, if anyone."""
    return place(session, work).assignment


def place(session: Session, work: RoutableWork) -> Placement:
    """Place new work: choose its group, then give it to an agent who fits, or let it wait.
    Sending the same open work again changes nothing (it returns its current placement)."""
    ref = _check_ref(work.ref)
    repo = RoutingRepository(session)
    if work.group_key and repo.group(work.group_key) is None:
        raise Invalid(f"There is no routing group '{work.group_key}'.")
    kind, skills = _kind(work.kind), work.skills
    if problem := domain.skills_problem(skills):
        raise Invalid(problem)
    item = repo.work(kind, ref, lock=True)
    if item is not None and item.state != WorkState.DONE.value:
        return Placement(item.group_key, _current(item))
    group_key = domain.pick_group(work, group_snapshots(repo))
    now = clock.now()
    if item is None:
        item = WorkItem(kind=kind.value, ref=ref, assignments=0)
        repo.add(item)
    # A finished item that comes back (a reopened ticket) queues again as new work.
    item.group_key = group_key
    item.required_skills = sorted(skills)
    item.priority = work.rank
    item.vip = work.vip
    item.order_value = work.order_value
    item.merchant_id = work.merchant_id
    item.category = (work.category or None) and work.category[:64]
    item.problem_type = (work.problem_type or None) and work.problem_type[:64]
    item.state = WorkState.QUEUED.value
    item.enqueued_at = now
    item.assigned_to = None
    item.assigned_at = None
    item.done_at = None
    item.passed_over = []
    repo.flush()
    return Placement(item.group_key, assigning.try_assign(session, repo, item, AssignReason.ARRIVAL))


def _current(item: WorkItem) -> Assignment | None:
    if item.state != WorkState.ASSIGNED.value or item.assigned_to is None:
        return None
    return Assignment(WorkKind(item.kind), item.ref, item.assigned_to, item.group_key, "current", item.assignments)


def release(session: Session, kind: WorkKind | str, ref: str) -> list[Assignment]:
    """The work is done or closed: free the agent's capacity and give them the next waiting work.
    Releasing unknown or already finished work changes nothing."""
    repo = RoutingRepository(session)
    item = repo.work(_kind(kind), ref, lock=True)
    if item is None or item.state == WorkState.DONE.value:
        return []
    holder = item.assigned_to if item.state == WorkState.ASSIGNED.value else None
    item.state = WorkState.DONE.value
    item.done_at = clock.now()
    repo.flush()
    agent = assigning.lock_agents(repo, [holder]).get(holder) if holder is not None else None
    return assigning.fill(session, repo, agent) if agent is not None else []


def set_status(session: Session, user_id: int, status: AgentStatus) -> list[Assignment]:
    """Online agents get work; going online pulls the best waiting work that fits."""
    repo = RoutingRepository(session)
    agent = repo.lock_profile(user_id)
    if agent is None:
        raise NotFound(f"User #{user_id} has no routing profile; an administrator can add one on /admin/routing.")
    if agent.status != status.value:
        agent.status = status.value
        agent.status_changed_at = clock.now()
        repo.flush()
    return assigning.announce(session, assigning.fill(session, repo, agent) if status is AgentStatus.ONLINE else [])


def _open_item(repo: RoutingRepository, kind_or_name: WorkKind | str, ref: str) -> WorkItem:
    kind = _kind(kind_or_name)
    item = repo.work(kind, ref, lock=True)
    if item is None:
        raise NotFound(f"No routed {kind.value} '{ref}'.")
    if item.state == WorkState.DONE.value:
        raise Conflict(f"The {kind.value} '{ref}' is already finished; it cannot change hands.")
    return item


def _reason(reason: str, what: str) -> str:
    reason = reason.strip()
    if not reason:
        raise Invalid(f"Give a reason for the {what}; the next person reads it with the history.")
    return reason[:MAX_REASON]


def _refuse_unfit(repo: RoutingRepository, agent: AgentProfile, kind: WorkKind) -> None:
    name = agent.display_name or agent.username or f"#{agent.user_id}"
    if agent.status != AgentStatus.ONLINE.value:
        raise Conflict(f"{name} is {agent.status}; only online agents can take work. Choose another agent.")
    load = repo.load_of(agent.user_id, kind)
    capacity = agent.max_chats if kind is WorkKind.CHAT else agent.max_tickets
    if load >= capacity:
        raise Conflict(f"{name} is full: {load} of {capacity} {kind.value}s open. Choose another agent or wait.")


def _refuse_other_side(session: Session, repo: RoutingRepository, agent: AgentProfile, group_key: str) -> None:
    group = repo.group(group_key)
    group_merchant = group.merchant_id if group is not None else None
    if not domain.may_work_in(agent_merchant_id(session, agent.user_id), group_merchant):
        name = agent.display_name or agent.username or f"#{agent.user_id}"
        if group_merchant is None:
            raise Conflict(f"{name} works for a merchant; work in a platform queue goes to platform staff only.")
        raise Conflict(f"{name} is not staff of this merchant; work in a merchant's queue goes to its own staff only.")


def _record(
    repo: RoutingRepository,
    item: WorkItem,
    move: MoveKind,
    from_user: int | None,
    from_group: str,
    reason: str,
    by: int,
) -> WorkTransfer:
    # Field by field on purpose: WorkTransfer's own fields; look-alikes elsewhere build others'.
    row = WorkTransfer(
        work_id=item.id,
        move=move.value,
        from_user_id=from_user,
        to_user_id=None,
        from_group=from_group,
        to_group=item.group_key,
        reason=reason,
        by_user_id=by or None,
        at=clock.now(),
    )
    repo.add(row)
    return row


def _move(
    session: Session,
    item: WorkItem,
    move: MoveKind,
    *,
    to_user_id: int | None,
    to_group: str | None,
    reason: str,
    by_user_id: int,
) -> Placement:
    repo = RoutingRepository(session)
    if to_group is not None and repo.group(to_group) is None:
        raise NotFound(f"There is no routing group '{to_group}'.")
    kind = WorkKind(item.kind)
    holder = item.assigned_to if item.state == WorkState.ASSIGNED.value else None
    if to_user_id is not None and to_user_id == holder:
        raise Conflict("The work is already with this agent; choose someone else.")
    from_group = item.group_key
    assignment: Assignment | None
    if to_user_id is not None:
        locked = assigning.lock_agents(repo, [to_user_id, holder])
        target = locked.get(to_user_id)
        if target is None:
            raise NotFound(f"User #{to_user_id} has no routing profile, so they cannot take work.")
        _refuse_unfit(repo, target, kind)
        _refuse_other_side(session, repo, target, to_group or item.group_key)
        item.group_key = to_group or item.group_key
        item.passed_over = []  # a person chosen by name may take it, whoever had it before
        transfer_row = _record(repo, item, move, holder, from_group, reason, by_user_id)
        assignment = assigning.assign(session, item, target, AssignReason(move.value))
        transfer_row.to_user_id = target.user_id
    else:
        item.group_key = to_group or item.group_key
        item.state, item.assigned_to, item.assigned_at = WorkState.QUEUED.value, None, None
        transfer_row = _record(repo, item, move, holder, from_group, reason, by_user_id)
        repo.flush()
        # Someone else: the agent it comes from does not get it straight back.
        if holder is not None:
            item.passed_over = sorted({*(item.passed_over or []), holder})
        assignment = assigning.try_assign(session, repo, item, AssignReason(move.value), also_lock=holder)
        transfer_row.to_user_id = assignment.user_id if assignment else None
    if holder is not None:
        freed = assigning.lock_agents(repo, [holder]).get(holder)
        if freed is not None:
            assigning.announce(session, assigning.fill(session, repo, freed))
    return Placement(item.group_key, assignment)


def transfer(
    session: Session,
    kind: WorkKind | str,
    ref: str,
    *,
    to_user_id: int | None = None,
    to_group: str | None = None,
    reason: str,
    by_user_id: int,
) -> Placement:
    """Hand work to a person or a group with a reason; the ticket or chat keeps its whole context.
    To a group, it goes to the best agent there (not back to the sender) or waits."""
    reason = _reason(reason, "transfer")
    if to_user_id is None and to_group is None:
        raise Invalid("Choose an agent or a group to transfer to.")
    item = _open_item(RoutingRepository(session), kind, ref)
    return _move(
        session, item, MoveKind.TRANSFER, to_user_id=to_user_id, to_group=to_group, reason=reason, by_user_id=by_user_id
    )


def escalate(session: Session, kind: WorkKind | str, ref: str, reason: str, by_user_id: int) -> Placement:
    """Move work to its group's escalation group: tier 1 to tier 2, a merchant's queue to the platform."""
    reason = _reason(reason, "escalation")
    repo = RoutingRepository(session)
    item = _open_item(repo, kind, ref)
    group = repo.group(item.group_key)
    if group is None or not group.escalation_key:
        raise Conflict(
            f"The queue '{item.group_key}' has no escalation group; transfer the work to a person or a group instead."
        )
    return _move(
        session,
        item,
        MoveKind.ESCALATE,
        to_user_id=None,
        to_group=group.escalation_key,
        reason=reason,
        by_user_id=by_user_id,
    )


def reassign(
    session: Session, kind: WorkKind | str, ref: str, to_user_id: int, by_user_id: int, reason: str = ""
) -> Assignment:
    """A supervisor gives work to a chosen agent; refused when that agent is offline, away or full."""
    item = _open_item(RoutingRepository(session), kind, ref)
    assignment = _move(
        session,
        item,
        MoveKind.REASSIGN,
        to_user_id=to_user_id,
        to_group=None,
        reason=reason.strip()[:MAX_REASON] or "reassigned by a supervisor",
        by_user_id=by_user_id,
    ).assignment
    assert assignment is not None  # a move to a person assigns or raises
    return assignment


# --- for pages and the CLI: each in its own unit of work ------------------------------------------
def board(db: Database, limit: int = 50) -> Board:
    with db.read() as uow:
        repo = RoutingRepository(uow.session)
        agents, queues = agents_overview(uow.session), queues_overview(uow.session)
        work = [work_view(repo, w, with_history=False) for w in repo.open_work(limit)]
        group_merchant = {q.key: q.merchant_id for q in queues}
        candidates = {
            f"{w.kind}:{w.ref}": [
                a.user_id
                for a in agents
                if a.user_id != w.assigned_to and domain.may_work_in(a.merchant_id, group_merchant.get(w.group_key))
            ]
            for w in work
        }
        return Board(agents=agents, queues=queues, open_work=work, now=clock.now(), candidates=candidates)


def my_profile(db: Database, user_id: int) -> AgentLoad | None:
    with db.read() as uow:
        return profile(uow.session, user_id)


def group_options(db: Database) -> list[GroupOption]:
    with db.read() as uow:
        return [GroupOption(g.key, g.name_zh, g.name_en, g.tier) for g in RoutingRepository(uow.session).groups()]


def group_names(db: Database, lang: str) -> dict[str, str]:
    """Each skill group's name in the reader's language, by key: pages show names, never keys."""
    return {g.key: g.name_zh if lang == "zh-CN" else g.name_en for g in group_options(db)}


def supervisor_reassign(db: Database, kind: WorkKind | str, ref: str, to_user_id: int, by: Principal) -> Assignment:
    with db.write() as uow:
        item = _open_item(RoutingRepository(uow.session), kind, ref)
        holder = item.assigned_to if item.state == WorkState.ASSIGNED.value else None
        result = reassign(uow.session, kind, ref, to_user_id, by.user_id)
        assigning.announce(uow.session, [result], by_user_id=by.user_id, from_user_id=holder)
        uow.commit()
        return result


def change_status(db: Database, principal: Principal, status: AgentStatus) -> list[Assignment]:
    """The agent's own status switch; staff without a profile get one from the defaults."""
    defaults = read_defaults()
    with db.write() as uow:
        repo = RoutingRepository(uow.session)
        if repo.profile(principal.user_id) is None:
            spec = defaults.agents.get(principal.role.value)
            if spec is None:
                raise Conflict(f"A {principal.role.value} account does not take routed work.")
            _new_profile(
                repo, principal.user_id, principal.username, principal.display_name, principal.merchant_id, spec
            )
            repo.flush()
        made = set_status(uow.session, principal.user_id, status)
        uow.commit()
        return made


# --- administration: defaults, profiles, an agent's settings ---------------------------------------
def read_defaults(path: Path | None = None) -> Defaults:
    target = path or DEFAULTS_PATH
    try:
        return parse_defaults(yaml.safe_load(target.read_text(encoding="utf-8")))
    except OSError as exc:
        raise DefaultsError(f"{target}: cannot read the routing defaults ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise DefaultsError(f"{target}: not valid YAML: {exc}") from exc


def _add_group(repo: RoutingRepository, spec: GroupSpec) -> SkillGroup:
    # Field by field on purpose: SkillGroup's own fields; look-alikes elsewhere build others'.
    group = SkillGroup(
        key=spec.key,
        name_zh=spec.name_zh,
        name_en=spec.name_en,
        tier=spec.tier.value,
        skills=list(spec.skills),
        merchant_id=spec.merchant_id,
        escalation_key=spec.escalation,
        created_at=clock.now(),
    )
    repo.add(group)
    return group


def _new_profile(
    repo: RoutingRepository,
    user_id: int,
    username: str,
    display_name: str,
    merchant_id: int | None,
    spec: AgentSpec,
) -> AgentProfile:
    agent = AgentProfile(
        user_id=user_id,
        username=username[:40],
        display_name=(display_name or username)[:120],
        tier=spec.tier.value,
        status=AgentStatus.OFFLINE.value,
        status_changed_at=clock.now(),
        max_chats=spec.max_chats,
        max_tickets=spec.max_tickets,
        skills=list(spec.skills),
        assigned_total=0,
    )
    repo.add(agent)
    repo.flush()
    keys = list(spec.groups)
    if merchant_id is not None:
        keys += [g.key for g in repo.groups() if g.merchant_id == merchant_id]
    for group in repo.groups_by_keys(keys):
        repo.add(GroupMembership(group_id=group.id, agent_id=agent.id))
    return agent


def ensure_defaults(db: Database, path: Path | None = None) -> dict[str, int]:
    """Add the default groups, a queue per POP merchant, and a profile for every staff account
    that has none. Idempotent; what an administrator changed stays as it is."""
    defaults = read_defaults(path)
    merchants = [m for m in orders.list_merchants(db) if m.kind == MerchantKind.POP.value]
    staff = [u for u in identity.list_users(db) if u.active and u.role.value in defaults.agents]
    made = {"groups": 0, "profiles": 0}
    with db.write() as uow:
        repo = RoutingRepository(uow.session)
        existing = {g.key: g for g in repo.groups()}
        taken_merchants = {g.merchant_id for g in existing.values() if g.merchant_id is not None}
        specs = list(defaults.groups) + [
            defaults.merchant_queue.for_merchant(m.id, m.code, m.name) for m in merchants if m.id not in taken_merchants
        ]
        for spec in specs:
            if spec.key not in existing:
                existing[spec.key] = _add_group(repo, spec)
                made["groups"] += 1
        repo.flush()
        for user in staff:
            found = repo.profile(user.id)
            if found is None:
                agent_spec = defaults.agents[user.role.value]
                _new_profile(repo, user.id, user.username, user.display_name, user.merchant_id, agent_spec)
                made["profiles"] += 1
            elif (found.username, found.display_name) != (user.username, user.display_name):
                found.username, found.display_name = user.username, user.display_name
        uow.commit()
    return made


def update_agent(
    db: Database,
    user_id: int,
    *,
    tier: Tier,
    skills: list[str],
    groups: list[str],
    max_chats: int,
    max_tickets: int,
    version: int | None,
    by: Principal,
) -> AgentLoad:
    """An administrator changes an agent's tier, skills, groups and capacities. A stale version
    (someone saved in between) is refused; more room or new groups pull waiting work at once."""
    if problem := domain.capacity_problem(max_chats, max_tickets) or domain.skills_problem(skills):
        raise Invalid(problem)
    with db.write() as uow:
        repo = RoutingRepository(uow.session)
        agent = repo.lock_profile(user_id)
        if agent is None:
            raise NotFound(f"User #{user_id} has no routing profile.")
        if version is not None and version != agent.version:
            raise Conflict(
                "Someone changed this agent's settings after you opened the page; reload it and make your change again."
            )
        wanted = repo.groups_by_keys(groups)
        unknown = sorted(set(groups) - {g.key for g in wanted})
        if unknown:
            raise Invalid(f"Unknown routing groups: {', '.join(unknown)}.")
        before = _settings(agent, repo.group_keys_of([agent.id])[agent.id])
        agent.tier, agent.skills = tier.value, skills
        agent.max_chats, agent.max_tickets = max_chats, max_tickets
        current = {m.group_id: m for m in repo.memberships_of(agent.id)}
        for group_id, membership in current.items():
            if group_id not in {g.id for g in wanted}:
                repo.remove(membership)
        for group in wanted:
            if group.id not in current:
                repo.add(GroupMembership(group_id=group.id, agent_id=agent.id))
        agent.version += 1
        repo.flush()
        after = _settings(agent, set(groups))
        # Same Entry shape as other contexts' timeline lines on purpose: each records its own subject.
        timeline.record(
            uow.session,
            Entry(
                subject_type=SubjectType.USER,
                subject_id=agent.user_id,
                action="routing.agent_changed",
                actor=actor_of(by, admin_change=True),
                occurred_at=clock.now(),
                from_state=_short(before),
                to_state=_short(after),
                reason=agent.username,
                evidence={"before": before, "after": after},
                customer_visible=False,
            ),
        )
        assigning.fill(uow.session, repo, agent)
        uow.commit()
        result = profile(uow.session, user_id)
        assert result is not None
        return result


def _settings(agent: AgentProfile, groups: Iterable[str]) -> dict[str, object]:
    return {
        "tier": agent.tier,
        "max_chats": agent.max_chats,
        "max_tickets": agent.max_tickets,
        "skills": list(agent.skills or []),
        "groups": sorted(groups),
    }


def _short(settings: dict[str, object]) -> str:
    """Fits the audit log's state column; the whole settings go in the entry's evidence."""
    return f"{settings['tier']} chats {settings['max_chats']} tickets {settings['max_tickets']}"[:48]
