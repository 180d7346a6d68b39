"""The buyer's choices over HTTP: /account/messages (class × channel, effective at once), the signed
one-click unsubscribe link (GET changes nothing, POST does; a forged one is a 422 that says what to
do), the JSON routes, and a merchant reading why its messages were refused."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from aftersales.config import get_settings, reset_settings
from aftersales.db.uow import Database
from aftersales.kit.access import Role
from aftersales.kit.vocabulary import MessageClass
from aftersales.notifications import governor, sms
from aftersales.notifications import service as notifications
from aftersales.notifications.models import MarketingConsent
from aftersales.orders import service as orders
from aftersales.orders.schemas import OrderIn

from ..factories import FEED, Factory
from ._support import bearer, sign_in

PROACTIVE = MessageClass.SERVICE_PROACTIVE


@pytest.fixture
def lina(factory: Factory, db: Database) -> int:
    factory.catalogue()
    payload = factory.order_payload("SO-1")
    payload["customer"].update({"email": "lina@example.com"})
    orders.upsert_order(db, OrderIn.model_validate(payload), FEED)
    factory.customer_user("lina", "C1")
    customer_id = orders.customer_id_for(db, "C1")
    assert customer_id is not None
    return customer_id


def opted_out(db: Database, customer_id: int) -> set[tuple[str, str]]:
    return {(c.message_class, c.channel) for c in notifications.outreach_choices(db, customer_id) if c.opted_out}


def test_the_buyer_turns_classes_off_per_channel_and_consents_to_marketing(
    client: TestClient, db: Database, lina: int
) -> None:
    token = sign_in(client, "lina")
    assert 'href="/account/messages"' in client.get("/account").text
    page = client.get("/account/messages")
    assert page.status_code == 200 and "我接收的消息" in page.text
    assert 'data-testid="outreach-service_proactive-email"' in page.text
    # Every proactive box is ticked at first, no marketing box (no consent yet).
    assert len(re.findall(r'name="receive\.service_proactive\.[a-z]+" value="on"[^>]*checked', page.text)) == 2
    assert not re.findall(r'name="receive\.marketing\.[a-z]+" value="on"[^>]*checked', page.text)
    form = {"csrf_token": token, "receive.service_proactive.inapp": "on", "receive.marketing.email": "on"}
    saved = client.post("/account/messages", data=form, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == "/account/messages?saved=1"
    assert opted_out(db, lina) == {("service_proactive", "email"), ("marketing", "inapp")}
    with db.read() as uow:
        [consent] = uow.session.scalars(select(MarketingConsent)).all()
    assert (consent.channel, consent.granted, consent.recorded_by, consent.source) == ("email", True, "lina", "account")
    assert consent.wording_version == "account-2026-12"
    again = client.get("/account/messages?saved=1").text
    assert 'data-testid="outreach-saved"' in again
    assert re.search(r'name="receive\.marketing\.email" value="on"[^>]*checked', again)
    # Without the CSRF token nothing changes.
    assert client.post("/account/messages", data={"receive.marketing.sms": "on"}).status_code == 403


def test_the_link_in_an_email_unsubscribes_in_one_click_and_a_forged_one_is_told(
    client: TestClient, db: Database, lina: int
) -> None:
    token = governor.unsubscribe_token(get_settings().secret_key, lina, PROACTIVE, governor.Channel.EMAIL)
    page = client.get(f"/outreach/unsubscribe/{token}", headers={"Accept-Language": "en"})
    assert page.status_code == 200 and 'data-testid="unsubscribe-confirm"' in page.text
    assert opted_out(db, lina) == set()  # a GET (a mail scanner) changes nothing
    done = client.post(f"/outreach/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and 'data-testid="unsubscribed"' in done.text
    assert opted_out(db, lina) == {("service_proactive", "email")}
    forged = client.post(
        f"/outreach/unsubscribe/{token[:-1]}0" if token[-1] != "0" else f"/outreach/unsubscribe/{token[:-1]}1"
    )
    assert forged.status_code == 403 and "退订链接无效" in forged.text


def test_the_json_routes_for_choices_consent_and_decisions(
    client: TestClient, db: Database, factory: Factory, lina: int
) -> None:
    factory.user("ops", Role.ADMIN)
    factory.merchant_user("shop", "selfop")
    customer = bearer(factory, "lina")
    assert client.get("/api/v1/outreach/choices", headers=customer).status_code == 200
    refused = client.put(
        "/api/v1/outreach/choices",
        json={"message_class": "transactional", "channel": "email", "opted_out": True},
        headers=customer,
    )
    assert refused.status_code == 422 and "status notices always go" in refused.text
    turned = client.put(
        "/api/v1/outreach/choices",
        json={"message_class": "marketing", "channel": "sms", "opted_out": True},
        headers=customer,
    )
    assert (
        turned.status_code == 200
        and {"message_class": "marketing", "channel": "sms", "opted_out": True} in turned.json()
    )
    consent = {"customer_id": lina, "channel": "email", "wording_version": "checkout-v3"}
    assert client.post("/api/v1/outreach/consents", json=consent, headers=customer).status_code == 403
    assert client.post("/api/v1/outreach/consents", json=consent, headers=bearer(factory, "ops")).status_code == 204
    assert (
        client.post(
            "/api/v1/outreach/consents", json={**consent, "wording_version": ""}, headers=bearer(factory, "ops")
        ).status_code
        == 422
    )
    # A merchant reads why its marketing did not go.
    notifications.notify(
        db,
        lina,
        "order.status_changed",
        {"order": "SO-1", "to": "shipped", "merchant_id": orders.merchant_id_for(db, "selfop")},
        "promo:1",
        message_class=MessageClass.MARKETING,
    )
    shop = client.get("/api/v1/outreach/decisions?lang=en", headers=bearer(factory, "shop"))
    assert shop.status_code == 200
    [decision] = shop.json()
    assert decision["action"] in ("send", "defer") and decision["message_class"] == "marketing"
    assert client.get("/api/v1/outreach/decisions", headers=bearer(factory, "ops")).status_code == 422
    assert client.get(f"/api/v1/outreach/decisions?customer_id={lina}", headers=bearer(factory, "ops")).json()
    assert client.get("/api/v1/outreach/decisions", headers=customer).status_code == 403


def test_a_signed_td_reply_from_twilio_opts_the_number_out_and_an_unsigned_one_is_refused(
    client: TestClient, db: Database, lina: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AFTERSALES_SMS_PROVIDER", "twilio")
    monkeypatch.setenv("AFTERSALES_TWILIO_AUTH_TOKEN", "tw-token")
    monkeypatch.setenv("AFTERSALES_PUBLIC_URL", "https://shop.example.com")
    reset_settings()
    try:
        url = "https://shop.example.com/api/v1/sms/inbound/twilio"
        form = {"From": "+8613800138000", "Body": "退订", "MessageSid": "SM1", "AccountSid": "AC1"}
        forged = client.post("/api/v1/sms/inbound/twilio", data=form, headers={"X-Twilio-Signature": "x"})
        assert forged.status_code == 403 and opted_out(db, lina) == set()
        chatty = {**form, "Body": "退订了吗？"}
        signed = {"X-Twilio-Signature": sms.twilio_signature("tw-token", url, chatty)}
        assert client.post("/api/v1/sms/inbound/twilio", data=chatty, headers=signed).status_code == 200
        assert opted_out(db, lina) == set()  # not exactly a keyword: nothing changes
        signed = {"X-Twilio-Signature": sms.twilio_signature("tw-token", url, form)}
        answer = client.post("/api/v1/sms/inbound/twilio", data=form, headers=signed)
        assert answer.status_code == 200 and answer.text.endswith("<Response></Response>")
        assert opted_out(db, lina) == {("service_proactive", "sms"), ("marketing", "sms")}
        # With a gateway configured the buyer sees, and can change, the SMS column.
        sign_in(client, "lina")
        page = client.get("/account/messages").text
        assert 'data-testid="outreach-service_proactive-sms"' in page
        assert not re.search(r'name="receive\.service_proactive\.sms" value="on"[^>]*checked', page)
    finally:
        reset_settings()
