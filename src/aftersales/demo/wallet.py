"""Demo wallet: every delivery late against its frozen promise compensated at the moment it was
delivered (as the worker does when the order-delivered event arrives), a typhoon declared force
majeure in Guangdong some weeks ago, and a goodwill coupon an agent gave the demo customer 李娜."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from aftersales.db.uow import Database
from aftersales.identity import service as identity
from aftersales.kit import clock
from aftersales.kit.errors import AppError
from aftersales.orders import service as shop
from aftersales.wallet import service as wallet
from aftersales.wallet.schemas import ForceMajeureIn, OfferIn

from .history import History
from .timing import living_the_past

DEMO_CUSTOMER = "C0001"  # 李娜, the customer account of the demo


def seed_wallet(db: Database, history: History) -> tuple[int, int]:
    """(late deliveries compensated, coupons given by agents)."""
    declared = history.now - timedelta(days=20)
    supervisor = identity.principal_for_username(db, "supervisor")
    if supervisor is not None:
        with clock.frozen_at(declared):
            wallet.declare_force_majeure(
                db,
                ForceMajeureIn(
                    region="广东",
                    starts_at=declared - timedelta(days=2),
                    ends_at=declared,
                    reason="台风登陆广东，全省快递暂停揽派两天",
                ),
                supervisor,
            )
    compensated = 0
    with living_the_past(db):
        for order in sorted(history.delivered(), key=lambda o: o.delivered_at or history.now):
            with db.read() as uow:
                order_id = shop.order_id_in(uow.session, order.number)
            if order_id is None or order.delivered_at is None:
                continue
            with clock.frozen_at(order.delivered_at + timedelta(minutes=2)):
                outcome = wallet.compensate_late_delivery(db, order_id)
            compensated += outcome.outcome != "none"
        given = _goodwill(db, history)
    return compensated, given


def _goodwill(db: Database, history: History) -> int:
    """An agent's coupon to 李娜 on her latest delivered order, a day after it came."""
    agent = identity.principal_for_username(db, "agent1")
    mine = [o for o in history.delivered() if o.customer.external_id == DEMO_CUSTOMER and o.delivered_at]
    if agent is None or not mine:
        return 0
    latest = max(mine, key=lambda o: o.delivered_at or history.now)
    assert latest.delivered_at is not None
    offer = OfferIn(order_number=latest.number, amount=Decimal("10.00"), reason="包装破损给您添麻烦了，送您一张券致歉")
    try:
        with clock.frozen_at(min(latest.delivered_at + timedelta(days=1), history.now)):
            wallet.offer_coupon(db, offer, agent)
    except AppError:
        return 0  # seeded twice: the order's coupon is there already
    return 1
