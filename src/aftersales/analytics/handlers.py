"""Analytics hears the events of the contexts below it (delivered by the outbox) and files each
as metric events (feeding.py). Handlers run outside any transaction and may run again for the same
event: each metric event's key makes the second run add nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from aftersales.analytics import feeding
from aftersales.cases.events import CaseStatusChanged, SelfServiceDone
from aftersales.db.uow import Database, configured_database
from aftersales.kit.events import DomainEvent
from aftersales.messaging.outbox import on
from aftersales.orders.events import OrderStatusChanged
from aftersales.refunds.events import RefundSettled
from aftersales.sla.events import SlaBreached, SlaMet
from aftersales.tickets.events import PublicReplied, TicketOpened, TicketReopened

E = TypeVar("E", bound=DomainEvent)
_registered = False


def _with_db(handler: Callable[[Database, E, str], None]) -> Callable[[E, str], None]:
    def run(event: E, key: str) -> None:
        handler(configured_database(), event, key)

    return run


def register() -> None:
    """Subscribe to every topic a metric comes from; calling it again changes nothing."""
    global _registered
    if _registered:
        return
    on(TicketOpened, _with_db(feeding.on_ticket_opened))
    on(PublicReplied, _with_db(feeding.on_public_reply))
    on(TicketReopened, _with_db(feeding.on_ticket_reopened))
    on(SlaMet, _with_db(feeding.on_sla_met))
    on(SlaBreached, _with_db(feeding.on_sla_breached))
    on(CaseStatusChanged, _with_db(feeding.on_case_status_changed))
    on(SelfServiceDone, _with_db(feeding.on_self_service_done))
    on(RefundSettled, _with_db(feeding.on_refund_settled))
    on(OrderStatusChanged, _with_db(feeding.on_order_status_changed))
    _registered = True
