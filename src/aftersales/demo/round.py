"""The rider's round today: a few self-operated parcels in the warehouse's city, on the way to
their customers at whatever hour the demo is seeded (the shop's own 60 days may have delivered
every parcel of the day by the evening, and a rider who signs in should have parcels to deliver).

They are paid a few hours before the seeding, so the delivery promise (same day before the cut-off,
else the next day) is still ahead of them; their scans follow the same nodes as every other parcel.
They draw from their own random generator, so the rest of the shop stays as it was."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

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

from .catalogue import CITIES, HUBS, RIDER_CITY, scan_places

# How far each parcel of the round has come: out for delivery, or at the station waiting for the rider.
ROUND = (LogisticsNode.OUT_FOR_DELIVERY, LogisticsNode.OUT_FOR_DELIVERY, LogisticsNode.ARRIVED_STATION)
# The self-operated goods a rider carries (no fresh food: it travels by the cold chain).
GOODS = (("AK-65W", Decimal("199.00")), ("LG-MX3S", Decimal("749.00")), ("BK-3BODY", Decimal("93.00")))


def todays_round(
    first: int, people: list[CustomerIn], now: datetime, zone: ZoneInfo, seed: int
) -> list[OrderIn | LogisticsEventIn]:
    """Order revisions and scans of the round's parcels, in the order they happened. `first` is the
    first free order index (numbers stay unique next to the shop's own)."""
    rng = random.Random(seed * 7919 + 1)
    region = next(r for r, city in CITIES if city == RIDER_CITY)
    hub = HUBS[RIDER_CITY]
    customers = [p for p in people if p.external_id not in ("C0001", "C0002")] or people
    steps: list[OrderIn | LogisticsEventIn] = []
    for n, reached in enumerate(ROUND):
        customer = rng.choice(customers)
        paid_at = now - timedelta(hours=3 + n, minutes=rng.randrange(0, 50))
        placed = paid_at - timedelta(minutes=rng.randrange(1, 10))
        sku, price = GOODS[n % len(GOODS)]
        number = f"SO{placed:%y%m%d}{first + n:06d}"
        tracking = f"JD{rng.randrange(10**12):012d}"
        shipping = Decimal(0) if price >= 99 else Decimal("8.00")
        base = dict(
            number=number,
            merchant_code="selfop",
            currency="CNY",
            placed_at=placed,
            customer=customer,
            shipping_address=AddressIn(
                name=customer.name,
                phone=customer.phone or "13800000000",
                region=region,
                detail=f"{rng.randrange(1, 300)}号 {rng.randrange(1, 30)}栋 {rng.randrange(101, 2999)}室",
            ),
            lines=[OrderLineIn(line_no=1, sku=sku, quantity=1, unit_price=price)],
            shipping_fee=shipping,
            paid_at=paid_at,
            payments=[PaymentIn(reference=f"PAY{number}", method="alipay", amount=price + shipping, paid_at=paid_at)],
        )
        packed_at = paid_at + timedelta(minutes=30)
        shipment = ShipmentIn(
            carrier="JD",
            tracking_number=tracking,
            promised_at=shop.promised_delivery(True, region, paid_at, zone),
            rider="rider",
        )
        steps += [
            OrderIn(version=1, updated_at=placed, status=OrderStatus.CREATED, **base),
            OrderIn(version=2, updated_at=paid_at, status=OrderStatus.PAID, **base),
            OrderIn(version=3, updated_at=packed_at, status=OrderStatus.FULFILLING, shipments=[shipment], **base),
        ]
        places = scan_places(RIDER_CITY, hub, hub, english=customer.name.isascii())
        scans = [
            (LogisticsNode.PICKED_UP, places[0]),
            (LogisticsNode.DEPARTED_HUB, places[1]),
            (LogisticsNode.ARRIVED_STATION, places[3]),
            (LogisticsNode.OUT_FOR_DELIVERY, places[4]),
        ]
        scans = scans[: [node for node, _place in scans].index(reached) + 1]
        # From the pickup to a few minutes ago, evenly.
        start, end = packed_at + timedelta(minutes=20), now - timedelta(minutes=10 + 10 * n)
        for k, (node, place) in enumerate(scans):
            at = start + (end - start) * (k / max(len(scans) - 1, 1))
            steps.append(
                LogisticsEventIn(
                    event_id=f"{tracking}-{k}",
                    carrier="JD",
                    tracking_number=tracking,
                    node=node,
                    occurred_at=at,
                    place=place,
                )
            )
    return steps
