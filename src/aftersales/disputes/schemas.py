"""What the disputes context takes in and gives out (API bodies and page data)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from aftersales.disputes.domain import AppealResult, Awaiting, EvidenceKind, Liability, Outcome


class EscalateIn(BaseModel):
    case_number: str = Field(max_length=24)
    claim: str = Field(min_length=1, max_length=2000, description="what the buyer asks the platform to decide")


class EvidenceIn(BaseModel):
    kind: EvidenceKind = EvidenceKind.OTHER
    text: str = Field(default="", max_length=4000)


class AcceptIn(BaseModel):
    awaiting: Awaiting = Awaiting.BOTH
    note: str = Field(default="", max_length=2000)


class RequestEvidenceIn(BaseModel):
    awaiting: Awaiting
    note: str = Field(min_length=1, max_length=2000)


class RuleIn(BaseModel):
    liability: Liability
    outcome: Outcome
    reasons: str = Field(min_length=1, max_length=4000)
    evidence_ids: list[int] = Field(min_length=1, max_length=100)
    amount: Decimal | None = Field(default=None, description="a partial refund's amount (at most what was paid)")
    version: int | None = None


class NoteIn(BaseModel):
    note: str = Field(min_length=1, max_length=2000)


class AppealDecisionIn(BaseModel):
    result: AppealResult
    note: str = Field(min_length=1, max_length=2000)


class EvidenceFileOut(BaseModel):
    name: str
    sha256: str
    content_type: str
    size: int


class EvidenceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    party: str
    kind: str
    round: int
    text: str
    files: list[EvidenceFileOut]
    data: dict[str, Any]
    added_by: str
    added_at: datetime


class DisputeEventOut(BaseModel):
    action: str
    from_state: str | None
    to_state: str | None
    actor_kind: str
    actor_name: str
    reason: str
    occurred_at: datetime


class DisputeSummary(BaseModel):
    number: str
    case_number: str
    order_number: str
    status: str
    awaiting: str
    round: int
    currency: str
    paid: Decimal
    deadline_at: datetime | None
    overdue: bool
    senior: bool
    created_at: datetime


class DisputeOut(DisputeSummary):
    version: int
    claim: str
    order_total: Decimal
    liability: str
    outcome: str
    award: Decimal | None
    reasons: str
    ruling_evidence: list[int]
    ruled_by: str
    ruled_at: datetime | None
    funding: str
    appeal_result: str
    appeal_due_at: datetime | None
    closed_at: datetime | None
    retain_until: datetime | None
    evidence: list[EvidenceOut]
    timeline: list[DisputeEventOut]
    next_actions: list[str]
    # The viewer's own side owes evidence in this round.
    owes_evidence: bool


class DepositEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: str
    amount: Decimal
    note: str
    at: datetime


class DepositOut(BaseModel):
    merchant_id: int
    currency: str
    balance: Decimal
    receivable: Decimal
    entries: list[DepositEntryOut]
