"""Data the benchmarks need, written through the real services (run in a child process whose
environment names the benchmark's database: AFTERSALES_DATABASE_URL).

    python -c "from bench.seed_shop import intake_orders; intake_orders('BN', 1000, 50)"
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

from aftersales.config import get_settings
from aftersales.db.uow import Database
from aftersales.identity import service as identity
from aftersales.kit import clock
from aftersales.kit.access import Principal, Role
from aftersales.orders import service as orders
from aftersales.orders.domain import LogisticsNode, MerchantKind, OrderStatus
from aftersales.orders.schemas import (
    AddressIn,
    CustomerIn,
    LogisticsEventIn,
    MerchantIn,
    OrderIn,
    OrderLineIn,
    PaymentIn,
    ProductIn,
    ShipmentIn,
    SkuIn,
)

FEED = Principal(user_id=0, username="bench-feed", role=Role.INTEGRATION, display_name="bench order feed")
PRICE = Decimal("99.00")
CUSTOMERS = 500


def _db() -> Database:
    return Database(get_settings().database_url)


def catalogue(db: Database) -> None:
    orders.ensure_categories(db, [("electronics", "数码电子", "Electronics")])
    orders.upsert_merchant(db, MerchantIn(code="bench-shop", name="Bench shop", kind=MerchantKind.SELF_OPERATED))
    orders.upsert_product(
        db,
        ProductIn(
            merchant_code="bench-shop",
            category_code="electronics",
            name="Bench headphones",
            skus=[SkuIn(code="BENCH-1", price=PRICE, stock=1_000_000)],
        ),
    )


def delivered_order(number: str, customer: int, quantity: int) -> tuple[OrderIn, list[LogisticsEventIn]]:
    """A paid order of `quantity` units, delivered two days ago: every unit can be returned."""
    now = clock.now()
    placed, delivered = now - timedelta(days=5), now - timedelta(days=2)
    name, phone = f"Bench customer {customer}", f"139{customer:08d}"
    tracking = f"BT{number}"
    order = OrderIn(
        number=number,
        version=1,
        updated_at=placed + timedelta(minutes=5),
        merchant_code="bench-shop",
        status=OrderStatus.PAID,
        placed_at=placed,
        paid_at=placed + timedelta(minutes=1),
        customer=CustomerIn(external_id=f"BC{customer:05d}", name=name, phone=phone),
        shipping_address=AddressIn(name=name, phone=phone, region="上海市 浦东新区", detail="世纪大道 100 号"),
        lines=[OrderLineIn(line_no=1, sku="BENCH-1", quantity=quantity, unit_price=PRICE)],
        payments=[
            PaymentIn(
                reference=f"P{number}", method="alipay", amount=PRICE * quantity, paid_at=placed + timedelta(minutes=1)
            )
        ],
        shipments=[ShipmentIn(carrier="SF", tracking_number=tracking)],
    )
    scans = [
        LogisticsEventIn(
            event_id=f"{tracking}-{n}",
            carrier="SF",
            tracking_number=tracking,
            node=node,
            occurred_at=at,
            place="上海",
        )
        for n, (node, at) in enumerate(
            ((LogisticsNode.PICKED_UP, placed + timedelta(hours=6)), (LogisticsNode.DELIVERED, delivered))
        )
    ]
    return order, scans


def intake_orders(prefix: str, count: int, quantity: int) -> None:
    """`count` delivered orders numbered f"{prefix}{n:05d}", `quantity` units each."""
    db = _db()
    catalogue(db)
    for n in range(count):
        order, scans = delivered_order(f"{prefix}{n:05d}", n % CUSTOMERS, quantity)
        orders.upsert_order(db, order, FEED)
        for scan in scans:
            orders.record_logistics_event(db, scan, FEED)


def token(username: str, role: str = "admin") -> None:
    """Prints {"token": ...} for a new (or existing) account."""
    db = _db()
    if identity.principal_for_username(db, username) is None:
        identity.create_user(db, username=username, password="bench-password-123", role=Role(role))  # noqa: S106
    print(json.dumps({"token": identity.create_token(db, username, name="bench").token}))


def order_numbers(limit: int) -> None:
    """Prints the numbers of up to `limit` orders, for page views."""
    from sqlalchemy import select

    from aftersales.orders.models import Order

    with _db().read() as uow:
        numbers = list(uow.session.scalars(select(Order.number).order_by(Order.id).limit(limit)))
    print(json.dumps(numbers))
