"""Reactions of the tickets context to other contexts' events (delivered by the outbox)."""

from __future__ import annotations

from typing import Any

from aftersales.config import get_settings
from aftersales.db.uow import Database
from aftersales.messaging.outbox import subscribe
from aftersales.tickets import service
from aftersales.tickets.email import replies

_registered = False


def _db() -> Database:
    return Database(get_settings().database_url)


def _sla_warning(payload: dict[str, Any], _key: str) -> None:
    service.on_sla_warning(_db(), int(payload["subject_id"]), str(payload.get("metric", "")))


def _sla_breached(payload: dict[str, Any], key: str) -> None:
    service.on_sla_breached(_db(), int(payload["subject_id"]), str(payload.get("metric", "")), key)


def _assigned(payload: dict[str, Any], _key: str) -> None:
    if payload.get("kind") == "ticket":
        user_id = payload.get("user_id")
        service.on_assigned(
            _db(), str(payload["ref"]), int(user_id) if user_id else None, str(payload.get("group_key", ""))
        )


def _public_reply(payload: dict[str, Any], key: str) -> None:
    """An agent's public reply on an email ticket goes to the requester by SMTP, once per event
    (replies.send_reply; it raises to have the outbox try again while the relay is away)."""
    if payload.get("channel") == "email" and payload.get("message_id"):
        replies.send_reply(_db(), int(payload["message_id"]), key)


def register() -> None:
    global _registered
    if not _registered:
        subscribe("sla.warning", _sla_warning)
        subscribe("sla.breached", _sla_breached)
        subscribe("routing.assigned", _assigned)
        subscribe("tickets.public_reply", _public_reply)
        _registered = True
