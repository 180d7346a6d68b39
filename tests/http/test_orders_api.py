"""The orders API as integrators use it: idempotent upserts, precise refusals, carrier webhooks in
any order, and search."""

from __future__ import annotations

import random
from typing import Any

import pytest
from fastapi.testclient import TestClient

from aftersales.kit.access import Role

from ..factories import Factory
from ._support import bearer, event, shipment


@pytest.fixture
def feed(factory: Factory) -> dict[str, str]:
    factory.catalogue()
    factory.user("feed", Role.INTEGRATION)
    return bearer(factory, "feed")


def test_upsert_is_idempotent_by_number_and_version(client: TestClient, factory: Factory, feed: dict[str, str]) -> None:
    first = client.post("/api/v1/orders", json=factory.order_payload(version=2), headers=feed)
    assert first.status_code == 201
    assert first.json() == {
        "number": "SO-1",
        "result": "created",
        "status": "paid",
        "source_version": 2,
        "customer_fields_kept": [],
    }

    replay = client.post("/api/v1/orders", json=factory.order_payload(version=2), headers=feed)
    assert replay.status_code == 200 and replay.json()["result"] == "unchanged"

    older = factory.order_payload(version=1, status="cancelled")
    stale = client.post("/api/v1/orders", json=older, headers=feed)
    assert stale.status_code == 200
    assert stale.json() == {
        "number": "SO-1",
        "result": "unchanged",
        "status": "paid",
        "source_version": 2,
        "customer_fields_kept": [],
    }

    newer = client.post("/api/v1/orders", json=factory.order_payload(version=3, status="fulfilling"), headers=feed)
    assert newer.status_code == 200
    assert newer.json() == {
        "number": "SO-1",
        "result": "updated",
        "status": "fulfilling",
        "source_version": 3,
        "customer_fields_kept": [],
    }

    order = client.get("/api/v1/orders/SO-1", headers=feed).json()
    assert (order["status"], order["source_version"]) == ("fulfilling", 3)
    assert [(t["action"], t["to_state"]) for t in order["timeline"]] == [
        ("order.created", "paid"),
        ("order.status_changed", "fulfilling"),
    ]


def _without_lines(p: dict[str, Any]) -> None:
    del p["lines"]


def _negative_quantity(p: dict[str, Any]) -> None:
    p["lines"][0]["quantity"] = -1


def _bad_currency(p: dict[str, Any]) -> None:
    p["currency"] = "XYZ"


def _naive_datetime(p: dict[str, Any]) -> None:
    p["updated_at"] = "2026-11-01T10:00:00"


@pytest.mark.parametrize(
    ("spoil", "loc", "words"),
    [
        (_negative_quantity, ["body", "lines", 0, "quantity"], "greater than or equal to 1"),
        (_without_lines, ["body", "lines"], "Field required"),
        (_bad_currency, ["body", "currency"], "unsupported currency"),
        (_naive_datetime, ["body", "updated_at"], "timezone"),
    ],
    ids=["negative-quantity", "missing-lines", "bad-currency", "naive-datetime"],
)
def test_invalid_orders_get_per_field_messages(
    client: TestClient, factory: Factory, feed: dict[str, str], spoil: Any, loc: list[Any], words: str
) -> None:
    payload = factory.order_payload()
    spoil(payload)
    r = client.post("/api/v1/orders", json=payload, headers=feed)
    assert r.status_code == 422
    body = r.json()
    field = ".".join(str(p) for p in loc[1:])
    assert body["message"].startswith("Please fix:") and field in body["message"]
    assert words in body["message"]
    problem = next(d for d in body["detail"] if d["loc"] == loc)
    assert words in problem["msg"] and problem["field"] == field
    assert client.get("/api/v1/orders/SO-1", headers=feed).status_code == 404


def test_broken_json_is_a_422_not_a_500(client: TestClient, feed: dict[str, str]) -> None:
    r = client.post("/api/v1/orders", content=b'{"number": ', headers={**feed, "Content-Type": "application/json"})
    assert r.status_code == 422
    assert r.json()["message"].startswith("Please fix:")


def test_unknown_merchant_and_sku_are_conflicts(client: TestClient, factory: Factory, feed: dict[str, str]) -> None:
    r = client.post("/api/v1/orders", json=factory.order_payload(merchant="nobody-shop"), headers=feed)
    assert r.status_code == 409
    assert "'nobody-shop'" in r.json()["message"] and r.json()["message"].endswith(".")

    lines = [{"line_no": 1, "sku": "SKU-404", "quantity": 1, "unit_price": "1.00"}]
    r = client.post("/api/v1/orders", json=factory.order_payload(lines=lines), headers=feed)
    assert r.status_code == 409
    assert "SKU-404" in r.json()["message"] and "selfop" in r.json()["message"]
    assert client.get("/api/v1/orders/SO-1", headers=feed).status_code == 404


def test_logistics_events_need_a_known_shipment_and_are_idempotent(
    client: TestClient, factory: Factory, feed: dict[str, str]
) -> None:
    unknown = client.post(
        "/api/v1/logistics-events", json=event("e0", "SF404", "picked_up", "2026-11-01T12:00:00+08:00")
    )
    assert unknown.status_code == 401  # the feed's token is required first
    unknown = client.post(
        "/api/v1/logistics-events", json=event("e0", "SF404", "picked_up", "2026-11-01T12:00:00+08:00"), headers=feed
    )
    assert unknown.status_code == 404
    message = unknown.json()["message"]
    assert "SF404" in message and message.endswith(".") and " " in message

    client.post("/api/v1/orders", json=factory.order_payload(shipments=[shipment("SF1")]), headers=feed)
    scan = event("e1", "SF1", "picked_up", "2026-11-01T12:00:00+08:00")
    first = client.post("/api/v1/logistics-events", json=scan, headers=feed)
    assert first.status_code == 200
    assert first.json() == {
        "event_id": "e1",
        "result": "recorded",
        "shipment_status": "picked_up",
        "order_status": "shipped",
    }
    again = client.post("/api/v1/logistics-events", json=scan, headers=feed)
    assert again.status_code == 200 and again.json()["result"] == "duplicate"
    order = client.get("/api/v1/orders/SO-1", headers=feed).json()
    assert [e["event_id"] for e in order["shipments"][0]["events"]] == ["e1"]


def _webhooks(run: int) -> list[tuple[str, dict[str, Any]]]:
    """One order's story as the shop and the carrier tell it: three revisions, two parcels."""
    number, a, b = f"SO-R{run}", f"SFA{run}", f"SFB{run}"
    ships = [shipment(a), shipment(b)]
    revisions = [
        Factory.order_payload(number, version=v, status=s, shipments=ships)
        for v, s in ((1, "paid"), (2, "fulfilling"), (3, "shipped"))
    ]
    scans = [
        event(f"R{run}-a1", a, "picked_up", "2026-11-01T12:00:00+08:00", "上海"),
        event(f"R{run}-a2", a, "departed_hub", "2026-11-01T20:00:00+08:00", "上海转运中心"),
        event(f"R{run}-a3", a, "arrived_station", "2026-11-02T08:00:00+08:00", "杭州西湖站"),
        event(f"R{run}-a4", a, "out_for_delivery", "2026-11-02T09:00:00+08:00", "杭州西湖站"),
        event(f"R{run}-a5", a, "delivered", "2026-11-02T11:30:00+08:00", "杭州 西湖区"),
        event(f"R{run}-b1", b, "picked_up", "2026-11-01T13:00:00+08:00", "上海"),
        event(f"R{run}-b2", b, "exception", "2026-11-02T10:00:00+08:00", "杭州西湖站"),
        event(f"R{run}-b3", b, "out_for_delivery", "2026-11-03T09:00:00+08:00", "杭州西湖站"),
        event(f"R{run}-b4", b, "delivered", "2026-11-03T10:15:00+08:00", "杭州 西湖区"),
    ]
    return [("/api/v1/orders", r) for r in revisions] + [("/api/v1/logistics-events", s) for s in scans]


def _deliver(client: TestClient, feed: dict[str, str], hooks: list[tuple[str, dict[str, Any]]]) -> None:
    """Deliver like a webhook sender: a 404 (the order is not in yet) is retried later."""
    pending = hooks
    while pending:
        retry = []
        for path, body in pending:
            r = client.post(path, json=body, headers=feed)
            if r.status_code == 404 and path.endswith("logistics-events"):
                retry.append((path, body))
            else:
                assert r.status_code in (200, 201), r.text
        assert len(retry) < len(pending), "no progress"
        pending = retry


def _final_state(client: TestClient, feed: dict[str, str], run: int) -> dict[str, Any]:
    order = client.get(f"/api/v1/orders/SO-R{run}", headers=feed).json()
    keys = ["status", "current_node", "current_place", "delivered_at", "shipped_at"]
    return {
        "status": order["status"],
        "delivered_at": order["delivered_at"],
        "source_version": order["source_version"],
        "shipments": [
            {"parcel": s["tracking_number"][2], **{k: s[k] for k in keys}, "events": [e["node"] for e in s["events"]]}
            for s in sorted(order["shipments"], key=lambda s: s["tracking_number"])
        ],
    }


def test_shuffled_webhook_replays_converge(client: TestClient, feed: dict[str, str]) -> None:
    _deliver(client, feed, _webhooks(0))
    reference = _final_state(client, feed, 0)
    assert reference["status"] == "delivered" and reference["source_version"] == 3
    assert [s["status"] for s in reference["shipments"]] == ["delivered", "delivered"]
    assert reference["delivered_at"] == reference["shipments"][1]["delivered_at"]
    assert all(s["shipped_at"] for s in reference["shipments"])  # taken from the first scan
    rng = random.Random(20261111)
    for run in range(1, 7):
        hooks = _webhooks(run) * 2  # every webhook arrives twice
        rng.shuffle(hooks)
        _deliver(client, feed, hooks)
        assert _final_state(client, feed, run) == reference, f"permutation {run}"


def test_search_by_number_phone_and_customer_name(client: TestClient, factory: Factory, feed: dict[str, str]) -> None:
    for number, name, phone in (
        ("SO-100", "王芳", "13900000001"),
        ("SO-101", "王芳", "13900000001"),
        ("SO-200", "张伟", "13700000002"),
    ):
        customer = "C-" + phone[-1]
        payload = factory.order_payload(number, customer=customer, customer_name=name, phone=phone)
        assert client.post("/api/v1/orders", json=payload, headers=feed).status_code == 201

    def search(**params: Any) -> list[str]:
        r = client.get("/api/v1/orders", params=params, headers=feed)
        assert r.status_code == 200, r.text
        page = r.json()
        assert page["total"] == len(page["items"])
        return sorted(item["number"] for item in page["items"])

    assert search(q="SO-200") == ["SO-200"]
    assert search(q="SO-1") == ["SO-100", "SO-101"]  # number prefix
    assert search(q="13900000001") == ["SO-100", "SO-101"]
    assert search(q="1390000") == []  # phones match exactly, not by fragment
    assert search(q="张伟") == ["SO-200"]
    assert search(q="王") == ["SO-100", "SO-101"]
    assert search(q="nobody") == []
    assert search() == ["SO-100", "SO-101", "SO-200"]
    assert search(status="cancelled") == []
    assert client.get("/api/v1/orders", params={"status": "lost"}, headers=feed).status_code == 422
    assert client.get("/api/v1/orders", params={"size": 1000}, headers=feed).status_code == 422


def test_put_merchant_needs_matching_codes(client: TestClient, feed: dict[str, str]) -> None:
    body = {"code": "pop-z", "name": "Merchant Z", "kind": "pop"}
    mismatch = client.put("/api/v1/merchants/pop-y", json=body, headers=feed)
    assert mismatch.status_code == 422
    assert "'pop-z'" in mismatch.json()["message"] and "'pop-y'" in mismatch.json()["message"]
    created = client.put("/api/v1/merchants/pop-z", json=body, headers=feed)
    assert created.status_code == 200
    assert created.json()["code"] == "pop-z" and created.json()["kind"] == "pop"
    renamed = client.put("/api/v1/merchants/pop-z", json={**body, "name": "Z Store"}, headers=feed)
    assert renamed.json()["id"] == created.json()["id"] and renamed.json()["name"] == "Z Store"
