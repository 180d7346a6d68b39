"""Scopes everywhere: the ticket sidebar and order search show only orders the viewer may see,
live streams carry only what the subscriber may see, merging two customers' tickets needs an
explicit confirmation, and order pages mask phones and addresses for merchants."""

from __future__ import annotations

import asyncio
import re
import threading

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from aftersales.db.uow import Database
from aftersales.identity import service as identity
from aftersales.kit.access import Principal
from aftersales.kit.errors import NotFound
from aftersales.routing import service as routing
from aftersales.rules import service as rules
from aftersales.sla import service as sla
from aftersales.tickets import service as tickets
from aftersales.tickets.domain import Channel, MessageKind
from aftersales.tickets.schemas import MessageIn, TicketIn
from aftersales.tickets.web import desk as tickets_web

from ..factories import Factory, Role
from ..integration.helpers import delivered_order
from ._support import bearer, sign_in


def _who(db: Database, username: str) -> Principal:
    found = identity.principal_for_username(db, username)
    assert found is not None
    return found


@pytest.fixture
def market(db: Database, factory: Factory) -> dict[str, str]:
    """Alice bought from pop-a and pop-b; Bob from pop-b. One ticket per order."""
    factory.catalogue()
    delivered_order(factory, db, "SO-A1", merchant="pop-a", customer="CA", customer_name="Alice", phone="13800000001")
    delivered_order(factory, db, "SO-B2", merchant="pop-b", customer="CA", customer_name="Alice", phone="13800000001")
    delivered_order(factory, db, "SO-B1", merchant="pop-b", customer="CB", customer_name="Bob", phone="13800000002")
    factory.customer_user("alice", "CA")
    factory.customer_user("bob", "CB")
    factory.user("agent1", Role.AGENT_T1)
    factory.merchant_user("shop-a", "pop-a")
    factory.merchant_user("shop-b", "pop-b")
    rules.load_defaults(db)
    sla.load_defaults(db)
    routing.ensure_defaults(db)
    numbers: dict[str, str] = {}
    for who, order in (("alice", "SO-A1"), ("alice", "SO-B2"), ("bob", "SO-B1")):
        data = TicketIn(body=f"{who} writes about {order}", channel=Channel.WEB, order_number=order)
        numbers[order] = tickets.open_ticket(db, data, _who(db, who)).number
    return numbers


def test_the_ticket_sidebar_shows_a_merchant_only_its_own_orders_and_tickets(
    client: TestClient, market: dict[str, str]
) -> None:
    sign_in(client, "shop-a")
    page = client.get(f"/desk/tickets/{market['SO-A1']}")
    assert page.status_code == 200, page.text
    assert "SO-A1" in page.text
    assert "SO-B2" not in page.text and market["SO-B2"] not in page.text
    sign_in(client, "agent1")
    page = client.get(f"/desk/tickets/{market['SO-A1']}")
    assert "SO-B2" in page.text and market["SO-B2"] in page.text


def test_order_search_shows_a_merchant_only_its_own_orders(client: TestClient, market: dict[str, str]) -> None:
    sign_in(client, "shop-a")
    for query in ("SO-", "SO-B1", "Alice", "13800000001"):
        found = set(re.findall(r"/orders/(SO-[AB]\d)", client.get("/orders", params={"q": query}).text))
        assert found <= {"SO-A1"}, (query, found)


def test_order_pages_mask_phones_and_addresses_for_merchants(
    client: TestClient, factory: Factory, market: dict[str, str]
) -> None:
    sign_in(client, "shop-a")
    page = client.get("/orders/SO-A1")
    assert page.status_code == 200
    assert "13800000001" not in page.text and "世纪大道" not in page.text
    assert "138****0001" in page.text
    api = client.get("/api/v1/orders/SO-A1", headers=bearer(factory, "shop-a")).json()
    assert api["customer_phone"] == api["recipient_phone"] == "138****0001"
    assert "世纪大道" not in api["address_detail"]
    sign_in(client, "agent1")
    page = client.get("/orders/SO-A1")
    assert "13800000001" in page.text and "世纪大道" in page.text
    sign_in(client, "alice")
    assert "世纪大道" in client.get("/orders/SO-A1").text


def test_a_ticket_stream_answers_only_those_who_may_see_the_ticket(db: Database, market: dict[str, str]) -> None:
    # The endpoint itself: over HTTP an answered stream would never end.
    with pytest.raises(NotFound):
        asyncio.run(tickets_web.ticket_stream(market["SO-A1"], db=db, principal=_who(db, "shop-b")))
    response = asyncio.run(tickets_web.ticket_stream(market["SO-A1"], db=db, principal=_who(db, "shop-a")))
    assert response.media_type == "text/event-stream"


def test_the_desk_stream_carries_only_the_merchants_own_tickets(
    app: FastAPI, db: Database, market: dict[str, str]
) -> None:
    """A real stream: shop-a listens on the desk stream; a change to pop-b's ticket does not reach
    it, a change to its own ticket does."""
    agent = _who(db, "agent1")

    def note(number: str) -> None:
        tickets.post_message(db, number, MessageIn(body="looking", kind=MessageKind.NOTE), agent)

    async def scenario() -> list[str]:
        response = await tickets_web.desk_stream(principal=_who(db, "shop-a"))
        frames = response.body_iterator
        heard: list[str] = []
        first = await frames.__anext__()  # type: ignore[union-attr]
        heard.append(first if isinstance(first, str) else bytes(first).decode())
        waiting = asyncio.ensure_future(frames.__anext__())  # type: ignore[union-attr]
        await asyncio.sleep(0.1)
        await asyncio.to_thread(note, market["SO-B1"])
        await asyncio.to_thread(note, market["SO-B2"])
        await asyncio.sleep(0.5)
        assert not waiting.done(), "a change to another merchant's ticket reached the stream"
        await asyncio.to_thread(note, market["SO-A1"])
        frame = await asyncio.wait_for(waiting, 5)
        heard.append(frame if isinstance(frame, str) else bytes(frame).decode())
        await frames.aclose()  # type: ignore[union-attr]
        return heard

    heard = asyncio.run(scenario())
    assert heard[0].startswith("event: ready")
    assert heard[1].startswith("event: changed")
    assert threading.active_count() >= 1


def test_merging_two_customers_tickets_needs_an_explicit_confirmation(
    client: TestClient, factory: Factory, market: dict[str, str]
) -> None:
    source, target = market["SO-B1"], market["SO-A1"]  # Bob's into Alice's
    agent = bearer(factory, "agent1")
    refused = client.post(
        f"/api/v1/tickets/{source}/actions", json={"action": "merge", "merge_into": target}, headers=agent
    )
    assert refused.status_code == 409
    assert "different customers" in refused.json()["message"]
    token = sign_in(client, "agent1")
    form = {"csrf_token": token, "action": "merge", "merge_into": target}
    page = client.post(f"/desk/tickets/{source}/actions", data=form, follow_redirects=False)
    assert page.status_code == 409 and "different customers" in page.text
    assert 'name="confirm_other_customer"' in page.text  # the desk form asks
    done = client.post(
        f"/desk/tickets/{source}/actions", data={**form, "confirm_other_customer": "yes"}, follow_redirects=False
    )
    assert done.status_code == 303, done.text
    merged = client.get(f"/api/v1/tickets/{source}", headers=agent).json()
    assert merged["merged_into"] == target and merged["status"] == "closed"
    # Neither customer reads the other's messages on their support page.
    sign_in(client, "alice")
    assert "bob writes" not in client.get(f"/support/{target}").text
    sign_in(client, "bob")
    bobs = client.get(f"/support/{source}")
    assert bobs.status_code == 200 and "alice writes" not in bobs.text


def test_order_search_gives_no_hint_of_another_merchants_order_number(
    client: TestClient, db: Database, factory: Factory, market: dict[str, str]
) -> None:
    """SO-B1 is pop-b's. pop-a's SO-B10 starts with it: pop-a's search for SO-B1 must list SO-B10
    as a prefix match, exactly as if SO-B1 did not exist."""
    delivered_order(factory, db, "SO-B10", merchant="pop-a", customer="CA", customer_name="Alice")
    sign_in(client, "shop-a")
    found = set(re.findall(r"/orders/(SO-[AB]\d+)", client.get("/orders", params={"q": "SO-B1"}).text))
    assert found == {"SO-B10"}
