"""Events the tickets context publishes (through the outbox, from tickets.workflow only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from aftersales.kit.events import DomainEvent
from aftersales.kit.topics import TICKET_PUBLIC_REPLY


@dataclass(frozen=True, slots=True)
class TicketSolved(DomainEvent):
    """A ticket was solved; a chat it came from goes back to the bot."""

    topic: ClassVar[str] = "tickets.solved"
    ticket_number: str
    conversation_id: int | None
    occurred_at: str | None = None  # ISO 8601, UTC; rows of older releases lack it


@dataclass(frozen=True, slots=True)
class PublicReplied(DomainEvent):
    """An agent answered the customer in public (by email or in the chat the ticket came from)."""

    topic: ClassVar[str] = TICKET_PUBLIC_REPLY
    ticket_number: str
    conversation_id: int | None
    message_id: int
    author_name: str
    body: str
    channel: str
    occurred_at: str | None = None  # ISO 8601, UTC; rows of older releases lack it
    author_user_id: int | None = None
    first: bool = False  # the ticket's first public reply
    # Whom and what about: the outreach governor keeps proactive messages about the order quiet
    # for a while after an agent's contact (notifications.handlers).
    customer_id: int | None = None
    order_number: str = ""


@dataclass(frozen=True, slots=True)
class TicketOpened(DomainEvent):
    """A ticket arrived (any channel); reports count contacts from it."""

    topic: ClassVar[str] = "tickets.opened"
    ticket_number: str
    ticket_id: int
    channel: str
    customer_id: int | None
    order_number: str
    occurred_at: str  # ISO 8601, UTC
    conversation_id: int | None = None  # the chat the bot handed over, if it came from one


@dataclass(frozen=True, slots=True)
class TicketReopened(DomainEvent):
    """A solved ticket opened again (the customer wrote back or an agent reopened it)."""

    topic: ClassVar[str] = "tickets.reopened"
    ticket_number: str
    ticket_id: int
    occurred_at: str  # ISO 8601, UTC
