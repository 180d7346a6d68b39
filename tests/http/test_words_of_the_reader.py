"""What the system writes is read in the reader's language, whoever caused it: a chat hand-off's
subject (opened by an English customer, read by a Chinese desk), the order system named as the
actor of an order's timeline, a refused ticket's "no order you can see", a refused dry run."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient

from aftersales.db.uow import Database
from aftersales.kit.access import Principal, Role
from aftersales.orders import service as orders
from aftersales.orders.schemas import OrderIn
from aftersales.routing import service as routing
from aftersales.rules import service as rules
from aftersales.sla import service as sla

from ..factories import Factory, csrf_from
from ..integration.helpers import delivered_order
from ._support import sign_in


@pytest.fixture
def shop(db: Database, factory: Factory) -> Factory:
    factory.catalogue()
    delivered_order(factory, db, "SO-1", customer="C1")
    factory.customer_user("emma", "C1")
    factory.user("agent1", Role.AGENT_T1)
    factory.user("boss", Role.SUPERVISOR)
    rules.load_defaults(db)
    sla.load_defaults(db)
    routing.ensure_defaults(db)
    return factory


def speak(client: TestClient, lang: str) -> str:
    token = csrf_from(client.get("/account").text)
    client.post("/language", data={"lang": lang, "next": "/", "csrf_token": token})
    return csrf_from(client.get("/account").text)


def test_a_hand_off_reads_in_the_desks_language_and_in_the_customers(client: TestClient, shop: Factory) -> None:
    sign_in(client, "emma")
    token = speak(client, "en")
    chat = re.search(r"/chat/(\d+)/messages", client.get("/chat").text)
    assert chat, "the chat page offers no conversation"
    client.post(f"/chat/{chat.group(1)}/human", data={"csrf_token": token})
    mine = client.get("/support").text
    assert "Chat: the customer asked for a person" in mine and "handoff.subject" not in mine

    sign_in(client, "agent1")
    speak(client, "zh-CN")
    desk = client.get("/desk?scope=all").text
    assert "在线咨询：客户要求人工服务" in desk
    assert "Chat: the customer" not in desk and "handoff.subject" not in desk
    number = re.search(r"TK\d{12}", desk)
    assert number
    title = client.get(f"/desk/tickets/{number.group(0)}").text
    assert re.search(r'data-testid="ticket-title">TK\d+ · 在线咨询：客户要求人工服务', title)
    assert "handoff.subject" not in title  # the first message, with no words of the customer's, too
    why = re.search(r"优先级依据: ([^<]*)", title)
    assert why and "；" in why.group(1), "the hand-off names its priority's reasons, one after the other"
    assert "。;" not in why.group(1) and "。；" not in why.group(1)


def test_the_api_gives_a_hand_offs_subject_in_words_in_the_callers_language(client: TestClient, shop: Factory) -> None:
    sign_in(client, "emma")
    token = speak(client, "en")
    chat = re.search(r"/chat/(\d+)/messages", client.get("/chat").text)
    assert chat, "the chat page offers no conversation"
    client.post(f"/chat/{chat.group(1)}/human", data={"csrf_token": token})
    client.cookies.clear()
    bearer = {"Authorization": f"Bearer {shop.token('agent1')}"}

    listed = client.get("/api/v1/tickets", headers={**bearer, "Accept-Language": "en"}).json()["items"]
    assert [t["subject"] for t in listed] == ["Chat: the customer asked for a person"]
    number = listed[0]["number"]
    one = client.get(f"/api/v1/tickets/{number}", headers={**bearer, "Accept-Language": "zh-CN"}).json()
    assert one["subject"] == "在线咨询：客户要求人工服务"
    assert "handoff.subject" not in client.get(f"/api/v1/tickets/{number}", headers=bearer).text


def test_the_order_system_is_named_in_the_readers_language(client: TestClient, db: Database, shop: Factory) -> None:
    # Databases seeded before the demo named its order system "order system" stored "订单系统".
    for name, number in (("订单系统", "SO-OLD"), ("order system", "SO-NEW")):
        feed = Principal(user_id=0, username="demo-seed", role=Role.INTEGRATION, display_name=name)
        orders.upsert_order(db, OrderIn.model_validate(shop.order_payload(number, customer="C1")), feed)
    sign_in(client, "emma")
    speak(client, "en")
    for number in ("SO-OLD", "SO-NEW"):
        page = client.get(f"/orders/{number}").text
        assert "订单系统" not in page and "order system" in page
    speak(client, "zh-CN")
    assert "订单系统" in client.get("/orders/SO-NEW").text


def test_a_ticket_on_an_order_nobody_can_see_is_refused_in_the_readers_language(
    client: TestClient, shop: Factory
) -> None:
    token = sign_in(client, "emma")
    form = {"csrf_token": token, "order_number": "SO-NOPE", "subject": "耳机", "body": "耳机没声音"}
    refused = client.post("/support", data=form)
    assert refused.status_code == 422
    assert "找不到订单“SO-NOPE”" in refused.text and "that you can see" not in refused.text
    token = speak(client, "en")
    english = client.post("/support", data={**form, "csrf_token": token})
    assert "No order 'SO-NOPE' that you can see" in html.unescape(english.text)


def test_a_dry_run_missing_its_order_line_says_so_in_the_readers_language(client: TestClient, shop: Factory) -> None:
    token = sign_in(client, "boss")
    answer = client.post(
        "/admin/policies/dry-run", data={"csrf_token": token, "mode": "order", "kind": "return_refund"}
    )
    assert answer.status_code == 422
    assert "请修改：" in answer.text and "订单号" in answer.text
    assert "Value error" not in answer.text and "order_number" not in re.sub(r'name="order_number"', "", answer.text)
