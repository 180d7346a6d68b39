"""Huey tasks of the refunds context: the simulated gateway's delayed confirmation and the sweep
that looks up refunds whose confirmation never came."""

from __future__ import annotations

import structlog
from huey import crontab

from aftersales.db.uow import configured_database
from aftersales.kit.errors import Conflict, NotFound
from aftersales.messaging.queue import huey
from aftersales.refunds import service
from aftersales.refunds.gateway import GatewayStatus, SimulatedGateway

log = structlog.get_logger(__name__)


@huey.task(retries=5, retry_delay=10)
def confirm_gateway_refund(gateway_ref: str) -> str | None:
    """The simulated gateway finishes a refund and calls us back (a real one posts to
    /api/v1/refunds/gateway-callback). Idempotent: running it twice settles once."""
    db = configured_database()
    ack = SimulatedGateway(db).confirm(gateway_ref)
    if ack is None or not ack.final:
        return None
    try:
        service.settle(db, ack.gateway_ref, ack.status == GatewayStatus.SUCCEEDED, idempotency_key=ack.idempotency_key)
    except (NotFound, Conflict) as exc:
        log.error("gateway_sim.callback_refused", gateway_ref=gateway_ref, error=exc.message)
        return None
    return ack.status


def schedule_confirmation(gateway_ref: str, delay: float) -> None:
    """In immediate mode (tests) the confirmation runs inline; otherwise after `delay` seconds."""
    if huey.immediate or delay <= 0:
        confirm_gateway_refund(gateway_ref)
    else:
        confirm_gateway_refund.schedule((gateway_ref,), delay=delay)


@huey.periodic_task(crontab(minute="*"))
def reconcile_refunds() -> int:
    """Refunds acknowledged long ago without a confirmation are looked up at the gateway."""
    settled = service.reconcile(configured_database())
    if settled:
        log.info("refunds.reconciled", count=settled)
    return settled
