"""The administrator's integrations page in zh-CN and en: connect a shop (its secret shown this one
time), see the last delivery and the failures with their reason, replay a failed delivery."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from pathlib import Path

from fastapi.testclient import TestClient

from aftersales.db.uow import Database
from aftersales.orders import service as orders
from aftersales.orders.domain import MerchantKind
from aftersales.orders.schemas import MerchantIn

from ..factories import Factory, Role
from ._support import sign_in

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "integrations"


def test_connect_a_shop_then_see_and_replay_its_failed_delivery(
    client: TestClient, factory: Factory, db: Database
) -> None:
    orders.upsert_merchant(db, MerchantIn(code="shop1", name="Shop One", kind=MerchantKind.POP))
    factory.user("root", Role.ADMIN)
    token = sign_in(client, "root")
    page = client.get("/admin/integrations")
    assert page.status_code == 200 and "店铺对接" in page.text and "尚未接入任何店铺" in page.text

    made = client.post(
        "/admin/integrations",
        data={"csrf_token": token, "platform": "woocommerce", "merchant_code": "shop1", "name": "Berlin shop"},
    )
    assert made.status_code == 201, made.text
    secret = re.search(r'data-testid="integration-secret">([^<]+)<', made.text)
    url = re.search(r'data-testid="webhook-url">[^<]*?(/api/v1/integrations/woocommerce/\d+/orders)<', made.text)
    assert secret and url
    again = client.get("/admin/integrations")
    assert secret.group(1) not in again.text  # shown once
    assert "…" + secret.group(1)[-4:] in again.text

    body = (FIXTURES / "shopify_refund_create.json").read_bytes()  # not a WooCommerce order: it fails
    signature = base64.b64encode(hmac.new(secret.group(1).encode(), body, hashlib.sha256).digest()).decode()
    hook = client.post(url.group(1), content=body, headers={"X-WC-Webhook-Signature": signature})
    assert hook.status_code == 422
    listed = client.get("/admin/integrations")
    assert 'data-testid="integration-failure"' in listed.text and "not a WooCommerce order" in listed.text
    delivery = re.search(r"/admin/integrations/deliveries/(\d+)/replay", listed.text)
    assert delivery
    replayed = client.post(delivery.group(0), data={"csrf_token": token}, follow_redirects=True)
    assert replayed.status_code == 200  # fails again, for the same reason, and says so
    assert "推送已重新处理" in replayed.text and "失败" in replayed.text

    english = client.post(
        "/language", data={"csrf_token": token, "lang": "en", "next": "/admin/integrations"}, follow_redirects=True
    )
    assert "Shop integrations" in english.text and "Failed deliveries" in english.text


def test_a_form_with_a_bad_zone_or_merchant_says_what_to_fix(
    client: TestClient, factory: Factory, db: Database
) -> None:
    orders.upsert_merchant(db, MerchantIn(code="shop1", name="Shop One", kind=MerchantKind.POP))
    factory.user("root", Role.ADMIN)
    token = sign_in(client, "root")
    bad = client.post(
        "/admin/integrations",
        data={"csrf_token": token, "platform": "shopify", "merchant_code": "shop1", "name": "x", "zone": "Mars/Base"},
    )
    assert bad.status_code == 422 and "zone" in bad.text
    unknown = client.post(
        "/admin/integrations",
        data={"csrf_token": token, "platform": "shopify", "merchant_code": "nobody", "name": "x"},
    )
    assert unknown.status_code == 409 and "nobody" in unknown.text


def test_only_administrators_open_the_page(client: TestClient, factory: Factory) -> None:
    factory.user("sup", Role.SUPERVISOR)
    sign_in(client, "sup")
    assert client.get("/admin/integrations").status_code == 403


def test_an_imported_order_shows_on_the_usual_pages_with_its_refunds_and_tax(
    client: TestClient, factory: Factory, db: Database
) -> None:
    from zoneinfo import ZoneInfo

    from aftersales.integrations import service
    from aftersales.integrations.domain import Platform

    orders.upsert_merchant(db, MerchantIn(code="shop1", name="Shop One", kind=MerchantKind.POP))
    merchant_id = orders.merchant_id_for(db, "shop1")
    assert merchant_id is not None
    source = service.Source(platform=Platform.SHOPIFY, merchant_code="shop1", zone=ZoneInfo("UTC"))
    service.import_payload(
        db, source, (FIXTURES / "shopify_order_updated.json").read_bytes(), service.feeder(merchant_id, "t")
    )
    factory.user("agent", Role.AGENT_T1)
    sign_in(client, "agent")
    listing = client.get("/orders", params={"q": "1001"})
    assert listing.status_code == 200 and 'href="/orders/1001"' in listing.text and "部分退款" in listing.text
    detail = client.get("/orders/1001")
    assert detail.status_code == 200
    assert detail.text.count('data-testid="order-refund"') == 1
    assert "Box arrived crushed" in detail.text and "店铺已退款" in detail.text
    assert "税费" in detail.text  # the tax added on top of prices quoted without it
    assert "21.46" in detail.text and "67.37" in detail.text
