"""Reactions of the assistant to the tickets context's events (delivered by the outbox): an
agent's public reply appears in the customer's chat; a solved ticket hands the chat back to the bot.

The assistant does not import tickets (an import-linter contract), so it reads these events as
stored (outbox.on_topic); their classes are tickets.events.PublicReplied and TicketSolved."""

from __future__ import annotations

from aftersales.assistant import conversation
from aftersales.db.uow import configured_database
from aftersales.kit.events import StoredEvent
from aftersales.messaging.outbox import on_topic

_registered = False


def _public_reply(event: StoredEvent, _key: str) -> None:
    fields = event.fields
    if fields.get("conversation_id"):
        conversation.on_agent_reply(
            configured_database(),
            int(fields["conversation_id"]),
            str(fields.get("message_id", "")),
            str(fields.get("author_name", "")),
            str(fields.get("body", "")),
            str(fields.get("ticket_number", "")),
        )


def _solved(event: StoredEvent, _key: str) -> None:
    fields = event.fields
    if fields.get("conversation_id"):
        conversation.on_ticket_solved(
            configured_database(), int(fields["conversation_id"]), str(fields.get("ticket_number", ""))
        )


def register() -> None:
    global _registered
    if not _registered:
        on_topic("tickets.public_reply", _public_reply)
        on_topic("tickets.solved", _solved)
        _registered = True
