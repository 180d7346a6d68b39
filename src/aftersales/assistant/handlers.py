"""Reactions of the assistant to the tickets context's events (delivered by the outbox): an
agent's public reply appears in the customer's chat; a solved ticket hands the chat back to the bot."""

from __future__ import annotations

from aftersales.assistant import conversation
from aftersales.db.uow import configured_database
from aftersales.messaging.outbox import on
from aftersales.tickets.events import PublicReplied, TicketSolved

_registered = False


def _public_reply(event: PublicReplied, _key: str) -> None:
    if event.conversation_id:
        conversation.on_agent_reply(
            configured_database(),
            event.conversation_id,
            str(event.message_id),
            event.author_name,
            event.body,
            event.ticket_number,
        )


def _solved(event: TicketSolved, _key: str) -> None:
    if event.conversation_id:
        conversation.on_ticket_solved(configured_database(), event.conversation_id, event.ticket_number)


def register() -> None:
    global _registered
    if not _registered:
        on(PublicReplied, _public_reply)
        on(TicketSolved, _solved)
        _registered = True
