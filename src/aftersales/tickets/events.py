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
    # Whom and what about: the outreach governor keeps proactive messages about the order quiet
    # for a while after an agent's contact (notifications.handlers).
    customer_id: int | None = None
    order_number: str = ""
