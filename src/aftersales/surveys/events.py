"""Events the surveys context publishes (through the outbox, from surveys.service only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from aftersales.kit.events import DomainEvent
from aftersales.kit.topics import CSAT_SUBMITTED, SURVEY_SENT


@dataclass(frozen=True, slots=True)
class SurveySent(DomainEvent):
    """A survey went out: notifications tells the customer (inbox and email) with its link."""

    topic: ClassVar[str] = SURVEY_SENT
    survey_id: int
    customer_id: int
    subject_type: str
    subject_ref: str
    order_number: str
    survey_link: str  # a path inside the site: /surveys/<signed token>
    expires_at: str
    occurred_at: str


@dataclass(frozen=True, slots=True)
class CsatSubmitted(DomainEvent):
    """A customer answered a survey: the scores with the dimensions reports slice them by."""

    topic: ClassVar[str] = CSAT_SUBMITTED
    survey_id: int
    subject_type: str  # ticket | case
    ticket_number: str  # "" for a case's survey
    case_number: str  # the case surveyed, or the case a ticket is about ("" when none)
    order_number: str
    customer_id: int
    merchant_id: int | None
    channel: str
    agent_ids: list[int]  # every agent who replied in public: each is credited
    result: int
    speed: int
    attitude: int
    reason_tags: list[str]
    comment: str
    sent_at: str
    answered_at: str
