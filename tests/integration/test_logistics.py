"""Carrier scans: recording, replays, any arrival order giving one final state, who may send them."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from aftersales.db.uow import Database
from aftersales.identity import service as identity
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import NotFound
from aftersales.orders import service as orders
from aftersales.orders.models import Order, Shipment

from ..factories import FEED, T0, Factory
from .helpers import ADMIN, count_logistics_events, outbox_rows, scan, shipment, timeline_rows


@pytest.fixture
def shop(factory: Factory) -> Factory:
    factory.catalogue()
    return factory


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_a_first_scan_records_the_event_and_ships_the_order(shop: Factory, db: Database) -> None:
    shop.put_order(shipments=[shipment("SF1")])
    result = orders.record_logistics_event(db, scan("e1", "SF1", "picked_up", 60, "杭州仓"), FEED)
    assert (result.event_id, result.result, result.shipment_status, result.order_status) == (
        "e1",
        "recorded",
        "picked_up",
        "shipped",
    )
    order = orders.get_order(db, "SO-1", ADMIN)
    [parcel] = order.shipments
    assert (parcel.status, parcel.current_node, parcel.current_place) == ("picked_up", "picked_up", "杭州仓")
    assert parcel.shipped_at == parcel.events[0].occurred_at == at(60)
    assert [(e.event_id, e.node) for e in parcel.events] == [("e1", "picked_up")]


def test_a_status_change_from_a_scan_is_on_the_timeline_and_in_the_outbox(shop: Factory, db: Database) -> None:
    shop.put_order(shipments=[shipment("SF1")])
    orders.record_logistics_event(db, scan("e1", "SF1", "picked_up", 60, "杭州仓"), FEED)
    [ship_entry] = timeline_rows(db, "shipment")
    assert (ship_entry["action"], ship_entry["from_state"], ship_entry["to_state"]) == (
        "shipment.status_changed",
        "pending",
        "picked_up",
    )
    assert (ship_entry["actor_kind"], ship_entry["actor_name"]) == ("integration", "order feed")
    assert ship_entry["reason"] == "SF SF1: 杭州仓"
    last_order_entry = timeline_rows(db, "order")[-1]
    assert (last_order_entry["from_state"], last_order_entry["to_state"], last_order_entry["reason"]) == (
        "paid",
        "shipped",
        "logistics update",
    )
    assert {k: v for k, v in outbox_rows(db)[-1]["payload"].items() if k in ("order", "from", "to")} == {
        "order": "SO-1",
        "from": "paid",
        "to": "shipped",
    }


def test_a_scan_that_does_not_change_the_status_adds_no_timeline_entry(shop: Factory, db: Database) -> None:
    shop.put_order(shipments=[shipment("SF1")])
    orders.record_logistics_event(db, scan("e1", "SF1", "departed_hub", 60, "杭州"), FEED)
    entries = len(timeline_rows(db))
    messages = len(outbox_rows(db))
    orders.record_logistics_event(db, scan("e2", "SF1", "arrived_hub", 120, "上海"), FEED)
    assert len(timeline_rows(db)) == entries
    assert len(outbox_rows(db)) == messages
    assert orders.get_order(db, "SO-1", ADMIN).shipments[0].current_place == "上海"


def test_the_same_event_id_twice_is_a_duplicate_and_adds_nothing(shop: Factory, db: Database) -> None:
    shop.put_order(shipments=[shipment("SF1")])
    first = orders.record_logistics_event(db, scan("e1", "SF1", "picked_up", 60), FEED)
    before = orders.get_order(db, "SO-1", ADMIN)
    entries, messages = len(timeline_rows(db)), len(outbox_rows(db))

    # Same id, even with different content: the first delivery wins.
    again = orders.record_logistics_event(db, scan("e1", "SF1", "delivered", 90), FEED)
    assert again.result == "duplicate"
    assert (again.shipment_status, again.order_status) == (first.shipment_status, first.order_status)
    assert count_logistics_events(db) == 1
    assert len(timeline_rows(db)) == entries
    assert len(outbox_rows(db)) == messages
    assert orders.get_order(db, "SO-1", ADMIN) == before


def test_all_shipments_delivered_delivers_the_order_at_the_last_delivery(shop: Factory, db: Database) -> None:
    shop.put_order(shipments=[shipment("SF1"), shipment("SF2")])
    orders.record_logistics_event(db, scan("a", "SF1", "delivered", 300), FEED)
    assert orders.get_order(db, "SO-1", ADMIN).status == "shipped"
    orders.record_logistics_event(db, scan("b", "SF2", "delivered", 200), FEED)
    order = orders.get_order(db, "SO-1", ADMIN)
    assert order.status == "delivered"
    assert order.delivered_at == at(300)


def test_scans_for_a_cancelled_order_leave_it_cancelled(shop: Factory, db: Database) -> None:
    shop.put_order(status="cancelled", shipments=[shipment("SF1")])
    result = orders.record_logistics_event(db, scan("e1", "SF1", "delivered", 60), FEED)
    assert (result.shipment_status, result.order_status) == ("delivered", "cancelled")


def test_an_unknown_tracking_number_is_not_found(shop: Factory, db: Database) -> None:
    with pytest.raises(NotFound, match="No shipment with carrier 'SF' and tracking number 'NOPE'"):
        orders.record_logistics_event(db, scan("e1", "NOPE", "picked_up", 60), FEED)
    assert count_logistics_events(db) == 0


def test_the_carrier_is_part_of_the_tracking_key(shop: Factory, db: Database) -> None:
    shop.put_order(shipments=[shipment("T1", carrier="SF")])
    with pytest.raises(NotFound):
        orders.record_logistics_event(db, scan("e1", "T1", "picked_up", 60, carrier="JD"), FEED)


def test_only_the_assigned_rider_may_scan_a_shipment(shop: Factory, db: Database) -> None:
    rider = identity.principal_for_user_id(db, shop.user("rider-wang", Role.RIDER).id)
    other = identity.principal_for_user_id(db, shop.user("rider-zhao", Role.RIDER).id)
    assert rider is not None and other is not None
    shop.put_order(shipments=[shipment("SF1", rider="rider-wang")])
    with pytest.raises(NotFound, match="not assigned to you"):
        orders.record_logistics_event(db, scan("e1", "SF1", "out_for_delivery", 60), other)
    result = orders.record_logistics_event(db, scan("e1", "SF1", "out_for_delivery", 60), rider)
    assert result.result == "recorded"
    assert timeline_rows(db, "shipment")[-1]["actor_name"] == "rider-wang"


def test_merchant_bound_writers_cannot_scan_another_merchants_parcel(shop: Factory, db: Database) -> None:
    shop.put_order(merchant="pop-a", shipments=[shipment("SF1")])
    pop_b = orders.merchant_id_for(db, "pop-b")
    for role in (Role.INTEGRATION, Role.WAREHOUSE, Role.MERCHANT):
        outsider = Principal(user_id=9, username=f"{role.value}-b", role=role, merchant_id=pop_b)
        with pytest.raises(NotFound):
            orders.record_logistics_event(db, scan(f"e-{role.value}", "SF1", "picked_up", 60), outsider)
    assert count_logistics_events(db) == 0
    pop_a = orders.merchant_id_for(db, "pop-a")
    own = Principal(user_id=10, username="wh-a", role=Role.WAREHOUSE, merchant_id=pop_a)
    assert orders.record_logistics_event(db, scan("e-own", "SF1", "picked_up", 60), own).result == "recorded"


def test_a_later_revision_without_shipped_at_keeps_the_shipped_time_from_scans(shop: Factory, db: Database) -> None:
    shop.put_order(shipments=[shipment("SF1")])
    orders.record_logistics_event(db, scan("e1", "SF1", "picked_up", 60), FEED)
    shop.put_order(version=2, status="shipped", shipments=[shipment("SF1")])
    assert orders.get_order(db, "SO-1", ADMIN).shipments[0].shipped_at == at(60)


# --- any arrival order, one final state ---------------------------------------------------------
# (name, parcel, node, minutes after T0, place); a6 is a late hub scan after the parcel was signed for.
PARCEL_A = [
    ("a1", "A", "picked_up", 0, "杭州仓"),
    ("a2", "A", "departed_hub", 60, "杭州转运中心"),
    ("a3", "A", "arrived_station", 300, "浦东站"),
    ("a4", "A", "out_for_delivery", 360, "浦东站"),
    ("a5", "A", "delivered", 420, "门口"),
    ("a6", "A", "arrived_hub", 480, "上海转运中心"),
]
B_DELIVERED = [
    ("b1", "B", "picked_up", 30, "苏州仓"),
    ("b2", "B", "arrived_hub", 200, "上海"),
    ("b3", "B", "delivered", 500, "前台"),
]
B_STUCK = [
    ("b1", "B", "picked_up", 30, "苏州仓"),
    ("b2", "B", "exception", 200, "破损"),
    ("b3", "B", "arrived_hub", 150, "上海"),
]
EXPECTED: dict[str, dict[str, Any]] = {
    "both_delivered": {
        "order": ("delivered", at(500)),
        "A": ("delivered", "delivered", "门口", at(420), at(480)),
        "B": ("delivered", "delivered", "前台", at(500), at(500)),
    },
    "one_parcel_stuck": {
        "order": ("shipped", None),
        "A": ("delivered", "delivered", "门口", at(420), at(480)),
        "B": ("exception", "exception", "破损", None, at(200)),
    },
}
SCENARIOS = {"both_delivered": PARCEL_A + B_DELIVERED, "one_parcel_stuck": PARCEL_A + B_STUCK}


def permutations_of(events: list[Any], count: int, seed: int) -> list[list[Any]]:
    rng = random.Random(seed)
    chosen = [sorted(events, key=lambda e: e[3]), sorted(events, key=lambda e: e[3], reverse=True)]
    while len(chosen) < count:
        shuffled = events[:]
        rng.shuffle(shuffled)
        chosen.append(shuffled)
    return chosen


def replay(shop: Factory, db: Database, run: int, events: list[Any]) -> dict[str, Any]:
    """Send the events on a fresh order and tracking numbers, then read back the final state."""
    tracking = {"A": f"A-{run}", "B": f"B-{run}"}
    number = f"SO-R{run}"
    shop.put_order(number=number, shipments=[shipment(tracking["A"]), shipment(tracking["B"])])
    for name, parcel, node, minutes, place in events:
        orders.record_logistics_event(db, scan(f"{run}-{name}", tracking[parcel], node, minutes, place), FEED)
    order = orders.get_order(db, number, ADMIN)
    by_tracking = {s.tracking_number: s for s in order.shipments}
    state: dict[str, Any] = {"order": (order.status, order.delivered_at)}
    stmt = select(Shipment.tracking_number, Shipment.last_event_at).join(Order).where(Order.number == number)
    with db.read() as uow:
        last_scan = {tracking_number: last for tracking_number, last in uow.session.execute(stmt)}
    for parcel, number_ in tracking.items():
        s = by_tracking[number_]
        state[parcel] = (s.status, s.current_node, s.current_place, s.delivered_at, last_scan[number_])
        state[f"{parcel}-shipped_at"] = s.shipped_at
    return state


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_any_arrival_order_gives_the_same_final_state(shop: Factory, db: Database, scenario: str) -> None:
    runs = permutations_of(SCENARIOS[scenario], count=7, seed=20261101)
    states = [replay(shop, db, run, events) for run, events in enumerate(runs)]
    expected = EXPECTED[scenario]
    for run, state in enumerate(states):
        assert state["order"] == expected["order"], f"run {run}: {[e[0] for e in runs[run]]}"
        assert state["A"] == expected["A"], f"run {run}: {[e[0] for e in runs[run]]}"
        assert state["B"] == expected["B"], f"run {run}: {[e[0] for e in runs[run]]}"


def test_shipped_at_is_the_earliest_scan_whatever_the_arrival_order(shop: Factory, db: Database) -> None:
    runs = permutations_of(SCENARIOS["both_delivered"], count=4, seed=7)
    states = [replay(shop, db, run, events) for run, events in enumerate(runs)]
    assert {(s["A-shipped_at"], s["B-shipped_at"]) for s in states} == {(at(0), at(30))}
