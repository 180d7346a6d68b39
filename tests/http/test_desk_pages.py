"""The service desk over HTTP: the customer's contact form and thread, the agent's queue and ticket
page with its actions, the API with Idempotency-Key, and 4xx messages that say what to fix."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from aftersales.db.uow import Database
from aftersales.identity import service as identity
from aftersales.routing import service as routing
from aftersales.rules import service as rules
from aftersales.sla import service as sla
from aftersales.tickets import macros as ticket_macros
from aftersales.tickets.email import inbound as ticket_email

from ..factories import Factory, Role
from ..integration.helpers import delivered_order
from ._support import bearer, sign_in


@pytest.fixture
def shop(db: Database, factory: Factory) -> Factory:
    factory.catalogue()
    delivered_order(factory, db, "SO-1", customer="C1")
    factory.customer_user("lina", "C1")
    factory.user("agent1", Role.AGENT_T1)
    factory.user("feed", Role.INTEGRATION)
    rules.load_defaults(db)
    sla.load_defaults(db)
    ticket_macros.load_default_macros(db)
    routing.ensure_defaults(db)
    agent = identity.principal_for_username(db, "agent1")
    assert agent is not None
    routing.change_status(db, agent, routing.AgentStatus.ONLINE)
    return factory


def _ticket_number(html: str) -> str:
    found = re.search(r"TK\d{12}", html)
    assert found, html[:500]
    return found.group(0)


def test_a_customer_writes_in_and_the_agent_answers_from_the_desk(client: TestClient, shop: Factory) -> None:
    token = sign_in(client, "lina")
    form = client.get("/support").text
    assert "主题" in form and "对象" not in form  # a ticket's subject line, not "the object"
    page = client.post(
        "/support",
        data={
            "csrf_token": token,
            "order_number": "SO-1",
            "subject": "耳机没声音",
            "body": "耳机收到就没有声音",
            "form_key": "k1",
        },
    )
    assert page.status_code == 200 and "耳机收到就没有声音" in page.text
    number = _ticket_number(page.text)
    again = client.post(
        "/support", data={"csrf_token": token, "order_number": "SO-1", "body": "耳机收到就没有声音", "form_key": "k1"}
    )
    assert _ticket_number(again.text) == number  # a double submit opens one ticket

    token = sign_in(client, "agent1")
    queue = client.get("/desk?scope=mine")
    assert queue.status_code == 200 and number in queue.text and 'data-testid="sla-clock"' in queue.text
    ticket_page = client.get(f"/desk/tickets/{number}")
    assert ticket_page.status_code == 200
    assert 'data-testid="sidebar-order"' in ticket_page.text and "SO-1" in ticket_page.text
    version = re.search(r'name="version" value="(\d+)"', ticket_page.text)
    assert version
    reply = client.post(
        f"/desk/tickets/{number}/messages",
        data={
            "csrf_token": token,
            "body": "您好，马上为您处理",
            "kind": "reply",
            "then": "pending",
            "version": version.group(1),
        },
    )
    assert reply.status_code == 200 and "您好，马上为您处理" in reply.text
    stale = client.post(
        f"/desk/tickets/{number}/messages",
        data={"csrf_token": token, "body": "again", "kind": "reply", "version": version.group(1)},
    )
    assert stale.status_code == 409 and "changed since you loaded it" in stale.text

    sign_in(client, "lina")
    thread = client.get(f"/support/{number}")
    assert "您好，马上为您处理" in thread.text


def test_agent_actions_refuse_bad_input_with_a_sentence(client: TestClient, shop: Factory, db: Database) -> None:
    token = sign_in(client, "agent1")
    made = client.post(
        "/desk/new",
        data={"csrf_token": token, "channel": "phone", "requester_phone": "13800138000", "body": "电话来电：问发票"},
    )
    assert made.status_code == 200
    number = _ticket_number(made.text)
    no_reason = client.post(f"/desk/tickets/{number}/actions", data={"csrf_token": token, "action": "escalate"})
    assert no_reason.status_code == 422 and "Say why" in no_reason.text
    unknown = client.post(f"/desk/tickets/{number}/actions", data={"csrf_token": token, "action": "explode"})
    assert unknown.status_code == 422 and "Unknown action" in unknown.text
    bad_axis = client.post(
        f"/desk/tickets/{number}/classification",
        data={"csrf_token": token, "responsibility": "aliens", "scenario": "consultation"},
    )
    assert bad_axis.status_code == 422 and "Unknown responsibility" in bad_axis.text
    empty = client.post("/desk/new", data={"csrf_token": token, "channel": "phone", "body": "no contact at all"})
    assert empty.status_code == 422 and "requester" in empty.text
    solved = client.post(f"/desk/tickets/{number}/actions", data={"csrf_token": token, "action": "solve"})
    assert solved.status_code == 200 and 'data-status="solved"' in solved.text


def test_the_api_opens_once_per_idempotency_key_and_scopes_reads(client: TestClient, shop: Factory) -> None:
    headers = {**bearer(shop, "feed"), "Idempotency-Key": "crm-42"}
    body = {"body": "Parcel arrived crushed", "order_number": "SO-1", "channel": "api"}
    first = client.post("/api/v1/tickets", json=body, headers=headers)
    second = client.post("/api/v1/tickets", json=body, headers=headers)
    assert first.status_code == 201 and second.status_code == 201
    assert first.json()["number"] == second.json()["number"]
    assert first.json()["clocks"]
    # The same key with other content is another request: refused, not answered with the first.
    other = client.post("/api/v1/tickets", json={**body, "body": "Wrong colour delivered"}, headers=headers)
    assert other.status_code == 422 and "Idempotency-Key 'crm-42'" in other.json()["message"]
    assert first.json()["number"] in other.json()["message"]
    bad = client.post("/api/v1/tickets", json={"body": "x", "channel": "email"}, headers=bearer(shop, "feed"))
    assert bad.status_code == 422 and "mail gateway" in bad.text
    lina = bearer(shop, "lina")
    mine = client.get("/api/v1/tickets", headers=lina).json()
    assert [t["number"] for t in mine["items"]] == [first.json()["number"]]
    assert client.get("/api/v1/tickets/TK000000000000", headers=lina).status_code == 404


def test_live_fragments_render_for_htmx(client: TestClient, shop: Factory) -> None:
    """The SSE-triggered refreshes ask for one block of the page (HX-Target); each must render alone."""
    sign_in(client, "lina")
    number = client.post(
        "/support", data={"csrf_token": sign_in(client, "lina"), "order_number": "SO-1", "body": "在吗"}
    ).url.path.rsplit("/", 1)[-1]
    thread = client.get(f"/support/{number}", headers={"HX-Request": "true", "HX-Target": "thread"})
    assert thread.status_code == 200 and "在吗" in thread.text and "<html" not in thread.text
    sign_in(client, "agent1")
    rows = client.get("/desk?scope=active", headers={"HX-Request": "true", "HX-Target": "queue-rows"})
    assert rows.status_code == 200 and number in rows.text and "<html" not in rows.text
    for target in ("head", "thread", "viewers"):
        part = client.get(f"/desk/tickets/{number}", headers={"HX-Request": "true", "HX-Target": target})
        assert part.status_code == 200 and "<html" not in part.text, target


def test_the_ticket_page_shows_an_unverified_sender_and_failed_mail_checks(
    client: TestClient, shop: Factory, db: Database
) -> None:
    """A mail whose display name holds a customer's address and whose From the shop's MTA found failing
    DMARC: the agent sees who really wrote, that the contact is unverified, and the failed checks."""
    raw = (
        b"From: =?utf-8?q?li.na=40example.com?= <eve@evil.example>\r\nTo: service@shop.example.com\r\n"
        b"Subject: refund\r\nMessage-ID: <page@evil.example>\r\n"
        b"Authentication-Results: mx.shop.example.com; spf=fail smtp.mailfrom=evil.example; dmarc=fail\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nplease refund to my new account\r\n"
    )
    number = ticket_email.receive_email(db, raw).ticket_number
    token = sign_in(client, "agent1")
    for lang, unverified, failed in (
        ("en", "Unverified contact", "Failed sender check"),
        ("zh-CN", "未验证的联系人", "发件人验证未通过"),
    ):
        client.post("/language", data={"csrf_token": token, "lang": lang, "next": "/desk"})
        page = client.get(f"/desk/tickets/{number}")
        assert f'lang="{lang}"' in page.text
        assert page.status_code == 200
        assert unverified in page.text and "eve@evil.example" in page.text
        assert 'data-testid="mail-auth-failed"' in page.text and failed in page.text
        assert "spf=fail" in page.text and "dmarc=fail" in page.text and "mx.shop.example.com" in page.text
