"""A first end-to-end pass over the API: feed an order, read it back with a customer token."""

from __future__ import annotations

from fastapi.testclient import TestClient

from aftersales.kit.access import Role

from ..factories import Factory


def test_feed_and_read_order(client: TestClient, factory: Factory) -> None:
    factory.catalogue()
    factory.user("feed", Role.INTEGRATION)
    feed = {"Authorization": f"Bearer {factory.token('feed')}"}
    payload = factory.order_payload(
        shipments=[{"carrier": "SF", "tracking_number": "SF1", "promised_at": "2026-11-03T10:00:00+08:00"}]
    )
    first = client.post("/api/v1/orders", json=payload, headers=feed)
    assert first.status_code == 201, first.text
    assert client.post("/api/v1/orders", json=payload, headers=feed).json()["result"] == "unchanged"
    event = {
        "event_id": "e1",
        "carrier": "SF",
        "tracking_number": "SF1",
        "node": "picked_up",
        "occurred_at": "2026-11-01T12:00:00+08:00",
        "place": "上海",
    }
    assert client.post("/api/v1/logistics-events", json=event, headers=feed).json()["order_status"] == "shipped"
    factory.customer_user("lina", "C1")
    mine = {"Authorization": f"Bearer {factory.token('lina')}"}
    order = client.get("/api/v1/orders/SO-1", headers=mine).json()
    assert order["status"] == "shipped"
    assert [e["node"] for e in order["shipments"][0]["events"]] == ["picked_up"]
    assert order["timeline"][0]["action"] == "order.created"
