"""Reactions of the assistant to the tickets context's events (delivered by the outbox): an
agent's public reply appears in the customer's chat; a solved ticket hands the chat back to the bot."""

from __future__ import annotations

from typing import Any

from aftersales.assistant import conversation
from aftersales.db.uow import configured_database
from aftersales.messaging.outbox import subscribe

_registered = False


def _public_reply(payload: dict[str, Any], _key: str) -> None:
    if payload.get("conversation_id"):
        conversation.on_agent_reply(
            configured_database(),
            int(payload["conversation_id"]),
            str(payload.get("message_id", "")),
            str(payload.get("author_name", "")),
            str(payload.get("body", "")),
            str(payload.get("ticket_number", "")),
        )


def _solved(payload: dict[str, Any], _key: str) -> None:
    if payload.get("conversation_id"):
        conversation.on_ticket_solved(
            configured_database(), int(payload["conversation_id"]), str(payload.get("ticket_number", ""))
        )


def register() -> None:
    global _registered
    if not _registered:
        subscribe("tickets.public_reply", _public_reply)
        subscribe("tickets.solved", _solved)
        _registered = True
