"""The cases API as integrators and apps use it: preview and idempotent submission, scoped reads,
actions refused with the state that refused them, and the self-service order actions.

The queue runs inline in tests and create_app wires the outbox, so a refund started by a call has
gone through the simulated gateway and been confirmed by the time the call returns.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.kit.access import Role
from aftersales.orders import service as orders
from aftersales.orders.schemas import LogisticsEventIn, OrderIn
from aftersales.refunds.models import Refund
from aftersales.rules import service as rules

from ..factories import FEED, Factory
from ._support import bearer

CUSTOMERS = {"C1": ("李娜", "13800138000"), "C2": ("Bob", "13900000000")}
PRICE = Decimal("199.00")  # SKU-1 of every catalogue merchant; one is under the auto-approval amount


def put_order(
    shop: Factory,
    db: Database,
    number: str,
    *,
    stage: str = "delivered",
    customer: str = "C1",
    merchant: str = "selfop",
    quantity: int = 2,
    days_ago: int = 2,
    extra: bool = False,
) -> None:
    """A paid order of `quantity` × SKU-1 (and with `extra`, a line 2 of 1 × SKU-2 at 59.90) with
    its payment; `stage` paid, shipped (picked up) or delivered (`days_ago` days ago)."""
    now = clock.now()
    placed = now - timedelta(days=days_ago + 3)
    name, phone = CUSTOMERS[customer]
    tracking = f"T{number}"
    lines = [{"line_no": 1, "sku": "SKU-1", "quantity": quantity, "unit_price": str(PRICE)}]
    if extra:
        lines.append({"line_no": 2, "sku": "SKU-2", "quantity": 1, "unit_price": "59.90"})
    payload = shop.order_payload(
        number,
        merchant=merchant,
        customer=customer,
        customer_name=name,
        phone=phone,
        status="paid",
        updated_at=placed + timedelta(minutes=5),
        lines=lines,
        shipments=[{"carrier": "SF", "tracking_number": tracking}] if stage != "paid" else None,
    )
    payload["placed_at"] = placed.isoformat()
    payload["paid_at"] = (placed + timedelta(minutes=1)).isoformat()
    payload["payments"] = [
        {
            "reference": f"P{number}",
            "method": "alipay",
            "amount": str(PRICE * quantity + (Decimal("59.90") if extra else 0)),
            "paid_at": payload["paid_at"],
        }
    ]
    orders.upsert_order(db, OrderIn.model_validate(payload), FEED)
    scans = {"shipped": ["picked_up"], "delivered": ["picked_up", "delivered"]}.get(stage, [])
    for node in scans:
        at = now - timedelta(days=days_ago) if node == "delivered" else placed + timedelta(hours=6)
        orders.record_logistics_event(
            db,
            LogisticsEventIn(
                event_id=f"E{number}{node}", carrier="SF", tracking_number=tracking, node=node, occurred_at=at
            ),
            FEED,
        )


def draft(number: str, *, kind: str = "return_refund", reason: str = "defect", quantity: int = 1) -> dict[str, Any]:
    return {"order_number": number, "kind": kind, "reason": reason, "lines": [{"line_no": 1, "quantity": quantity}]}


@pytest.fixture
def shop(factory: Factory, db: Database) -> Factory:
    rules.load_defaults(db)
    factory.catalogue()
    return factory


@pytest.fixture
def people(shop: Factory, db: Database) -> dict[str, dict[str, str]]:
    """Lina (C1) with order SO-A at the self-operated shop, Bob (C2) with SO-B at pop-a, both
    delivered two days ago; an agent, pop-a's merchant and the self-operated warehouse.
    Returns bearer headers by name."""
    put_order(shop, db, "SO-A")
    put_order(shop, db, "SO-B", customer="C2", merchant="pop-a")
    shop.customer_user("lina", "C1")
    shop.customer_user("bob", "C2")
    shop.user("agent", Role.AGENT_T1)
    shop.merchant_user("merchant-a", "pop-a")
    shop.merchant_user("whouse", "selfop", Role.WAREHOUSE)
    return {name: bearer(shop, name) for name in ("lina", "bob", "agent", "merchant-a", "whouse")}


def submit(client: TestClient, who: dict[str, str], body: dict[str, Any], key: str | None = None) -> dict[str, Any]:
    headers = {**who, "Idempotency-Key": key} if key else who
    response = client.post("/api/v1/cases", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def act(client: TestClient, who: dict[str, str], number: str, **body: Any) -> Any:
    return client.post(f"/api/v1/cases/{number}/actions", json=body, headers=who)


def numbers(client: TestClient, who: dict[str, str]) -> set[str]:
    response = client.get("/api/v1/cases", headers=who)
    assert response.status_code == 200, response.text
    return {item["number"] for item in response.json()["items"]}


def refunds_of(db: Database, order_number: str) -> list[tuple[Decimal, str]]:
    with db.read() as uow:
        rows = uow.session.scalars(select(Refund).where(Refund.order_number == order_number).order_by(Refund.id))
        return [(r.amount, r.status) for r in rows]


# --- preview and submission ----------------------------------------------------------------------
def test_preview_tells_the_outcome_before_anything_is_written(client: TestClient, people: dict[str, Any]) -> None:
    response = client.post("/api/v1/cases/preview", json=draft("SO-A"), headers=people["lina"])
    assert response.status_code == 200, response.text
    preview = response.json()
    assert preview["eligible"] is True
    assert (preview["approval"], preview["amount"], preview["return_shipping_paid_by"]) == (
        "auto",
        "199.00",
        "merchant",
    )
    assert "quality_30" in preview["policy_keys"] and "30" in preview["reason_zh"]
    assert numbers(client, people["lina"]) == set()  # a preview creates nothing


def test_the_same_idempotency_key_twice_is_one_case(client: TestClient, people: dict[str, Any]) -> None:
    first = submit(client, people["lina"], draft("SO-A"), key="app-req-1")
    again = submit(client, people["lina"], draft("SO-A"), key="app-req-1")
    assert again["number"] == first["number"]
    assert first["number"].startswith("AS") and first["submitted_via"] == "customer"
    assert first["status"] == "awaiting_return"  # 199.00 and no past returns: approved at once
    assert numbers(client, people["lina"]) == {first["number"]}
    # Another key is another request: the second unit of the line.
    other = submit(client, people["lina"], draft("SO-A"), key="app-req-2")
    assert other["number"] != first["number"]
    assert numbers(client, people["lina"]) == {first["number"], other["number"]}


def test_a_refused_submission_is_409_naming_the_policy(client: TestClient, shop: Factory, db: Database) -> None:
    put_order(shop, db, "SO-OLD", days_ago=9)
    shop.customer_user("lina", "C1")
    lina = bearer(shop, "lina")
    body = draft("SO-OLD", reason="changed_mind")
    preview = client.post("/api/v1/cases/preview", json=body, headers=lina).json()
    assert preview["eligible"] is False and "7-day" in preview["reason_en"] and "七天" in preview["reason_zh"]
    response = client.post("/api/v1/cases", json=body, headers={**lina, "Idempotency-Key": "x1"})
    assert response.status_code == 409
    assert "no_reason_after_7_days" in response.json()["message"]
    assert numbers(client, lina) == set()


def test_more_than_was_delivered_is_refused(client: TestClient, people: dict[str, Any]) -> None:
    response = client.post("/api/v1/cases", json=draft("SO-A", quantity=3), headers=people["lina"])
    assert response.status_code == 409
    assert "At most 2 of line 1 can still be claimed" in response.json()["message"]


# --- reads are scoped ----------------------------------------------------------------------------
def test_lists_are_scoped_to_the_caller(client: TestClient, people: dict[str, Any]) -> None:
    mine = submit(client, people["lina"], draft("SO-A"))["number"]
    bobs = submit(client, people["bob"], draft("SO-B"))["number"]
    assert numbers(client, people["lina"]) == {mine}
    assert numbers(client, people["bob"]) == {bobs}
    assert numbers(client, people["merchant-a"]) == {bobs}  # pop-a's order
    assert numbers(client, people["whouse"]) == {mine}  # the self-operated warehouse
    assert numbers(client, people["agent"]) == {mine, bobs}
    listed = client.get("/api/v1/cases", params={"order": "SO-B"}, headers=people["agent"]).json()
    assert [i["number"] for i in listed["items"]] == [bobs] and listed["total"] == 1


def test_a_case_outside_your_scope_is_404(client: TestClient, people: dict[str, Any]) -> None:
    mine = submit(client, people["lina"], draft("SO-A"))["number"]
    for outsider in ("bob", "merchant-a"):
        response = client.get(f"/api/v1/cases/{mine}", headers=people[outsider])
        assert response.status_code == 404, outsider
        assert mine in response.json()["message"]
    for insider in ("lina", "whouse", "agent"):
        response = client.get(f"/api/v1/cases/{mine}", headers=people[insider])
        assert response.status_code == 200, insider
        assert response.json()["timeline"][0]["action"] == "case.submitted"
    # Bob cannot act on it either, nor open a case on Lina's order.
    assert act(client, people["bob"], mine, action="cancel").status_code == 404
    assert client.post("/api/v1/cases", json=draft("SO-A"), headers=people["bob"]).status_code == 404


# --- actions -------------------------------------------------------------------------------------
def test_an_action_the_state_does_not_allow_is_409_with_the_possible_actions(
    client: TestClient, people: dict[str, Any]
) -> None:
    case = submit(client, people["lina"], draft("SO-A"))
    assert case["status"] == "awaiting_return"
    response = act(client, people["agent"], case["number"], action="inspect_pass")
    assert response.status_code == 409
    message = response.json()["message"]
    assert "awaiting_return" in message and "'inspect_pass'" in message
    assert "Possible now:" in message and "ship_back" in message and "receive" in message
    assert client.get(f"/api/v1/cases/{case['number']}", headers=people["lina"]).json()["status"] == "awaiting_return"


def test_a_customer_may_not_approve(client: TestClient, people: dict[str, Any]) -> None:
    case = submit(client, people["lina"], draft("SO-A", quantity=2))  # 398.00: a person reviews it
    assert case["status"] == "under_review" and "approve" not in case["next_actions"]
    response = act(client, people["lina"], case["number"], action="approve")
    assert response.status_code == 403
    assert "customer" in response.json()["message"] and "approve" in response.json()["message"]


def test_a_stale_version_is_409(client: TestClient, people: dict[str, Any]) -> None:
    case = submit(client, people["lina"], draft("SO-A", quantity=2))
    seen = case["version"]
    first = act(client, people["agent"], case["number"], action="approve", version=seen)
    assert first.status_code == 200 and first.json()["status"] == "awaiting_return"
    late = act(client, people["agent"], case["number"], action="reject", version=seen, note="too late")
    assert late.status_code == 409
    assert "changed since you loaded it" in late.json()["message"]


def test_a_rejection_needs_a_note(client: TestClient, people: dict[str, Any]) -> None:
    case = submit(client, people["lina"], draft("SO-A", quantity=2))
    response = act(client, people["agent"], case["number"], action="reject")
    assert response.status_code == 422
    assert "note" in response.json()["message"]
    rejected = act(client, people["agent"], case["number"], action="reject", note="used, not as described")
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"


def test_return_flow_over_the_api_ends_with_the_refund_settled(
    client: TestClient, people: dict[str, Any], db: Database
) -> None:
    case = submit(client, people["lina"], draft("SO-A", quantity=2))
    number = case["number"]
    assert act(client, people["agent"], number, action="approve", version=case["version"]).status_code == 200
    shipped = act(client, people["lina"], number, action="ship_back", carrier="SF", tracking_number="SF123")
    assert shipped.status_code == 200 and shipped.json()["return_tracking"] == "SF123"
    assert act(client, people["whouse"], number, action="receive").json()["status"] == "received"
    done = act(client, people["whouse"], number, action="inspect_pass", note="unused, complete")
    assert done.status_code == 200, done.text
    final = client.get(f"/api/v1/cases/{number}", headers=people["lina"]).json()
    assert final["status"] == "completed" and final["resolution"] == "refund"
    assert [(r["amount"], r["status"]) for r in final["refunds"]] == [("398.00", "succeeded")]
    assert [e["to_state"] for e in final["timeline"]][-3:] == ["received", "refunding", "completed"]
    assert refunds_of(db, "SO-A") == [(Decimal("398.00"), "succeeded")]


# --- self-service --------------------------------------------------------------------------------
def test_cancel_before_shipment_is_done_and_refunded(client: TestClient, shop: Factory, db: Database) -> None:
    put_order(shop, db, "SO-P", stage="paid")
    shop.customer_user("lina", "C1")
    response = client.post("/api/v1/orders/SO-P/cancel", headers=bearer(shop, "lina"))
    assert response.status_code == 200, response.text
    assert response.json()["done"] is True and response.json()["message_zh"]
    assert refunds_of(db, "SO-P") == [(Decimal("398.00"), "succeeded")]
    again = client.post("/api/v1/orders/SO-P/cancel", headers=bearer(shop, "lina"))
    assert again.status_code == 409 and "cancelled" in again.json()["message_en"]
    assert len(refunds_of(db, "SO-P")) == 1


def test_cancel_after_delivery_is_409_with_a_way_forward(
    client: TestClient, people: dict[str, Any], db: Database
) -> None:
    response = client.post("/api/v1/orders/SO-A/cancel", headers=people["lina"])
    assert response.status_code == 409
    body = response.json()
    assert body["done"] is False and "delivered" in body["message_en"] and "return" in body["message_en"]
    assert "售后" in body["message_zh"]
    assert refunds_of(db, "SO-A") == []


def test_address_changes_before_dispatch_only(client: TestClient, shop: Factory, db: Database) -> None:
    put_order(shop, db, "SO-P", stage="paid")
    put_order(shop, db, "SO-S", stage="shipped")
    shop.customer_user("lina", "C1")
    lina = bearer(shop, "lina")
    address = {"name": "李娜", "phone": "13800138000", "region": "上海市 徐汇区", "detail": "漕溪北路 1 号"}
    ok = client.post("/api/v1/orders/SO-P/address", json=address, headers=lina)
    assert ok.status_code == 200 and ok.json()["done"] is True, ok.text
    assert client.get("/api/v1/orders/SO-P", headers=lina).json()["address_detail"] == "漕溪北路 1 号"
    late = client.post("/api/v1/orders/SO-S/address", json=address, headers=lina)
    assert late.status_code == 409 and "left the warehouse" in late.json()["message_en"]
    assert client.get("/api/v1/orders/SO-S", headers=lina).json()["address_detail"] == "世纪大道 100 号"


def test_urging_twice_the_same_day_is_refused_the_second_time(client: TestClient, shop: Factory, db: Database) -> None:
    put_order(shop, db, "SO-S", stage="shipped")
    shop.customer_user("lina", "C1")
    first = client.post("/api/v1/orders/SO-S/urge", headers=bearer(shop, "lina"))
    assert first.status_code == 200 and first.json()["done"] is True
    second = client.post("/api/v1/orders/SO-S/urge", headers=bearer(shop, "lina"))
    assert second.status_code == 409 and "today" in second.json()["message_en"]


def test_out_of_stock_from_the_warehouse_refunds_the_buyer(client: TestClient, shop: Factory, db: Database) -> None:
    put_order(shop, db, "SO-P", stage="paid")
    shop.customer_user("lina", "C1")
    shop.merchant_user("whouse", "selfop", Role.WAREHOUSE)
    shop.merchant_user("merchant-a", "pop-a")
    assert client.post("/api/v1/orders/SO-P/lines/1/out-of-stock", headers=bearer(shop, "lina")).status_code == 403
    assert (
        client.post("/api/v1/orders/SO-P/lines/1/out-of-stock", headers=bearer(shop, "merchant-a")).status_code == 404
    )
    response = client.post("/api/v1/orders/SO-P/lines/1/out-of-stock", headers=bearer(shop, "whouse"))
    assert response.status_code == 200, response.text
    number = response.json()["case_number"]
    case = client.get(f"/api/v1/cases/{number}", headers=bearer(shop, "lina")).json()
    assert (case["kind"], case["reason"], case["submitted_via"]) == ("refund_only", "out_of_stock", "warehouse")
    assert case["timeline"][1]["action"] == "case.approve"  # no review: approved by the system at once
    assert case["status"] == "completed"
    assert [(r["amount"], r["status"]) for r in case["refunds"]] == [("398.00", "succeeded")]
    assert refunds_of(db, "SO-P") == [(Decimal("398.00"), "succeeded")]


def test_the_rest_of_an_order_can_be_cancelled_after_a_line_went_out_of_stock(
    client: TestClient, shop: Factory, db: Database
) -> None:
    put_order(shop, db, "SO-P", stage="paid", quantity=1, extra=True)  # 199.00 + 59.90
    shop.customer_user("lina", "C1")
    shop.merchant_user("whouse", "selfop", Role.WAREHOUSE)
    assert client.post("/api/v1/orders/SO-P/lines/1/out-of-stock", headers=bearer(shop, "whouse")).status_code == 200
    response = client.post("/api/v1/orders/SO-P/cancel", headers=bearer(shop, "lina"))
    assert response.status_code == 200, response.text
    assert refunds_of(db, "SO-P") == [(Decimal("199.00"), "succeeded"), (Decimal("59.90"), "succeeded")]


def test_cancel_after_shipment_is_an_intercept_refunded_once_the_parcel_is_back(
    client: TestClient, shop: Factory, db: Database
) -> None:
    put_order(shop, db, "SO-S", stage="shipped")
    shop.customer_user("lina", "C1")
    response = client.post("/api/v1/orders/SO-S/cancel", headers=bearer(shop, "lina"))
    assert response.status_code == 200 and "once it is back" in response.json()["message_en"]
    case = client.get(f"/api/v1/cases/{response.json()['case_number']}", headers=bearer(shop, "lina")).json()
    assert case["status"] != "completed"
    assert refunds_of(db, "SO-S") == []
