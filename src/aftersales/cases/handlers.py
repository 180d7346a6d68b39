"""Reactions of the cases context to other contexts' events (delivered by the outbox)."""

from __future__ import annotations

from aftersales.cases import service
from aftersales.db.uow import configured_database
from aftersales.messaging.outbox import on
from aftersales.refunds.events import RefundSettled

# Same shape as disputes.handlers on purpose: each context hands the events to its own service.
_registered = False


def _refund_settled(event: RefundSettled, _key: str) -> None:
    if event.case_id:
        service.on_refund_settled(configured_database(), event.case_id, event.status == "succeeded")


def register() -> None:
    global _registered
    if not _registered:
        on(RefundSettled, _refund_settled)
        _registered = True
