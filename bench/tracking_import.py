"""Benchmark of the tracking import: 10,000 carrier scans in payloads of the five formats, on SQLite.

    .venv/bin/python bench/tracking_import.py                     # 1,000 parcels × 10 scans, fresh SQLite file
    .venv/bin/python bench/tracking_import.py --parcels 200 --replays 1

A fresh database is migrated; one merchant's orders, each with one shipment, are sent through the
orders service (one transaction, not timed). Each parcel gets one payload of its format (EasyPost,
AfterShip, 17TRACK, Shippo, Cainiao in turn) carrying 10 scans, built like the fixtures in
tests/data/carriers. Timed: `import_payload` on every payload (read from memory, mapped, recorded,
one transaction each) — first import, then `--replays` rounds of the same payloads, which add
nothing. Figures: scans per second on the first import and payloads per second on the replays.
Measured, not asserted: nothing here runs in the test suite.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import structlog

from aftersales.db.engine import dispose_all
from aftersales.db.migrate import upgrade
from aftersales.db.uow import Database
from aftersales.integrations.tracking_import import import_payload
from aftersales.kit.access import Principal, Role
from aftersales.orders import service as orders
from aftersales.orders.domain import MerchantKind
from aftersales.orders.schemas import MerchantIn, OrderIn, ProductIn, SkuIn

T0 = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
FEED = Principal(user_id=0, username="bench", role=Role.INTEGRATION, display_name="bench feed")
FORMATS = ["easypost", "aftership", "17track", "shippo", "cainiao"]
SCANS = 10


def _times(i: int) -> list[datetime]:
    start = T0 + timedelta(hours=1 + i % 48)
    return [start + timedelta(hours=6 * k) for k in range(SCANS)]


def payload(fmt: str, number: str, i: int) -> Any:
    """Ten scans along the way (label, pick-up, hubs, out for delivery, delivered) in the format."""
    times = _times(i)
    if fmt == "easypost":
        codes = (
            [("pre_transit", "label_created"), ("in_transit", "received_at_origin_facility")]
            + [("in_transit", "departed_facility" if k % 2 else "arrived_at_facility") for k in range(6)]
            + [("out_for_delivery", "out_for_delivery"), ("delivered", "arrived_at_destination")]
        )
        details = [
            {"status": s, "status_detail": d, "datetime": t.isoformat(), "message": d,
             "tracking_location": {"city": f"CITY {k}", "state": "NY", "country": "US"}}
            for k, ((s, d), t) in enumerate(zip(codes, times, strict=True))
        ]  # fmt: skip
        tracker = {"object": "Tracker", "tracking_code": number, "carrier": "USPS", "tracking_details": details}
        return {"object": "Event", "description": "tracker.updated", "result": tracker}
    if fmt == "aftership":
        subtags = (
            ["InfoReceived_001", "InTransit_002"]
            + ["InTransit_007" if k % 2 else "InTransit_003" for k in range(6)]
            + ["OutForDelivery_001", "Delivered_001"]
        )
        points = [
            {"tag": s.split("_")[0], "subtag": s,
             "checkpoint_time": (t + timedelta(hours=8)).replace(tzinfo=None).isoformat(),  # China, zone-less
             "country_iso3": "CHN", "location": f"Hub {k}", "message": s}
            for k, (s, t) in enumerate(zip(subtags, times, strict=True))
        ]  # fmt: skip
        return {"event": "tracking_update", "event_id": f"e-{i}", "msg": {"tracking_number": number, "slug": "yun",
                                                                          "checkpoints": points}}  # fmt: skip
    if fmt == "17track":
        subs = (
            ["InfoReceived", "InTransit_PickedUp"]
            + ["InTransit_Departure" if k % 2 else "InTransit_Arrival" for k in range(6)]
            + ["OutForDelivery_Other", "Delivered_Other"]
        )
        events = [{"time_utc": t.isoformat(), "sub_status": s, "location": f"中心 {k}", "description": s}
                  for k, (s, t) in enumerate(zip(subs, times, strict=True))]  # fmt: skip
        return {"event": "TRACKING_UPDATED", "data": {"number": number, "carrier": 3011, "track_info": {
            "tracking": {"providers": [{"provider": {"country": "CN"}, "events": events}]}}}}  # fmt: skip
    if fmt == "shippo":
        subs = (
            [("PRE_TRANSIT", "information_received"), ("TRANSIT", "package_accepted")]
            + [("TRANSIT", "package_departed" if k % 2 else "package_arrived") for k in range(6)]
            + [("TRANSIT", "out_for_delivery"), ("DELIVERED", "delivered")]
        )
        history = [{"status": s, "substatus": {"code": c}, "status_date": t.isoformat(), "status_details": c,
                    "location": {"city": f"City {k}", "state": "AZ", "country": "US"}}
                   for k, ((s, c), t) in enumerate(zip(subs, times, strict=True))]  # fmt: skip
        return {"event": "track_updated", "data": {"tracking_number": number, "carrier": "usps",
                                                   "tracking_history": history}}  # fmt: skip
    codes = (
        ["GWMS_ACCEPT", "PU_PICKUP_SUCCESS"]
        + ["SC_OUTBOUND_SUCCESS" if k % 2 else "SC_INBOUND_SUCCESS" for k in range(6)]
        + ["GTMS_DELIVERING", "GTMS_SIGNED"]
    )
    details = [{"actionCode": c, "timeStr": t.strftime("%Y-%m-%d %H:%M:%S"),
                "timeZone": "GMT+0", "desc": c} for c, t in zip(codes, times, strict=True)]  # fmt: skip
    return {"module": [{"mailNo": number, "detailList": details}]}


def seed(db: Database, parcels: int) -> list[tuple[str, str]]:
    orders.ensure_categories(db, [("electronics", "数码电子", "Electronics")])
    orders.upsert_merchant(db, MerchantIn(code="m1", name="Bench merchant", kind=MerchantKind.POP))
    orders.upsert_product(db, ProductIn(merchant_code="m1", category_code="electronics", name="Headphones",
                                        skus=[SkuIn(code="SKU-1", price=Decimal("99.00"), stock=10**6)]))  # fmt: skip
    plan = [(FORMATS[i % len(FORMATS)], f"BT{i:010d}") for i in range(parcels)]
    steps = [
        OrderIn.model_validate({
            "number": f"BO-{i}", "version": 1, "updated_at": T0.isoformat(), "merchant_code": "m1", "status": "paid",
            "currency": "CNY", "placed_at": T0.isoformat(), "paid_at": T0.isoformat(),
            "customer": {"external_id": f"BC{i % 500}", "name": "客户", "phone": "13800138000"},
            "shipping_address": {"name": "客户", "phone": "13800138000", "region": "上海市", "detail": "1 号"},
            "lines": [{"line_no": 1, "sku": "SKU-1", "quantity": 1, "unit_price": "99.00"}], "shipping_fee": "0.00",
            "payments": [], "shipments": [{"carrier": fmt.upper()[:8], "tracking_number": number}],
        })
        for i, (fmt, number) in enumerate(plan)
    ]  # fmt: skip
    orders.import_batch(db, list(steps), FEED)
    return plan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parcels", type=int, default=1000)
    parser.add_argument("--replays", type=int, default=1)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    folder = tempfile.mkdtemp(prefix="bench-tracking-")
    url = f"sqlite:///{os.path.join(folder, 'bench.db')}"
    upgrade(url)
    db = Database(url)
    plan = seed(db, args.parcels)
    payloads = [(fmt, payload(fmt, number, i)) for i, (fmt, number) in enumerate(plan)]
    started = time.perf_counter()
    added = sum(r.new_events for fmt, body in payloads for r in import_payload(db, fmt, body))
    first = time.perf_counter() - started
    replay_seconds = []
    for _ in range(args.replays):
        started = time.perf_counter()
        again = sum(r.new_events for fmt, body in payloads for r in import_payload(db, fmt, body))
        replay_seconds.append(time.perf_counter() - started)
        assert again == 0, "a replay added scans"
    dispose_all()
    cpu = os.cpu_count()
    print(f"machine: {cpu} CPUs, {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(f"date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}")
    print(f"parcels: {args.parcels} ({', '.join(FORMATS)} in turn), scans recorded: {added}")
    print(f"first import: {first:.1f} s, {added / first:,.0f} scans/s, {len(payloads) / first:,.0f} payloads/s")
    for seconds in replay_seconds:
        rate = len(payloads) / seconds
        print(f"replay: {seconds:.1f} s, {rate:,.0f} payloads/s, {added / seconds:,.0f} scans/s seen")


if __name__ == "__main__":
    main()
