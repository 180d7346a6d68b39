"""A sentence naming an order or a case nobody can find is in the reader's language, on its own
page and inside the policy dry run."""

from __future__ import annotations

from fastapi.testclient import TestClient

from aftersales.kit.access import Role

from ..factories import Factory
from ._support import sign_in
from .test_desk_pages import shop as shop


def test_a_missing_order_or_case_is_named_in_the_readers_language(client: TestClient, shop: Factory) -> None:
    shop.user("root", Role.ADMIN)
    token = sign_in(client, "root")
    order = client.get("/orders/NOPE")
    assert order.status_code == 404 and "NOPE" in order.text
    assert "that you can see" not in order.text and "找不到订单" in order.text
    case = client.get("/cases/AS-NOPE")
    assert case.status_code == 404 and "找不到售后单" in case.text and "that you can see" not in case.text
    dry = client.post(
        "/admin/policies/dry-run",
        data={
            "csrf_token": token,
            "mode": "order",
            "order_number": "NOPE",
            "line_no": "1",
            "kind": "return_refund",
            "reason": "damaged",
        },
        headers={"HX-Request": "true"},
    )
    assert "NOPE" in dry.text and "that you can see" not in dry.text and "找不到订单" in dry.text
    client.post("/language", data={"lang": "en", "next": "/", "csrf_token": token})
    assert "No order 'NOPE' that you can see." in client.get("/orders/NOPE").text.replace("&#39;", "'")


def test_a_page_that_does_not_exist_is_said_in_the_readers_language(client: TestClient, shop: Factory) -> None:
    shop.user("root", Role.ADMIN)
    token = sign_in(client, "root")
    page = client.get("/tickets")
    assert page.status_code == 404 and "/tickets 没有页面" in page.text and "Nothing at" not in page.text
    client.post("/language", data={"lang": "en", "next": "/", "csrf_token": token})
    assert "Nothing at /tickets." in client.get("/tickets").text
    api = client.get("/api/v1/nowhere", headers={"Accept": "application/json"})
    assert api.status_code == 404 and api.json()["message"] == "Nothing at /api/v1/nowhere."
