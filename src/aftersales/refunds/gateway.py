"""The payment-gateway port, and a simulated gateway that behaves like a real one.

The simulator is "another system": it keeps its own ledger (table gateway_sim_refunds) and writes it
in its own transactions, never in ours. Like Alipay or WeChat Pay it
- refunds once per idempotency key: a resubmission returns the existing refund, and the same key
  with another amount or payment is refused;
- sometimes fails transiently, either before it took the request or after (the response is lost),
  at a configurable rate, repeatably when seeded;
- confirms asynchronously: a Huey task runs `confirm_delay` seconds after it accepted the refund
  and calls back. Amounts whose cents are .99 are declined (the simulator's failure trigger).
"""

from __future__ import annotations

import random
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

import structlog
from sqlalchemy.exc import IntegrityError

from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.refunds.domain import simulated_outcome_succeeds
from aftersales.refunds.models import GatewayRefund
from aftersales.refunds.repository import LedgerRepository
from aftersales.refunds.settings import refund_settings

log = structlog.get_logger(__name__)


# Deliberately separate: this context's own vocabulary. Enums in other contexts share the StrEnum
# shape, not the meaning; each is imported from the context that owns it.
class GatewayStatus(StrEnum):
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


# A small frozen dataclass like others on purpose: the gateway's answer, as this context reads it.
@dataclass(frozen=True, slots=True)
class GatewayAck:
    gateway_ref: str
    status: str
    idempotency_key: str = ""

    @property
    def final(self) -> bool:
        return self.status in (GatewayStatus.SUCCEEDED, GatewayStatus.FAILED)


class GatewayUnavailable(Exception):
    """Transient: the gateway could not be reached or did not answer. Try again with the same key."""


class GatewayRejected(Exception):
    """Permanent: the gateway refused the request; resending it changes nothing."""


class PaymentGateway(Protocol):
    def submit(self, idempotency_key: str, payment_reference: str, amount: Decimal, currency: str) -> GatewayAck:
        """Ask for a refund to the payment; the same key always means the same single refund."""
        ...

    def lookup(self, idempotency_key: str) -> GatewayAck | None:
        """The gateway's view of the refund with this key (its query API), or None if it has none."""
        ...


ConfirmationScheduler = Callable[[str, float], None]
_scheduler: ConfirmationScheduler | None = None


def set_confirmation_scheduler(scheduler: ConfirmationScheduler) -> None:
    """refunds.tasks provides the Huey task that confirms; wired by refunds.handlers.register()."""
    global _scheduler
    _scheduler = scheduler


class SimulatedGateway:
    def __init__(
        self,
        db: Database,
        *,
        failure_rate: float = 0.0,
        seed: int | None = None,
        confirm_delay: float = 2.0,
        latency: float = 0.0,
        scheduler: ConfirmationScheduler | None = None,
    ) -> None:
        self._db = db
        self.failure_rate = failure_rate
        self.confirm_delay = confirm_delay
        self.latency = latency
        self._scheduler = scheduler
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    # --- the API a merchant calls ---------------------------------------------------------------
    def submit(self, idempotency_key: str, payment_reference: str, amount: Decimal, currency: str) -> GatewayAck:
        with self._lock:
            draw = self._random.random()
        self._wait()
        if draw < self.failure_rate / 2:
            raise GatewayUnavailable("payment gateway timed out before it took the refund (simulated)")
        ack, created = self._record(idempotency_key, payment_reference, amount, currency)
        if created:
            self._schedule_confirmation(ack.gateway_ref)
        self._wait()
        if draw < self.failure_rate:
            raise GatewayUnavailable("payment gateway took the refund but its answer was lost (simulated)")
        return ack

    def lookup(self, idempotency_key: str) -> GatewayAck | None:
        with self._db.write() as uow:
            row = LedgerRepository(uow.session).by_key(idempotency_key)
            if row is None:
                return None
            self._finish_if_due(row)
            uow.commit()
            return _ack(row)

    # --- the gateway's own back office ----------------------------------------------------------
    def confirm(self, gateway_ref: str) -> GatewayAck | None:
        """Finish processing a refund (succeeded, or failed for .99 amounts); idempotent."""
        with self._db.write() as uow:
            row = LedgerRepository(uow.session).by_ref(gateway_ref)
            if row is None:
                return None
            self._finish(row)
            uow.commit()
            return _ack(row)

    # The same idempotency check as refunds.service on purpose: the gateway stands in for a bank and
    # keeps its own ledger, so it must not trust the service's check.
    def _record(
        self, idempotency_key: str, payment_reference: str, amount: Decimal, currency: str
    ) -> tuple[GatewayAck, bool]:
        for _ in range(2):
            try:
                with self._db.write() as uow:
                    ledger = LedgerRepository(uow.session)
                    row = ledger.by_key(idempotency_key)
                    if row is not None:
                        if (row.payment_reference, row.amount, row.currency) != (payment_reference, amount, currency):
                            raise GatewayRejected(
                                f"idempotency key {idempotency_key!r} was used for {row.amount} {row.currency} "
                                f"to {row.payment_reference}; it cannot now mean {amount} {currency} "
                                f"to {payment_reference}"
                            )
                        self._finish_if_due(row)
                        uow.commit()
                        log.info("gateway_sim.resubmission", key=idempotency_key, gateway_ref=row.gateway_ref)
                        return _ack(row), False
                    row = GatewayRefund(
                        idempotency_key=idempotency_key,
                        payment_reference=payment_reference,
                        amount=amount,
                        currency=currency,
                        status=GatewayStatus.PROCESSING.value,
                        gateway_ref=f"gwsim_{secrets.token_hex(10)}",
                        received_at=clock.now(),
                    )
                    ledger.add(row)
                    uow.commit()
                    log.info("gateway_sim.accepted", key=idempotency_key, gateway_ref=row.gateway_ref)
                    return _ack(row), True
            except IntegrityError:
                # The same key arrived twice at once; the other submission's row is the refund.
                continue
        raise GatewayUnavailable(f"payment gateway could not record refund {idempotency_key!r} (simulated)")

    def _finish_if_due(self, row: GatewayRefund) -> None:
        """A refund processing for longer than the confirmation delay is done by now, even if the
        task that confirms it was lost with a worker; a query or a resubmission sees it done."""
        if (
            row.status == GatewayStatus.PROCESSING
            and row.received_at + timedelta(seconds=self.confirm_delay) <= clock.now()
        ):
            self._finish(row)

    @staticmethod
    def _finish(row: GatewayRefund) -> None:
        if row.status != GatewayStatus.PROCESSING:
            return
        ok = simulated_outcome_succeeds(row.amount)
        row.status = (GatewayStatus.SUCCEEDED if ok else GatewayStatus.FAILED).value
        row.confirmed_at = clock.now()

    def _schedule_confirmation(self, gateway_ref: str) -> None:
        scheduler = self._scheduler or _scheduler
        if scheduler is None:
            log.warning("gateway_sim.no_scheduler", gateway_ref=gateway_ref)
            return
        try:
            scheduler(gateway_ref, self.confirm_delay)
        except Exception as exc:  # the reconciliation sweep still finds it; never lose the refund
            log.warning("gateway_sim.schedule_failed", gateway_ref=gateway_ref, error=repr(exc))

    def _wait(self) -> None:
        if self.latency > 0:
            time.sleep(self.latency / 2)


def _ack(row: GatewayRefund) -> GatewayAck:
    return GatewayAck(gateway_ref=row.gateway_ref, status=row.status, idempotency_key=row.idempotency_key)


_instances: dict[str, PaymentGateway] = {}
_instances_lock = threading.Lock()


def default_gateway(db: Database) -> PaymentGateway:
    """One gateway per database per process, so a seeded simulator's draws continue from call to call."""
    with _instances_lock:
        gateway = _instances.get(db.url)
        if gateway is None:
            settings = refund_settings()
            gateway = SimulatedGateway(
                db,
                failure_rate=settings.failure_rate,
                seed=settings.refund_gateway_seed,
                confirm_delay=settings.refund_gateway_confirm_delay_seconds,
                latency=settings.refund_gateway_latency_ms / 1000,
            )
            _instances[db.url] = gateway
        return gateway


def use_gateway(db: Database, gateway: PaymentGateway | None) -> None:
    """Install another gateway (a real adapter, a test double) for a database; None resets."""
    with _instances_lock:
        if gateway is None:
            _instances.pop(db.url, None)
        else:
            _instances[db.url] = gateway
