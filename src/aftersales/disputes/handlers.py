"""Reactions of the disputes context to other contexts' events (delivered by the outbox)."""

from __future__ import annotations

from aftersales.db.uow import configured_database
from aftersales.disputes import service
from aftersales.messaging.outbox import on
from aftersales.refunds.events import RefundSettled

# Same shape as cases.handlers on purpose: each context hands the events to its own service.
_registered = False


def _refund_settled(event: RefundSettled, _key: str) -> None:
    # A ruling's refund carries its dispute's case; the dispute finds it by the refund's id.
    service.on_refund_settled(configured_database(), event.refund_id, event.status == "succeeded")


def register() -> None:
    global _registered
    if not _registered:
        on(RefundSettled, _refund_settled)
        _registered = True
