"""Carrier scans must be possible in time: none from the future (beyond a small clock difference),
no delivery before the parcel was shipped. Valid scans still arrive in any order."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from aftersales.kit import clock
from aftersales.kit.access import Role

from ..factories import Factory
from ._support import bearer, event, shipment

NOW = datetime(2026, 11, 5, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


@pytest.fixture(autouse=True)
def _frozen_clock() -> Iterator[None]:
    with clock.frozen_at(NOW):
        yield


@pytest.fixture
def feed(client: TestClient, factory: Factory) -> dict[str, str]:
    factory.catalogue()
    factory.user("feed", Role.INTEGRATION)
    headers = bearer(factory, "feed")
    client.post("/api/v1/orders", json=factory.order_payload(shipments=[shipment("SF1")]), headers=headers)
    return headers


def post(client: TestClient, feed: dict[str, str], event_id: str, node: str, at: str) -> tuple[int, dict[str, str]]:
    answer = client.post("/api/v1/logistics-events", json=event(event_id, "SF1", node, at), headers=feed)
    return answer.status_code, answer.json()


def recorded(client: TestClient, feed: dict[str, str]) -> list[str]:
    order = client.get("/api/v1/orders/SO-1", headers=feed).json()
    return sorted(e["event_id"] for e in order["shipments"][0]["events"])


def test_a_scan_from_the_future_is_422_naming_the_field(client: TestClient, feed: dict[str, str]) -> None:
    status, body = post(client, feed, "e1", "picked_up", "2026-11-05T12:06:00+08:00")  # 6 minutes ahead
    assert status == 422, body
    assert body["error"] == "invalid"
    assert body["message"].startswith("occurred_at: ") and "future" in body["message"]
    assert recorded(client, feed) == []
    # A clock a few minutes fast is tolerated.
    assert post(client, feed, "e2", "picked_up", "2026-11-05T12:04:00+08:00")[0] == 200


def test_a_delivery_before_the_pick_up_is_422(client: TestClient, feed: dict[str, str]) -> None:
    assert post(client, feed, "e1", "picked_up", "2026-11-04T10:00:00+08:00")[0] == 200
    status, body = post(client, feed, "e2", "delivered", "2026-11-04T09:00:00+08:00")
    assert status == 422, body
    assert body["message"].startswith("occurred_at: ") and "before" in body["message"]
    assert recorded(client, feed) == ["e1"]


def test_a_pick_up_after_the_delivery_is_422_whatever_came_first(client: TestClient, feed: dict[str, str]) -> None:
    assert post(client, feed, "e2", "delivered", "2026-11-04T09:00:00+08:00")[0] == 200
    status, body = post(client, feed, "e1", "picked_up", "2026-11-04T10:00:00+08:00")
    assert status == 422, body
    assert body["message"].startswith("occurred_at: ")
    assert recorded(client, feed) == ["e2"]


def test_a_delivery_before_the_shipped_time_the_shop_sent_is_422(
    client: TestClient, factory: Factory, feed: dict[str, str]
) -> None:
    shipped = {**shipment("SF1"), "shipped_at": "2026-11-04T10:00:00+08:00"}
    revision = factory.order_payload(version=2, status="shipped", shipments=[shipped])
    assert client.post("/api/v1/orders", json=revision, headers=feed).status_code == 200
    status, body = post(client, feed, "e1", "delivered", "2026-11-03T18:00:00+08:00")
    assert status == 422, body
    assert "2026-11-04" in body["message"]


def test_valid_scans_still_arrive_in_any_order(client: TestClient, feed: dict[str, str]) -> None:
    # Delivered first, then the earlier scans, then a late hub scan stamped after the delivery.
    for event_id, node, at in [
        ("e4", "delivered", "2026-11-04T18:00:00+08:00"),
        ("e1", "picked_up", "2026-11-04T09:00:00+08:00"),
        ("e3", "out_for_delivery", "2026-11-04T15:00:00+08:00"),
        ("e2", "departed_hub", "2026-11-04T11:00:00+08:00"),
        ("e5", "arrived_hub", "2026-11-04T19:00:00+08:00"),
    ]:
        assert post(client, feed, event_id, node, at)[0] == 200
    order = client.get("/api/v1/orders/SO-1", headers=feed).json()
    assert order["status"] == "delivered"
    assert recorded(client, feed) == ["e1", "e2", "e3", "e4", "e5"]
