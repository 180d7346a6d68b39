"""The coupon-issuer port, and a simulated issuer that behaves like the shop's coupon system.

Built like the refunds' payment gateway (refunds/gateway.py): the simulator is "another system"
with its own ledger (table coupon_issuer_sim), written in its own transactions, never in ours. Like
a real coupon platform (Youzan, Tmall 商家券, WeChat Pay 代金券) it
- issues once per idempotency key: a resubmission returns the coupon already issued, and the same
  key with another value, currency or customer is refused;
- sometimes fails transiently, before it took the request or after (the answer is lost), at a
  configurable rate, repeatably when seeded.
"""

from __future__ import annotations

import random
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

import structlog
from sqlalchemy.exc import IntegrityError

from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.wallet.models import IssuedCoupon
from aftersales.wallet.repository import IssuerLedger

log = structlog.get_logger(__name__)


# A small frozen dataclass like others on purpose: the issuer's answer, as this context reads it.
@dataclass(frozen=True, slots=True)
class IssuerAck:
    code: str
    idempotency_key: str
    expires_at: datetime


class IssuerUnavailable(Exception):
    """Transient: the issuer could not be reached or did not answer. Try again with the same key."""


class IssuerRejected(Exception):
    """Permanent: the issuer refused the request; resending it changes nothing."""


class CouponIssuer(Protocol):
    def issue(
        self, idempotency_key: str, customer_ref: str, value: Decimal, currency: str, expires_at: datetime
    ) -> IssuerAck:
        """Issue a coupon to the customer; the same key always means the same single coupon."""
        ...


class SimulatedIssuer:
    def __init__(self, db: Database, *, failure_rate: float = 0.0, seed: int | None = None) -> None:
        self._db = db
        self.failure_rate = failure_rate
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def issue(
        self, idempotency_key: str, customer_ref: str, value: Decimal, currency: str, expires_at: datetime
    ) -> IssuerAck:
        with self._lock:
            draw = self._random.random()
        if draw < self.failure_rate / 2:
            raise IssuerUnavailable("coupon issuer timed out before it took the request (simulated)")
        ack = self._record(idempotency_key, customer_ref, value, currency, expires_at)
        if draw < self.failure_rate:
            raise IssuerUnavailable("coupon issuer issued the coupon but its answer was lost (simulated)")
        return ack

    def issued_count(self) -> int:
        with self._db.read() as uow:
            return IssuerLedger(uow.session).count()

    # The same idempotency check as wallet.service on purpose: the issuer stands for another system
    # and keeps its own ledger, so it must not trust the service's check.
    def _record(
        self, idempotency_key: str, customer_ref: str, value: Decimal, currency: str, expires_at: datetime
    ) -> IssuerAck:
        for _ in range(2):
            try:
                with self._db.write() as uow:
                    ledger = IssuerLedger(uow.session)
                    row = ledger.by_key(idempotency_key)
                    if row is not None:
                        if (row.customer_ref, row.value, row.currency) != (customer_ref, value, currency):
                            raise IssuerRejected(
                                f"idempotency key {idempotency_key!r} was used for {row.value} {row.currency} "
                                f"to customer {row.customer_ref}; it cannot now mean {value} {currency} "
                                f"to customer {customer_ref}"
                            )
                        log.info("coupon_sim.resubmission", key=idempotency_key, code=row.code)
                        return _ack(row)
                    row = IssuedCoupon(
                        idempotency_key=idempotency_key,
                        customer_ref=customer_ref,
                        value=value,
                        currency=currency,
                        code=f"CPN{secrets.token_hex(8).upper()}",
                        expires_at=expires_at,
                        issued_at=clock.now(),
                    )
                    ledger.add(row)
                    uow.commit()
                    log.info("coupon_sim.issued", key=idempotency_key, code=row.code)
                    return _ack(row)
            except IntegrityError:
                continue  # the same key arrived twice at once; the other request's row is the coupon
        raise IssuerUnavailable(f"coupon issuer could not record {idempotency_key!r} (simulated)")


def _ack(row: IssuedCoupon) -> IssuerAck:
    return IssuerAck(code=row.code, idempotency_key=row.idempotency_key, expires_at=clock.ensure_utc(row.expires_at))


_instances: dict[str, CouponIssuer] = {}
_instances_lock = threading.Lock()


def default_issuer(db: Database) -> CouponIssuer:
    """One issuer per database per process (the simulator unless another was installed)."""
    with _instances_lock:
        issuer = _instances.get(db.url)
        if issuer is None:
            issuer = SimulatedIssuer(db)
            _instances[db.url] = issuer
        return issuer


def use_issuer(db: Database, issuer: CouponIssuer | None) -> None:
    """Install another issuer (a real adapter, a test's flaky one) for a database; None resets."""
    with _instances_lock:
        if issuer is None:
            _instances.pop(db.url, None)
        else:
            _instances[db.url] = issuer
