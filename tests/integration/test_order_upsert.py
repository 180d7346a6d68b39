"""Order upsert from the shop's order system: revisions, refusals, lagging feeds, timeline and outbox."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from aftersales.db.uow import Database
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import Conflict, Forbidden
from aftersales.orders import service as orders
from aftersales.orders.schemas import OrderIn, OrderOut

from ..factories import FEED, T0, Factory
from .helpers import ADMIN, STATUS_ACTIONS, outbox_rows, scan, shipment, status_entries, timeline_rows


@pytest.fixture
def shop(factory: Factory) -> Factory:
    factory.catalogue()
    return factory


def read(db: Database, number: str = "SO-1") -> OrderOut:
    return orders.get_order(db, number, ADMIN)


def test_first_revision_creates_the_order_with_lines_and_totals(shop: Factory, db: Database) -> None:
    result = shop.put_order(lines=[{"line_no": 1, "sku": "SKU-1", "quantity": 2, "unit_price": "199.00"}])
    assert (result.number, result.result, result.status, result.source_version) == ("SO-1", "created", "paid", 1)
    order = read(db)
    assert order.status == "paid"
    assert order.merchant_code == "selfop"
    assert order.customer_external_id == "C1"
    assert order.goods_total == order.payable_total == Decimal("398.00")
    assert [(line.sku_code, line.quantity, line.unit_price) for line in order.lines] == [
        ("SKU-1", 2, Decimal("199.00"))
    ]
    assert orders.count_orders(db) == 1


def test_the_same_payload_again_is_unchanged(shop: Factory, db: Database) -> None:
    shop.put_order()
    before = read(db)
    again = shop.put_order()
    assert again.result == "unchanged"
    after = read(db)
    assert after.version == before.version
    assert after.timeline == before.timeline
    assert len(outbox_rows(db)) == 1


def test_an_older_revision_is_unchanged_and_changes_nothing(shop: Factory, db: Database) -> None:
    shop.put_order(version=2, status="fulfilling", customer_name="王芳")
    before = read(db)
    older = shop.put_order(version=1, status="paid", customer_name="李娜", phone="13900000000")
    assert (older.result, older.status, older.source_version) == ("unchanged", "fulfilling", 2)
    after = read(db)
    assert after == before
    assert after.customer_name == "王芳"
    assert len(timeline_rows(db)) == 1


def test_an_older_revision_stamped_later_is_still_older(shop: Factory, db: Database) -> None:
    shop.put_order(version=2, status="fulfilling")
    late = shop.put_order(version=1, status="paid", updated_at=T0 + timedelta(days=3))
    assert late.result == "unchanged"
    assert read(db).status == "fulfilling"


def test_a_newer_revision_updates_status_lines_and_totals(shop: Factory, db: Database) -> None:
    shop.put_order()
    newer = shop.put_order(
        version=2,
        status="fulfilling",
        lines=[
            {"line_no": 1, "sku": "SKU-1", "quantity": 1, "unit_price": "199.00"},
            {"line_no": 2, "sku": "SKU-2", "quantity": 3, "unit_price": "59.90"},
        ],
    )
    assert (newer.result, newer.status, newer.source_version) == ("updated", "fulfilling", 2)
    order = read(db)
    assert order.status == "fulfilling"
    assert order.source_version == 2
    assert [line.line_no for line in order.lines] == [1, 2]
    assert order.goods_total == Decimal("378.70")  # 199.00 + 3 x 59.90, exactly


def test_same_version_with_a_later_update_time_applies(shop: Factory, db: Database) -> None:
    shop.put_order()
    result = shop.put_order(status="fulfilling", updated_at=T0 + timedelta(hours=1))
    assert result.result == "updated"
    assert read(db).status == "fulfilling"


def test_lines_missing_from_a_later_revision_are_kept(shop: Factory, db: Database) -> None:
    shop.put_order(
        lines=[
            {"line_no": 1, "sku": "SKU-1", "quantity": 1, "unit_price": "199.00"},
            {"line_no": 2, "sku": "SKU-2", "quantity": 1, "unit_price": "59.90"},
        ]
    )
    shop.put_order(version=2, lines=[{"line_no": 1, "sku": "SKU-1", "quantity": 1, "unit_price": "199.00"}])
    assert [line.line_no for line in read(db).lines] == [1, 2]


def test_unknown_merchant_is_a_conflict_naming_it(shop: Factory, db: Database) -> None:
    with pytest.raises(Conflict, match="Merchant 'nobody' is not registered"):
        shop.put_order(merchant="nobody")
    assert orders.count_orders(db) == 0


def test_unknown_sku_is_a_conflict_naming_the_sku_and_merchant(shop: Factory, db: Database) -> None:
    lines = [
        {"line_no": 1, "sku": "SKU-1", "quantity": 1, "unit_price": "199.00"},
        {"line_no": 2, "sku": "SKU-404", "quantity": 1, "unit_price": "1.00"},
    ]
    with pytest.raises(Conflict, match=r"Unknown SKU\(s\) for merchant 'selfop': SKU-404\.") as caught:
        shop.put_order(lines=lines)
    assert caught.value.status_code == 409
    assert orders.count_orders(db) == 0
    assert timeline_rows(db) == []
    assert outbox_rows(db) == []


def test_a_cancelled_order_cannot_be_paid_again(shop: Factory, db: Database) -> None:
    shop.put_order(version=1, status="paid")
    shop.put_order(version=2, status="cancelled")
    with pytest.raises(Conflict, match="Order 'SO-1' is cancelled; it cannot move to paid"):
        shop.put_order(version=3, status="paid")
    order = read(db)
    assert order.status == "cancelled"
    assert order.source_version == 2


def test_cancelling_a_delivered_order_is_a_conflict(shop: Factory, db: Database) -> None:
    shop.put_order(status="delivered")
    with pytest.raises(Conflict, match="cannot move to cancelled"):
        shop.put_order(version=2, status="cancelled")
    assert read(db).status == "delivered"


def test_a_lagging_feed_after_delivery_keeps_delivered(shop: Factory, db: Database) -> None:
    shop.put_order(shipments=[shipment("SF1")])
    orders.record_logistics_event(db, scan("e1", "SF1", "picked_up", 60), FEED)
    orders.record_logistics_event(db, scan("e2", "SF1", "delivered", 600, "门口"), FEED)
    assert read(db).status == "delivered"
    changes_before = len(status_entries(db))

    lagging = shop.put_order(version=2, status="paid", shipments=[shipment("SF1")])
    assert (lagging.result, lagging.status) == ("updated", "delivered")
    order = read(db)
    assert order.status == "delivered"
    assert order.source_version == 2
    assert order.delivered_at == T0 + timedelta(minutes=600)
    assert len(status_entries(db)) == changes_before


def test_creation_and_each_status_change_are_on_the_timeline(shop: Factory, db: Database) -> None:
    shop.put_order(version=1, status="paid")
    shop.put_order(version=2, status="paid", customer_name="李娜娜")  # no status change: no entry
    shop.put_order(version=3, status="fulfilling")
    shop.put_order(version=4, status="cancelled")
    rows = status_entries(db)
    assert [(r["action"], r["from_state"], r["to_state"]) for r in rows] == [
        ("order.created", None, "paid"),
        ("order.status_changed", "paid", "fulfilling"),
        ("order.status_changed", "fulfilling", "cancelled"),
    ]
    assert {(r["actor_kind"], r["actor_name"], r["actor_user_id"]) for r in rows} == {
        ("integration", "order feed", None)
    }
    assert [r["reason"] for r in rows] == [
        "order system revision 1",
        "order system revision 3",
        "order system revision 4",
    ]
    timeline = read(db).timeline
    assert [(e.action, e.to_state) for e in timeline if e.action in STATUS_ACTIONS] == [
        (r["action"], r["to_state"]) for r in rows
    ]


def test_an_admin_writer_is_recorded_as_a_user(shop: Factory, db: Database) -> None:
    admin = Principal(user_id=42, username="ops", role=Role.ADMIN, display_name="运营 Ops")
    orders.upsert_order(db, OrderIn.model_validate(shop.order_payload()), admin)
    [row] = timeline_rows(db, "order")
    assert (row["actor_kind"], row["actor_name"], row["actor_user_id"]) == ("user", "运营 Ops", 42)


def test_each_status_change_writes_one_outbox_message(shop: Factory, db: Database) -> None:
    shop.put_order(version=1, status="paid")
    assert [{k: m["payload"][k] for k in ("order", "from", "to")} for m in outbox_rows(db)] == [
        {"order": "SO-1", "from": None, "to": "paid"}
    ]
    shop.put_order(version=2, status="paid", customer_name="李娜娜")
    shop.put_order(version=2, status="paid", customer_name="李娜娜")
    assert len(outbox_rows(db)) == 1
    shop.put_order(version=3, status="shipped")
    messages = outbox_rows(db)
    assert [m["topic"] for m in messages] == ["order.status_changed", "order.status_changed"]
    assert {k: messages[1]["payload"][k] for k in ("order", "from", "to")} == {
        "order": "SO-1",
        "from": "paid",
        "to": "shipped",
    }
    assert len({m["idempotency_key"] for m in messages}) == 2


def test_a_refused_revision_writes_no_outbox_message(shop: Factory, db: Database) -> None:
    shop.put_order(version=1, status="cancelled")
    with pytest.raises(Conflict):
        shop.put_order(version=2, status="paid")
    assert len(outbox_rows(db)) == 1
    assert len(timeline_rows(db)) == 1


def test_an_order_cannot_move_to_another_merchant(shop: Factory, db: Database) -> None:
    shop.put_order(merchant="selfop")
    with pytest.raises(Conflict, match="belongs to another merchant"):
        shop.put_order(version=2, merchant="pop-a")
    assert read(db).merchant_code == "selfop"


def test_a_merchant_bound_integration_cannot_feed_another_merchant(shop: Factory, db: Database) -> None:
    pop_a = orders.merchant_id_for(db, "pop-a")
    bound = Principal(user_id=5, username="feed-a", role=Role.INTEGRATION, merchant_id=pop_a)
    with pytest.raises(Forbidden, match="feeds merchant #"):
        orders.upsert_order(db, OrderIn.model_validate(shop.order_payload(merchant="selfop")), bound)
    result = orders.upsert_order(db, OrderIn.model_validate(shop.order_payload(merchant="pop-a")), bound)
    assert result.result == "created"


def test_a_tracking_number_of_another_order_is_a_conflict(shop: Factory, db: Database) -> None:
    shop.put_order(number="SO-1", shipments=[shipment("SF1")])
    with pytest.raises(Conflict, match="Tracking number SF SF1 belongs to another order"):
        shop.put_order(number="SO-2", shipments=[shipment("SF1")])
    assert orders.count_orders(db) == 1


def test_an_unknown_rider_is_a_conflict(shop: Factory, db: Database) -> None:
    with pytest.raises(Conflict, match="Rider 'ghost' is not a user with the rider role"):
        shop.put_order(shipments=[shipment("SF1", rider="ghost")])


def test_a_payment_reference_of_another_order_is_a_conflict(shop: Factory, db: Database) -> None:
    payment = {"reference": "PAY-1", "method": "alipay", "amount": "398.00", "paid_at": T0.isoformat()}
    orders.upsert_order(db, OrderIn.model_validate({**shop.order_payload("SO-1"), "payments": [payment]}), FEED)
    with pytest.raises(Conflict, match="Payment reference 'PAY-1' is already used by another order"):
        orders.upsert_order(db, OrderIn.model_validate({**shop.order_payload("SO-2"), "payments": [payment]}), FEED)
    assert [p.reference for p in read(db, "SO-1").payments] == ["PAY-1"]
