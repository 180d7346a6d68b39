"""The wallet over HTTP: the agent's offer from the ticket's sidebar (once per ticket, within the
policies' limit, refusals in words and never a 500), the VIP members' extra coupon from the case
page, the customer's own wallet page in both languages, and the JSON routes with their scopes."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from aftersales.cases import service as cases
from aftersales.cases.domain import CaseKind, CaseReason
from aftersales.cases.schemas import CaseDraft, CaseLineIn
from aftersales.db.uow import Database
from aftersales.identity import service as identity
from aftersales.kit import clock
from aftersales.orders import service as orders
from aftersales.orders.schemas import LogisticsEventIn, OrderIn
from aftersales.wallet import service as wallet

from ..factories import FEED, Factory
from ._support import bearer, sign_in
from .test_desk_pages import shop as shop

pytestmark = pytest.mark.usefixtures("shop")


def _ticket(client: TestClient) -> str:
    token = sign_in(client, "lina")
    page = client.post("/support", data={"csrf_token": token, "order_number": "SO-1", "body": "快递员态度很差"})
    found = re.search(r"TK\d{12}", page.text)
    assert found, page.text[:300]
    return found.group(0)


def _said(client: TestClient, ticket: str) -> str:
    panel = client.get(f"/wallet/panel?order=SO-1&ticket={ticket}").text
    shown = re.search(r'data-testid="wallet-said">([^<]*)<', panel)
    assert shown, panel[:400]
    return html.unescape(shown.group(1))


def _offer(client: TestClient, token: str, ticket: str, amount: str, reason: str = "致歉") -> str:
    answer = client.post(
        "/wallet/offers",
        data={"csrf_token": token, "order_number": "SO-1", "ticket_number": ticket, "amount": amount, "reason": reason},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == f"/desk/tickets/{ticket}"
    return _said(client, ticket)


def test_the_agent_offers_a_coupon_from_the_tickets_sidebar_once(client: TestClient, db: Database) -> None:
    ticket = _ticket(client)
    token = sign_in(client, "agent1")
    page = client.get(f"/desk/tickets/{ticket}").text
    assert 'data-testid="sidebar-wallet"' in page and f"/wallet/panel?order=SO-1&amp;ticket={ticket}" in page
    panel = client.get(f"/wallet/panel?order=SO-1&ticket={ticket}").text
    assert 'data-testid="offer-coupon"' in panel and "本单上限 ¥20.00" in panel

    assert "超过政策上限" in _offer(client, token, ticket, "20.01")
    assert "金额" in _offer(client, token, ticket, "二十元")  # words, not a number: a sentence, not a 500
    assert "检查" in _offer(client, token, ticket, "5", reason="")
    said = _offer(client, token, ticket, "12.50", reason="快递员态度差，致歉")
    assert said.startswith("已发放优惠券 CPN")
    assert "已为此发放过优惠券" in _offer(client, token, ticket, "3")  # once per ticket

    panel = client.get(f"/wallet/panel?order=SO-1&ticket={ticket}").text
    assert panel.count("客服补偿") == 1 and "¥12.50" in panel and "agent1" in panel
    lina = identity.principal_for_username(db, "lina")
    assert lina is not None and lina.customer_id is not None
    offered = [e for e in wallet.wallet_of(db, lina.customer_id, lina).entries if e.trigger == "agent_offer"]
    assert [(e.value, e.source_ref, e.reason) for e in offered] == [(Decimal("12.50"), "agent1", "快递员态度差，致歉")]


def test_hostile_or_missing_input_is_refused_in_words(client: TestClient) -> None:
    token = sign_in(client, "agent1")
    missing = client.post(
        "/wallet/offers",
        data={"csrf_token": token, "order_number": "SO-404", "amount": "5", "reason": "x"},
        follow_redirects=False,
    )
    assert missing.status_code == 404
    odd = client.post(
        "/wallet/offers",
        data={"csrf_token": token, "order_number": "../../etc", "amount": "5", "reason": "x"},
        follow_redirects=False,
    )
    assert odd.status_code == 303
    assert client.get("/wallet/panel?order=SO-404").status_code == 404
    assert client.get("/wallet/panel").status_code == 422
    no_csrf = client.post("/wallet/offers", data={"order_number": "SO-1", "amount": "5", "reason": "x"})
    assert no_csrf.status_code == 403


def test_customers_see_their_wallet_and_may_not_offer(client: TestClient, shop: Factory) -> None:
    token = sign_in(client, "agent1")
    client.post(
        "/wallet/offers",
        data={"csrf_token": token, "order_number": "SO-1", "amount": "8", "reason": "物流延误致歉"},
        follow_redirects=False,
    )
    token = sign_in(client, "lina")
    page = client.get("/wallet").text
    assert "我的钱包" in page and "¥8.00" in page and "客服补偿" in page and 'data-status="issued"' in page
    assert 'data-testid="nav-wallet"' in page
    client.post("/language", data={"lang": "en", "next": "/", "csrf_token": token})
    english = client.get("/wallet").text
    assert "My wallet" in english and "Goodwill from customer service" in english
    assert client.get("/wallet/panel?order=SO-1").status_code == 403
    refused = client.post(
        "/wallet/offers",
        data={"csrf_token": token, "order_number": "SO-1", "amount": "8", "reason": "me"},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    sign_in(client, "agent1")
    assert client.get("/wallet").status_code == 403  # an agent has no wallet of their own


def test_the_json_routes_offer_once_and_show_the_customers_own(client: TestClient, shop: Factory) -> None:
    agent = bearer(shop, "agent1")
    body = {"order_number": "SO-1", "amount": "6.00", "reason": "goodwill"}
    made = client.post("/api/v1/wallet/offers", json=body, headers=agent)
    assert made.status_code == 201, made.text
    assert made.json()["value"] == "6.00" and made.json()["source_ref"] == "agent1"
    again = client.post("/api/v1/wallet/offers", json=body, headers=agent)
    assert again.status_code == 409 and "already given" in again.json()["message"]
    assert client.post("/api/v1/wallet/offers", json={**body, "amount": "-1"}, headers=agent).status_code == 422
    assert client.post("/api/v1/wallet/offers", json={**body, "extra": 1}, headers=agent).status_code == 422
    mine = client.get("/api/v1/wallet", headers=bearer(shop, "lina"))
    assert mine.status_code == 200 and mine.json()["usable_total"] == "6.00"
    assert client.post("/api/v1/wallet/offers", json=body, headers=bearer(shop, "lina")).status_code == 403


def test_the_agent_gives_a_vip_members_extra_coupon_from_the_case_page(
    client: TestClient, db: Database, factory: Factory
) -> None:
    now = clock.now()
    payload = factory.order_payload(
        "SO-VIP",
        customer="V1",
        phone="13700000000",
        updated_at=now - timedelta(days=3),
        shipments=[{"carrier": "SF", "tracking_number": "TVIP"}],
    )
    payload["customer"]["tier"] = "vip"
    payload["placed_at"] = payload["paid_at"] = (now - timedelta(days=4)).isoformat()
    orders.upsert_order(db, OrderIn.model_validate(payload), FEED)
    delivered = LogisticsEventIn(
        event_id="EVIP", carrier="SF", tracking_number="TVIP", node="delivered", occurred_at=now - timedelta(days=1)
    )
    orders.record_logistics_event(db, delivered, FEED)
    factory.customer_user("vip", "V1")
    vip = identity.principal_for_username(db, "vip")
    assert vip is not None
    draft = CaseDraft(
        order_number="SO-VIP",
        kind=CaseKind.RETURN_REFUND,
        reason=CaseReason.CHANGED_MIND,
        lines=[CaseLineIn(line_no=1, quantity=1)],
        return_method="mail_back",
    )
    number = cases.submit(db, draft, vip, via="customer").number
    sign_in(client, "vip")
    assert 'data-testid="vip-coupon"' not in client.get(f"/cases/{number}").text
    token = sign_in(client, "agent1")
    page = client.get(f"/cases/{number}").text
    assert 'data-testid="vip-coupon"' in page
    given = client.post("/wallet/vip-offers", data={"csrf_token": token, "case_number": number}, follow_redirects=False)
    assert given.status_code == 303 and given.headers["location"] == f"/cases/{number}"
    assert "已发放优惠券" in client.get(f"/cases/{number}").text
    twice = client.post("/wallet/vip-offers", data={"csrf_token": token, "case_number": number}, follow_redirects=False)
    assert "已为此发放过优惠券" in client.get(twice.headers["location"]).text
    sign_in(client, "vip")
    wallet = client.get("/wallet").text
    assert "¥10.00" in wallet and "会员售后加赠" in wallet
