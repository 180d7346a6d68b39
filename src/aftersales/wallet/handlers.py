"""Reactions of the wallet context to other contexts' events (delivered by the outbox).

A delivered order is checked for lateness against its frozen promise and compensated by the
policies. The handler may run again for the same event (a retried worker): the wallet pays once per
order, and an issuer that did not answer raises, so the outbox delivers the event again later.
"""

from __future__ import annotations

from aftersales.db.uow import configured_database
from aftersales.messaging.outbox import on
from aftersales.orders.events import OrderStatusChanged
from aftersales.wallet import service

_registered = False
DELIVERED = "delivered"


def on_order_status_changed(event: OrderStatusChanged, _key: str) -> None:
    if event.to_status != DELIVERED or event.from_status == DELIVERED:
        return
    service.compensate_late_delivery(configured_database(), event.order_id)


def register() -> None:
    """Subscribe the handlers; calling it again changes nothing."""
    global _registered
    if not _registered:
        on(OrderStatusChanged, on_order_status_changed)
        _registered = True
