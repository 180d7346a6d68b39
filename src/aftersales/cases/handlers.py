"""Reactions of the cases context to other contexts' events (delivered by the outbox)."""

from __future__ import annotations

from typing import Any

from aftersales.cases import service
from aftersales.db.uow import configured_database
from aftersales.messaging.outbox import subscribe

_registered = False


def _refund_settled(payload: dict[str, Any], _key: str) -> None:
    if payload.get("case_id"):
        db = configured_database()
        service.on_refund_settled(db, int(payload["case_id"]), payload.get("status") == "succeeded")


def register() -> None:
    global _registered
    if not _registered:
        subscribe("refund.settled", _refund_settled)
        _registered = True
