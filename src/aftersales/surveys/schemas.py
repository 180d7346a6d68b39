"""What the survey pages and the supervisors' report show."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from aftersales.surveys.domain import Summary


@dataclass(frozen=True, slots=True)
class SurveyOut:
    id: int
    subject_type: str
    subject_ref: str
    status: str
    channel: str
    order_number: str
    due_at: datetime
    sent_at: datetime | None
    expires_at: datetime | None
    answered_at: datetime | None
    result: int | None
    speed: int | None
    attitude: int | None
    reason_tags: list[str] = field(default_factory=list)
    comment: str = ""
    agent_names: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class AgentLine:
    agent_id: int
    name: str
    summary: Summary


@dataclass(frozen=True, slots=True)
class CsatReport:
    since: datetime
    until: datetime
    total: Summary
    agents: list[AgentLine]
    recent: list[SurveyOut]
