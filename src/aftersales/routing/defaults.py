"""The routing defaults file (data/defaults.yaml) checked entry by entry. Pure: no database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aftersales.routing.domain import Tier, capacity_problem, skills_problem

STAFF_ROLES = ("agent_t1", "agent_t2", "supervisor", "merchant")


class DefaultsError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class GroupSpec:
    key: str
    name_zh: str
    name_en: str
    tier: Tier
    skills: tuple[str, ...]
    escalation: str | None
    merchant_id: int | None = None


@dataclass(frozen=True, slots=True)
class MerchantQueueSpec:
    key_prefix: str
    name_zh: str
    name_en: str
    tier: Tier
    escalation: str | None

    def for_merchant(self, merchant_id: int, code: str, name: str) -> GroupSpec:
        return GroupSpec(
            key=f"{self.key_prefix}{code}"[:64],
            name_zh=self.name_zh.format(name=name)[:120],
            name_en=self.name_en.format(name=name)[:120],
            tier=self.tier,
            skills=(),
            escalation=self.escalation,
            merchant_id=merchant_id,
        )


@dataclass(frozen=True, slots=True)
class AgentSpec:
    tier: Tier
    max_chats: int
    max_tickets: int
    skills: tuple[str, ...]
    groups: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Defaults:
    groups: tuple[GroupSpec, ...]
    merchant_queue: MerchantQueueSpec
    agents: dict[str, AgentSpec]


def _tier(value: Any, where: str) -> Tier:
    try:
        return Tier(str(value))
    except ValueError as exc:
        raise DefaultsError(f"{where}: tier must be one of {', '.join(t.value for t in Tier)}") from exc


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DefaultsError(f"{where}: give a list of words")
    return tuple(value)


def parse_defaults(data: Any) -> Defaults:
    if not isinstance(data, dict):
        raise DefaultsError("the routing defaults must be a mapping with groups, merchant_queue and agents")
    groups: list[GroupSpec] = []
    for n, entry in enumerate(data.get("groups") or []):
        where = f"groups[{n}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("key"), str):
            raise DefaultsError(f"{where}: each group needs a key")
        skills = _strings(entry.get("skills"), f"{where}.skills")
        if problem := skills_problem(skills):
            raise DefaultsError(f"{where}: {problem}")
        groups.append(
            GroupSpec(
                key=entry["key"],
                name_zh=str(entry.get("name_zh") or entry["key"]),
                name_en=str(entry.get("name_en") or entry["key"]),
                tier=_tier(entry.get("tier"), where),
                skills=skills,
                escalation=entry.get("escalation") or None,
            )
        )
    keys = [g.key for g in groups]
    if len(set(keys)) != len(keys):
        raise DefaultsError("groups: every key must be unique")
    mq = data.get("merchant_queue") or {}
    merchant_queue = MerchantQueueSpec(
        key_prefix=str(mq.get("key_prefix", "merchant-")),
        name_zh=str(mq.get("name_zh", "{name}")),
        name_en=str(mq.get("name_en", "{name}")),
        tier=_tier(mq.get("tier", "t1"), "merchant_queue"),
        escalation=mq.get("escalation") or None,
    )
    agents: dict[str, AgentSpec] = {}
    for role, entry in (data.get("agents") or {}).items():
        where = f"agents.{role}"
        if role not in STAFF_ROLES:
            raise DefaultsError(f"{where}: profiles are made only for {', '.join(STAFF_ROLES)}")
        spec = AgentSpec(
            tier=_tier(entry.get("tier"), where),
            max_chats=int(entry.get("max_chats", 5)),
            max_tickets=int(entry.get("max_tickets", 20)),
            skills=_strings(entry.get("skills"), f"{where}.skills"),
            groups=_strings(entry.get("groups"), f"{where}.groups"),
        )
        if problem := capacity_problem(spec.max_chats, spec.max_tickets) or skills_problem(spec.skills):
            raise DefaultsError(f"{where}: {problem}")
        unknown = [g for g in spec.groups if g not in keys]
        if unknown:
            raise DefaultsError(f"{where}: unknown groups {', '.join(unknown)}")
        agents[role] = spec
    for group in groups:
        if group.escalation and group.escalation not in keys:
            raise DefaultsError(f"group {group.key}: escalation group '{group.escalation}' is not defined")
    if merchant_queue.escalation and merchant_queue.escalation not in keys:
        raise DefaultsError(f"merchant_queue: escalation group '{merchant_queue.escalation}' is not defined")
    return Defaults(groups=tuple(groups), merchant_queue=merchant_queue, agents=agents)
