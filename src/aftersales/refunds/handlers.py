"""Outbox subscriptions of the refunds context: a requested refund is executed by the worker."""

from __future__ import annotations

from typing import Any

from aftersales.db.uow import configured_database
from aftersales.messaging.outbox import subscribe
from aftersales.refunds import gateway, service, tasks

_registered = False


def handle_refund_requested(payload: dict[str, Any], _key: str) -> None:
    service.process_refund(configured_database(), int(payload["refund_id"]))


def register() -> None:
    """Subscribe the handlers and connect the simulator to its confirmation task. Idempotent: the
    web app, the worker and tests may all call it."""
    global _registered
    if _registered:
        return
    gateway.set_confirmation_scheduler(tasks.schedule_confirmation)
    subscribe(service.REQUESTED_TOPIC, handle_refund_requested)
    _registered = True
