"""Shop platforms' webhooks over HTTP (SQLite and PostgreSQL): each platform's signature accepted
and refused (401, nothing changed), a known event id answered 200 with nothing changed, an older
revision after a newer one changing nothing, failed deliveries kept and replayed, and a BigCommerce
callback followed by the order fetched from a real local HTTP server standing in for the store."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from aftersales.db.uow import Database
from aftersales.orders import service as orders
from aftersales.orders.domain import MerchantKind
from aftersales.orders.schemas import MerchantIn

from ..factories import Factory, Role
from ._support import bearer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "integrations"
SECRET = "shpss_test_secret_0123456789abcdef"


def raw(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def b64(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@pytest.fixture
def admin(client: TestClient, factory: Factory, db: Database) -> dict[str, str]:
    orders.upsert_merchant(db, MerchantIn(code="shop1", name="Shop One", kind=MerchantKind.POP))
    factory.user("root", Role.ADMIN)
    return bearer(factory, "root")


def connect(client: TestClient, admin: dict[str, str], platform: str, **extra: str) -> dict[str, Any]:
    body = {"platform": platform, "merchant_code": "shop1", "name": f"{platform} shop", **extra}
    r = client.post("/api/v1/integrations", json=body, headers=admin)
    assert r.status_code == 201, r.text
    return dict(r.json())


def deliveries(client: TestClient, admin: dict[str, str]) -> list[dict[str, Any]]:
    return [i for i in client.get("/api/v1/integrations", headers=admin).json()]


def shopify(client: TestClient, hook: dict[str, Any], body: bytes, event: str, secret: str = SECRET) -> Any:
    headers = {
        "X-Shopify-Hmac-Sha256": b64(secret, body),
        "X-Shopify-Topic": "orders/updated",
        "X-Shopify-Webhook-Id": event,
        "Content-Type": "application/json",
    }
    return client.post(hook["webhook_url"], content=body, headers=headers)


def test_a_secret_is_shown_once_and_kept_sealed(client: TestClient, admin: dict[str, str], db: Database) -> None:
    made = connect(client, admin, "woocommerce")
    assert len(made["secret"]) >= 32
    listed = client.get("/api/v1/integrations", headers=admin).json()
    assert listed[0]["secret_hint"] == "…" + made["secret"][-4:]
    assert made["secret"] not in json.dumps(listed)
    from sqlalchemy import text

    with db.read() as uow:
        stored = uow.session.execute(text("SELECT secret_sealed FROM integrations")).scalar_one()
    assert made["secret"] not in stored


def test_a_signed_shopify_order_is_imported_and_shows_in_the_api(client: TestClient, admin: dict[str, str]) -> None:
    hook = connect(client, admin, "shopify", secret=SECRET)
    r = shopify(client, hook, raw("shopify_order_updated"), "evt-1")
    assert r.status_code == 200, r.text
    assert r.json()["result"] == "created"
    order = client.get("/api/v1/orders/1001", headers=admin).json()
    assert (order["status"], order["currency"], order["payable_total"], order["refunded_total"]) == (
        "partially_refunded", "USD", "67.37", "21.46",
    )  # fmt: skip
    assert order["tax_total"] == "4.40" and order["taxes_included"] is False
    assert [r["reference"] for r in order["refunds"]] == ["shopify:refund:8001"]
    assert [line["sku_code"] for line in order["lines"]] == ["TEE-BLK-M", "variant-2002"]


def test_a_known_event_id_answers_200_and_changes_nothing(client: TestClient, admin: dict[str, str]) -> None:
    hook = connect(client, admin, "shopify", secret=SECRET)
    assert shopify(client, hook, raw("shopify_order_create"), "evt-1").json()["result"] == "created"
    # The same event id again, even with another (newer) body: nothing changes.
    again = shopify(client, hook, raw("shopify_order_updated"), "evt-1")
    assert (again.status_code, again.json()["result"]) == (200, "duplicate")
    assert client.get("/api/v1/orders/1001", headers=admin).json()["status"] == "paid"
    [listed] = client.get("/api/v1/integrations", headers=admin).json()
    assert listed["last_delivery"]["event_id"] == "x-shopify-webhook-id:evt-1"


def test_an_older_revision_after_a_newer_one_changes_nothing(client: TestClient, admin: dict[str, str]) -> None:
    hook = connect(client, admin, "shopify", secret=SECRET)
    assert shopify(client, hook, raw("shopify_order_updated"), "evt-2").json()["result"] == "created"
    late = shopify(client, hook, raw("shopify_order_create"), "evt-1")
    assert (late.status_code, late.json()["result"]) == (200, "unchanged")
    assert client.get("/api/v1/orders/1001", headers=admin).json()["status"] == "partially_refunded"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Shopify-Hmac-Sha256": "bm90IGEgc2lnbmF0dXJl"},
        {"X-Shopify-Hmac-Sha256": b64("another-secret", raw("shopify_order_create"))},
    ],
)
def test_unsigned_or_wrongly_signed_is_401_and_changes_nothing(
    client: TestClient, admin: dict[str, str], db: Database, headers: dict[str, str]
) -> None:
    hook = connect(client, admin, "shopify", secret=SECRET)
    r = client.post(hook["webhook_url"], content=raw("shopify_order_create"), headers=headers)
    assert r.status_code == 401
    assert "X-Shopify-Hmac-Sha256" in r.json()["message"]
    assert orders.count_orders(db) == 0
    assert client.get("/api/v1/integrations", headers=admin).json()[0]["last_delivery"] is None


def test_a_body_signed_then_altered_is_refused(client: TestClient, admin: dict[str, str], db: Database) -> None:
    hook = connect(client, admin, "shopify", secret=SECRET)
    body = raw("shopify_order_create")
    headers = {"X-Shopify-Hmac-Sha256": b64(SECRET, body)}
    r = client.post(hook["webhook_url"], content=body.replace(b"67.37", b"0.01"), headers=headers)
    assert r.status_code == 401 and orders.count_orders(db) == 0


def test_another_platforms_path_or_an_unknown_integration_is_refused_alike(
    client: TestClient, admin: dict[str, str]
) -> None:
    hook = connect(client, admin, "shopify", secret=SECRET)
    body = raw("shopify_order_create")
    headers = {"X-Shopify-Hmac-Sha256": b64(SECRET, body)}
    wrong = hook["webhook_url"].replace("/shopify/", "/woocommerce/")
    assert client.post(wrong, content=body, headers=headers).status_code == 401
    assert client.post("/api/v1/integrations/shopify/999/orders", content=body, headers=headers).status_code == 401


def test_woocommerce_signature_ping_and_refunds(client: TestClient, admin: dict[str, str]) -> None:
    hook = connect(client, admin, "woocommerce")
    ping = client.post(
        hook["webhook_url"], content=b"webhook_id=12", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert (ping.status_code, ping.json()["result"]) == (200, "ping")
    for event, name in (("d-1", "woocommerce_order"), ("d-2", "woocommerce_order_refunded_in_part")):
        body = raw(name)
        headers = {"X-WC-Webhook-Signature": b64(hook["secret"], body), "X-WC-Webhook-Delivery-ID": event}
        assert client.post(hook["webhook_url"], content=body, headers=headers).status_code == 200
    order = client.get("/api/v1/orders/727", headers=admin).json()
    assert (order["status"], order["refunded_total"]) == ("partially_refunded", "9.99")
    bad = {"X-WC-Webhook-Signature": b64("nope", raw("woocommerce_order")), "X-WC-Webhook-Delivery-ID": "d-3"}
    assert client.post(hook["webhook_url"], content=raw("woocommerce_order"), headers=bad).status_code == 401


def test_saleor_hmac_signature_and_a_jws_is_refused_with_the_reason(client: TestClient, admin: dict[str, str]) -> None:
    hook = connect(client, admin, "saleor")
    body = raw("saleor_order_created")
    hexsig = hmac.new(hook["secret"].encode(), body, hashlib.sha256).hexdigest()
    r = client.post(
        hook["webhook_url"], content=body, headers={"Saleor-Signature": hexsig, "Saleor-Event": "order_created"}
    )
    assert (r.status_code, r.json()["result"]) == (200, "created")
    again = client.post(hook["webhook_url"], content=body, headers={"Saleor-Signature": hexsig})
    assert again.json()["result"] == "duplicate"  # no id header: the same body is the same event
    jws = client.post(hook["webhook_url"], content=body, headers={"Saleor-Signature": "eyJhbGciOiJSUzI1NiJ9..c2ln"})
    assert jws.status_code == 401 and "secretKey" in jws.json()["message"]


def test_a_failed_delivery_is_kept_with_its_reason_and_replayed(client: TestClient, admin: dict[str, str]) -> None:
    hook = connect(client, admin, "shopify", secret=SECRET)
    body = raw("shopify_refund_create")  # its order is not here yet
    r = shopify(client, hook, body, "evt-r")
    assert r.status_code == 422 and "import the order before its refunds" in r.json()["message"]
    [listed] = client.get("/api/v1/integrations", headers=admin).json()
    [failure] = listed["failures"]
    assert failure["result"] == "failed" and "order_id" in failure["error"]
    assert shopify(client, hook, body, "evt-r").json()["result"] == "duplicate"  # the platform's own retry
    assert shopify(client, hook, raw("shopify_order_updated"), "evt-o").json()["result"] == "created"
    replayed = client.post(f"/api/v1/integrations/deliveries/{failure['id']}/replay", headers=admin)
    assert replayed.status_code == 200, replayed.text
    assert (replayed.json()["result"], replayed.json()["attempts"]) == ("updated", 2)
    assert client.get("/api/v1/orders/1001", headers=admin).json()["refunded_total"] == "31.46"
    again = client.post(f"/api/v1/integrations/deliveries/{failure['id']}/replay", headers=admin)
    assert again.status_code == 409


def test_an_oversized_body_is_refused(client: TestClient, admin: dict[str, str]) -> None:
    hook = connect(client, admin, "shopify", secret=SECRET)
    body = b'{"pad": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    r = client.post(hook["webhook_url"], content=body, headers={"X-Shopify-Hmac-Sha256": b64(SECRET, body)})
    assert r.status_code == 413


# --- BigCommerce: a callback carries only the id; the order is fetched from the store --------------
class _Store(BaseHTTPRequestHandler):
    token = "bc-token-123"
    answers: dict[str, Any] = {}
    seen: list[str] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        if self.headers.get("X-Auth-Token") != self.token:
            self.send_response(401)
            self.end_headers()
            return
        answer = self.answers.get(self.path)
        body = json.dumps(answer).encode() if answer is not None else b""
        self.send_response(200 if answer is not None else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture
def store() -> Iterator[str]:
    order = json.loads(raw("bigcommerce_order"))
    products, addresses = order.pop("products"), order.pop("shipping_addresses")
    order["products"] = {"url": "…/v2/orders/100/products", "resource": "/orders/100/products"}
    _Store.answers = {
        "/stores/abc123/v2/orders/100": order,
        "/stores/abc123/v2/orders/100/products": products,
        "/stores/abc123/v2/orders/100/shipping_addresses": addresses,
    }
    _Store.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Store)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/stores/abc123"
    finally:
        server.shutdown()
        server.server_close()


def standard_webhook(secret: str, msg_id: str, body: bytes, stamp: int | None = None) -> dict[str, str]:
    stamp = int(time.time()) if stamp is None else stamp
    signature = b64(secret, f"{msg_id}.{stamp}.".encode() + body)
    return {"webhook-id": msg_id, "webhook-timestamp": str(stamp), "webhook-signature": f"v1,{signature}"}


def test_a_bigcommerce_callback_fetches_the_order_from_the_store(
    client: TestClient, admin: dict[str, str], store: str
) -> None:
    hook = connect(
        client, admin, "bigcommerce", secret="bc-client-secret-0123456789", api_base_url=store, api_token=_Store.token
    )
    body = raw("bigcommerce_callback")
    r = client.post(
        hook["webhook_url"], content=body, headers=standard_webhook("bc-client-secret-0123456789", "msg_1", body)
    )
    assert r.status_code == 200, r.text
    assert r.json()["orders"] == [{"file": "", "order_number": "100", "status": "paid", "result": "created"}]
    assert _Store.seen == [
        "/stores/abc123/v2/orders/100",
        "/stores/abc123/v2/orders/100/products",
        "/stores/abc123/v2/orders/100/shipping_addresses",
    ]
    order = client.get("/api/v1/orders/100", headers=admin).json()
    assert (order["currency"], order["payable_total"], order["lines"][0]["sku_code"]) == ("USD", "60.50", "LAMP-1")
    again = client.post(
        hook["webhook_url"], content=body, headers=standard_webhook("bc-client-secret-0123456789", "msg_2", body)
    )
    assert again.json()["result"] == "unchanged"  # another event id, the same order: nothing new


def test_a_bigcommerce_signature_out_of_time_or_wrong_is_refused(
    client: TestClient, admin: dict[str, str], store: str, db: Database
) -> None:
    hook = connect(
        client, admin, "bigcommerce", secret="bc-client-secret-0123456789", api_base_url=store, api_token=_Store.token
    )
    body = raw("bigcommerce_callback")
    stale = standard_webhook("bc-client-secret-0123456789", "msg_1", body, stamp=int(time.time()) - 3600)
    assert client.post(hook["webhook_url"], content=body, headers=stale).status_code == 401
    wrong = standard_webhook("another", "msg_1", body)
    assert client.post(hook["webhook_url"], content=body, headers=wrong).status_code == 401
    assert _Store.seen == [] and orders.count_orders(db) == 0


def test_a_store_that_does_not_answer_fails_the_delivery_with_the_reason(
    client: TestClient, admin: dict[str, str], store: str
) -> None:
    hook = connect(
        client, admin, "bigcommerce", secret="bc-client-secret-0123456789", api_base_url=store, api_token="wrong-token"
    )
    body = raw("bigcommerce_callback")
    r = client.post(
        hook["webhook_url"], content=body, headers=standard_webhook("bc-client-secret-0123456789", "msg_1", body)
    )
    assert r.status_code == 422 and "answered 401" in r.json()["message"]
    assert client.get("/api/v1/integrations", headers=admin).json()[0]["failures"][0]["error"].startswith("data.id")


def test_a_payload_amount_is_never_a_float(client: TestClient, admin: dict[str, str]) -> None:
    hook = connect(client, admin, "saleor")
    body = raw("saleor_order_created")
    hexsig = hmac.new(hook["secret"].encode(), body, hashlib.sha256).hexdigest()
    client.post(hook["webhook_url"], content=body, headers={"Saleor-Signature": hexsig})
    order = client.get("/api/v1/orders/1042", headers=admin).json()
    assert Decimal(order["payable_total"]) == Decimal("118.00") and order["discount_total"] == "10.00"
