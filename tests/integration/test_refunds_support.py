"""Builders shared by the refunds tests (no tests here): paid orders, refund requests, and a gateway
that records what reached it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from aftersales.db.uow import Database
from aftersales.orders import service as orders
from aftersales.orders.models import Order
from aftersales.orders.schemas import OrderIn
from aftersales.refunds import service as refunds
from aftersales.refunds.gateway import GatewayAck, GatewayUnavailable, SimulatedGateway
from aftersales.refunds.models import GatewayRefund, Refund
from aftersales.refunds.schemas import RefundOut

from ..factories import FEED, T0, Factory


def paid_order(
    db: Database,
    number: str = "SO-R1",
    *,
    lines: list[dict[str, Any]] | None = None,
    shipping: str = "0.00",
    discount: str = "0.00",
    paid: bool = True,
    customer: str = "C1",
    merchant: str = "selfop",
) -> int:
    """An order (default: 2 × 199.00 = 398.00) paid with one payment; returns its id."""
    payload = Factory.order_payload(number, lines=lines, customer=customer, merchant=merchant)
    payload["shipping_fee"] = shipping
    payload["discount_total"] = discount
    if paid:
        goods = sum(Decimal(line["unit_price"]) * line["quantity"] for line in payload["lines"])
        payload["payments"] = [
            {
                "reference": f"PAY-{number}",
                "method": "alipay",
                "amount": str(goods + Decimal(shipping) - Decimal(discount)),
                "paid_at": (T0 + timedelta(minutes=1)).isoformat(),
            }
        ]
    orders.upsert_order(db, OrderIn.model_validate(payload), FEED)
    with db.read() as uow:
        order_id = uow.session.scalar(select(Order.id).where(Order.number == number))
    assert order_id is not None
    return order_id


def request(
    db: Database, order_id: int, amount: str, key: str, *, number: str = "SO-R1", case_id: int | None = None
) -> RefundOut:
    with db.write() as uow:
        out = refunds.request_refund(
            uow.session,
            order_id=order_id,
            order_number=number,
            case_id=case_id,
            amount=Decimal(amount),
            currency="CNY",
            reason="test refund",
            idempotency_key=key,
        )
        uow.commit()
        return out


def refund_row(db: Database, refund_id: int) -> Refund:
    with db.read() as uow:
        refund = uow.session.get(Refund, refund_id)
        assert refund is not None
        return refund


def ledger(db: Database) -> list[GatewayRefund]:
    with db.read() as uow:
        return list(uow.session.scalars(select(GatewayRefund).order_by(GatewayRefund.id)))


def held_gateway(db: Database, **kwargs: Any) -> SimulatedGateway:
    """A simulator whose confirmation never comes by itself (the test confirms or reconciles)."""
    return SimulatedGateway(db, scheduler=lambda _ref, _delay: None, **kwargs)


@dataclass
class Recording:
    """Wraps a gateway and counts the submissions that reached it."""

    inner: Any
    calls: list[str] = field(default_factory=list)
    down: bool = False

    def submit(self, idempotency_key: str, payment_reference: str, amount: Decimal, currency: str) -> GatewayAck:
        self.calls.append(idempotency_key)
        if self.down:
            raise GatewayUnavailable("connection refused (test)")
        ack: GatewayAck = self.inner.submit(idempotency_key, payment_reference, amount, currency)
        return ack

    def lookup(self, idempotency_key: str) -> GatewayAck | None:
        ack: GatewayAck | None = self.inner.lookup(idempotency_key)
        return ack
