"""Trouble the demo shop's proactive service has found: a parcel silent for days, one past its
promise, one whose delivery attempt failed, each for its own customer, and the scan that tells
them (with the few late parcels the shop's history already holds).

Added orders, not changed ones: the rest of the shop stays as the seed drew it."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from aftersales.db.uow import Database
from aftersales.kit.access import Principal
from aftersales.orders import service as shop
from aftersales.orders.domain import LogisticsNode, OrderStatus
from aftersales.orders.schemas import (
    AddressIn,
    CustomerIn,
    LogisticsEventIn,
    OrderIn,
    OrderLineIn,
    PaymentIn,
    ShipmentIn,
)
from aftersales.proactive import service as proactive
from aftersales.proactive.schemas import ScanResult

from .catalogue import HUBS

SHOP_ZONE = ZoneInfo("Asia/Shanghai")

# (number suffix, what happened, SKU, price, city, region)
TROUBLE = (
    ("STALL", "stalled", "MI-AP4", "899.00", "北京", "北京市 朝阳区"),
    ("LATE", "late", "SP-RC4", "329.00", "广州", "广东省 广州市 天河区"),
    ("FAILED", "failed", "MD-AC15", "2899.00", "杭州", "浙江省 杭州市 西湖区"),
)


def _story(n: int, what: str, sku: str, price: str, city: str, region: str, customer: CustomerIn,
           now: datetime) -> list[OrderIn | LogisticsEventIn]:  # fmt: skip
    """The order's revisions and scans: paid, packed, picked up, then the trouble."""
    paid = now - timedelta(days={"stalled": 6, "late": 3, "failed": 2}[what])
    number = f"SO{paid:%y%m%d}9{n:05d}"
    tracking = f"JD9{paid:%y%m%d}{n:05d}"
    promised = shop.promised_delivery(True, region, paid, SHOP_ZONE)
    base = dict(
        number=number, merchant_code="selfop", currency="CNY", placed_at=paid - timedelta(minutes=3),
        customer=customer, lines=[OrderLineIn(line_no=1, sku=sku, quantity=1, unit_price=Decimal(price))],
        shipping_address=AddressIn(name=customer.name, phone=customer.phone or "13800000000", region=region,
                                   detail=f"{10 + n}号 {n + 1}栋 {1201 + n}室"),
        shipping_fee=Decimal(0), discount_total=Decimal(0), paid_at=paid,
        payments=[PaymentIn(reference=f"PAY{number}", method="alipay", amount=Decimal(price), paid_at=paid)],
    )  # fmt: skip
    shipped = {**base, "shipments": [ShipmentIn(carrier="JD", tracking_number=tracking, promised_at=promised)]}
    steps: list[OrderIn | LogisticsEventIn] = [
        OrderIn(version=1, updated_at=paid, status=OrderStatus.PAID, **base),
        OrderIn(version=2, updated_at=paid + timedelta(hours=3), status=OrderStatus.FULFILLING, **shipped),
    ]
    pickup = paid + timedelta(hours=5)
    scans = [
        (LogisticsNode.PICKED_UP, pickup, "仓库揽收", ""),
        (LogisticsNode.DEPARTED_HUB, pickup + timedelta(hours=6), HUBS["上海"], ""),
    ]
    if what == "late":
        scans.append((LogisticsNode.ARRIVED_HUB, now - timedelta(hours=20), HUBS.get(city, HUBS["上海"]), ""))
    if what == "failed":
        scans += [
            (LogisticsNode.ARRIVED_STATION, now - timedelta(hours=8), f"{city}营业部", ""),
            (LogisticsNode.OUT_FOR_DELIVERY, now - timedelta(hours=5), f"{city}营业部 快递员派送中", ""),
            (LogisticsNode.EXCEPTION, now - timedelta(hours=3), f"{city}营业部", "配送未成功：收件人不在"),
        ]
    steps += [
        LogisticsEventIn(
            event_id=f"{tracking}-{i}",
            carrier="JD",
            tracking_number=tracking,
            node=node,
            occurred_at=at,
            place=place,
            description=text,
        )
        for i, (node, at, place, text) in enumerate(scans)
    ]
    return steps


def seed_trouble(db: Database, customers: list[CustomerIn], now: datetime, seeder: Principal) -> int:
    """The three troubled orders, for three customers other than the demo's two accounts."""
    steps: list[OrderIn | LogisticsEventIn] = []
    for n, ((_suffix, what, sku, price, city, region), customer) in enumerate(zip(TROUBLE, customers, strict=False)):
        steps += _story(n, what, sku, price, city, region, customer, now)
    steps.sort(key=lambda s: s.updated_at if isinstance(s, OrderIn) else s.occurred_at)
    shop.import_batch(db, steps, seeder)
    return min(len(customers), len(TROUBLE))


def scan_now(db: Database, now: datetime) -> ScanResult:
    """What the worker's periodic scan would have found by now, told to the customers."""
    return proactive.scan(db, now)
