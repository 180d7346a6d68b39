"""The demo shop tells the truth about its people: the English demo customer's notices are English,
and the rider has a round to deliver whatever the hour the demo is seeded."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from rich.console import Console

from aftersales.db.uow import Database
from aftersales.demo.seed import seed_demo
from aftersales.identity import service as identity
from aftersales.kit import clock
from aftersales.orders import deliveries
from aftersales.orders import service as orders
from aftersales.routing import service as routing


def test_the_english_demo_customer_gets_her_notices_in_english(db: Database) -> None:
    seed_demo(db, customers=5, orders=12, seed=7, console=Console(file=io.StringIO()))
    emma = orders.customer_id_for(db, "C0002")
    assert emma is not None
    contact = orders.customer_contact(db, emma)
    assert contact is not None and contact.locale == "en"


@pytest.mark.parametrize("local_hour", [7, 14, 23])
def test_the_rider_has_parcels_to_deliver_whatever_the_hour_the_demo_is_seeded(db: Database, local_hour: int) -> None:
    """Seeded late in the evening, the shop's own days have delivered every parcel of the day; the
    rider who signs in still has a round: parcels out for delivery or waiting at the station, all
    in the one district the rider covers, due later than now."""
    moment = datetime(2026, 12, 5, local_hour, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    with clock.frozen_at(moment):
        seed_demo(db, customers=5, orders=12, seed=7, console=Console(file=io.StringIO()))
        rider = identity.principal_for_username(db, "rider")
        assert rider is not None
        parcels = deliveries.todays_deliveries(db, rider, ZoneInfo("Asia/Shanghai"), "/nonexistent")
    to_deliver = [p for p in parcels if p.marks]
    assert len(to_deliver) >= 2, [(p.order_number, p.status) for p in parcels]
    assert {p.address.split(" ")[0] for p in to_deliver} == {"上海市"}
    assert any(p.status == "out_for_delivery" for p in to_deliver)
    assert all(p.promised_at is not None and clock.ensure_utc(p.promised_at) > moment for p in to_deliver)


def test_every_merchant_service_queue_of_the_demo_has_its_merchants_staff(db: Database) -> None:
    seed_demo(db, customers=5, orders=12, seed=7, console=Console(file=io.StringIO()))
    board = routing.board(db)
    merchant_queues = [q for q in board.queues if q.merchant_id is not None]
    assert {q.name_zh for q in merchant_queues} >= {"Urban Style 服饰 商家客服", "贝贝母婴专营店 商家客服"}
    for queue in merchant_queues:
        staff = [a for a in board.agents if a.merchant_id == queue.merchant_id]
        assert queue.members >= 1 and staff, f"{queue.name_zh} has nobody to answer it"
