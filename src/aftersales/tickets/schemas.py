"""Tickets in and out: what the API, the web form, the bot's hand-off and the mail gateway submit."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from aftersales.tickets.domain import Channel, MessageKind, Priority, TicketAction, TicketStatus, TicketType

Text = Annotated[str, Field(max_length=20_000)]


class TicketIn(BaseModel):
    """A new ticket from the web form, the API or an agent's phone note."""

    model_config = ConfigDict(extra="forbid")

    subject: Annotated[str, Field(max_length=200)] = ""
    body: Annotated[str, Field(min_length=1, max_length=20_000)]
    channel: Channel = Channel.API
    order_number: Annotated[str, Field(max_length=64)] = ""
    case_number: Annotated[str, Field(max_length=24)] = ""
    requester_name: Annotated[str, Field(max_length=120)] = ""
    requester_email: Annotated[str, Field(max_length=254, pattern=r"^([^@\s]+@[^@\s]+\.[^@\s]+)?$")] = ""
    requester_phone: Annotated[str, Field(max_length=32, pattern=r"^[0-9+\-() ]*$")] = ""
    ticket_type: TicketType | None = Field(default=None, description="left empty, it is classified from the text")
    priority: Priority | None = Field(default=None, description="left empty, the priority policies decide")
    tags: list[Annotated[str, Field(min_length=1, max_length=80)]] = Field(default_factory=list, max_length=20)

    @field_validator("channel")
    @classmethod
    def _channel_has_its_own_door(cls, value: Channel) -> Channel:
        if value in (Channel.EMAIL, Channel.CHAT):
            raise ValueError(
                "email and chat tickets arrive through the mail gateway and the chat; use web, api or phone"
            )
        return value


class Intake(BaseModel):
    """Everything a ticket starts from, whatever the channel (internal, after validation)."""

    subject: str
    body: str
    channel: Channel
    customer_id: int | None = None
    requester_name: str = ""
    requester_email: str = ""
    requester_phone: str = ""
    order_number: str = ""
    case_number: str = ""
    conversation_id: int | None = None
    intent: str = ""
    entities: dict[str, Any] = Field(default_factory=dict)
    ticket_type: TicketType | None = None
    priority: Priority | None = None
    tags: list[str] = Field(default_factory=list)
    external_key: str | None = None
    email_message_id: str | None = None
    author_name: str = ""


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: Annotated[str, Field(min_length=1, max_length=20_000)]
    kind: MessageKind = MessageKind.REPLY
    then: TicketStatus | None = Field(default=None, description="status after a reply: open, pending or solved")
    version: int | None = None

    @field_validator("kind")
    @classmethod
    def _staff_kinds(cls, value: MessageKind) -> MessageKind:
        if value not in (MessageKind.REPLY, MessageKind.NOTE, MessageKind.CUSTOMER):
            raise ValueError("kind must be reply, note or customer")
        return value


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: TicketAction
    reason: Annotated[str, Field(max_length=500)] = ""
    assignee_user_id: int | None = None
    group_key: Annotated[str, Field(max_length=64)] = ""
    merge_into: Annotated[str, Field(max_length=24)] = ""
    # Merging the tickets of two different customers must be confirmed on purpose.
    confirm_other_customer: bool = False
    version: int | None = None


class ClassificationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    responsibility: Annotated[str, Field(min_length=1, max_length=16)]
    scenario: Annotated[str, Field(min_length=1, max_length=40)]
    ticket_type: TicketType | None = None
    priority: Priority | None = None
    version: int | None = None


class AttachmentOut(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    url: str


class MessageOut(BaseModel):
    id: int
    kind: MessageKind
    channel: Channel
    author_name: str
    body: str
    created_at: datetime
    attachments: list[AttachmentOut] = Field(default_factory=list)
    # A received email: its sender's address and the receiving MTA's checks (staff only), the failed
    # ones listed apart ("dmarc=fail").
    email_from: str = ""
    email_auth: dict[str, str] = Field(default_factory=dict)
    email_auth_failures: list[str] = Field(default_factory=list)


class ClockOut(BaseModel):
    metric: str
    status: str
    target_at: datetime | None
    warn_at: datetime | None
    seconds_left: int | None = None


class TicketSummary(BaseModel):
    number: str
    subject: str
    status: TicketStatus
    ticket_type: TicketType
    priority: Priority
    channel: Channel
    requester_name: str
    order_number: str
    case_number: str
    responsibility: str
    scenario: str
    assignee_user_id: int | None
    assignee_name: str = ""
    group_key: str
    vip: bool
    escalated: bool
    created_at: datetime
    updated_at: datetime
    clocks: list[ClockOut] = Field(default_factory=list)


class TicketOut(TicketSummary):
    version: int
    customer_id: int | None
    requester_email: str
    requester_phone: str
    requester_verified: bool = True  # False: an unverified contact (see Ticket.requester_verified)
    conversation_id: int | None
    confidence: float
    auto_classification: dict[str, Any]
    priority_reasons: list[dict[str, str]]
    intent: str
    entities: dict[str, Any]
    order_value: Decimal | None
    tags: list[str]
    merged_into: str = ""
    first_response_at: datetime | None
    solved_at: datetime | None
    messages: list[MessageOut]
    links: list[str] = Field(default_factory=list)
    allowed_actions: list[TicketAction] = Field(default_factory=list)


class TicketPage(BaseModel):
    items: list[TicketSummary]
    total: int
    page: int
    size: int


class SurveyFacts(BaseModel):
    """What the surveys context reads of a solved ticket: whom to ask, by which channel, and whom an
    answer credits (every agent who replied in public)."""

    ticket_id: int
    number: str
    channel: str
    status: str
    customer_id: int | None
    merchant_id: int | None
    order_number: str
    case_number: str
    solved_at: datetime | None
    agent_ids: list[int]
