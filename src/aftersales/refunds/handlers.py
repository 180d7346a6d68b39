"""Outbox subscriptions of the refunds context: a requested refund is executed by the worker."""

from __future__ import annotations

from aftersales.db.uow import configured_database
from aftersales.messaging.outbox import on
from aftersales.refunds import gateway, service, tasks
from aftersales.refunds.events import RefundRequested

_registered = False


def handle_refund_requested(event: RefundRequested, _key: str) -> None:
    service.process_refund(configured_database(), event.refund_id)


def register() -> None:
    """Subscribe the handlers and connect the simulator to its confirmation task. Idempotent: the
    web app, the worker and tests may all call it."""
    global _registered
    if _registered:
        return
    gateway.set_confirmation_scheduler(tasks.schedule_confirmation)
    on(RefundRequested, handle_refund_requested)
    _registered = True
