"""Integrations see only their own: tokens carry scopes and every API route names the one it
needs; a merchant-bound token reads only its merchant's orders and tickets and never internal
notes; opening a ticket on someone else's order answers like a missing order; an order upsert
cannot rewrite the identity of a customer the writer does not own."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from aftersales.db.uow import Database
from aftersales.identity import service as identity
from aftersales.kit.access import Principal, Scope
from aftersales.routing import service as routing
from aftersales.rules import service as rules
from aftersales.sla import service as sla
from aftersales.tickets import service as tickets
from aftersales.tickets.domain import Channel, MessageKind
from aftersales.tickets.schemas import MessageIn, TicketIn

from ..factories import Factory, Role
from ..integration.helpers import delivered_order
from .test_authorization import iter_route_contexts


def _who(db: Database, username: str) -> Principal:
    found = identity.principal_for_username(db, username)
    assert found is not None
    return found


@pytest.fixture
def market(db: Database, factory: Factory) -> dict[str, str]:
    """Two POP merchants, an order of each for two customers, a ticket on each order with an
    internal note, and an integration bound to merchant pop-a."""
    factory.catalogue()
    delivered_order(factory, db, "SO-A1", merchant="pop-a", customer="CA", customer_name="Alice")
    delivered_order(factory, db, "SO-B1", merchant="pop-b", customer="CB", customer_name="Bob")
    factory.customer_user("alice", "CA")
    factory.customer_user("bob", "CB")
    factory.user("agent1", Role.AGENT_T1)
    factory.merchant_user("feed-a", "pop-a", Role.INTEGRATION)
    factory.user("feed", Role.INTEGRATION)
    rules.load_defaults(db)
    sla.load_defaults(db)
    routing.ensure_defaults(db)
    agent = _who(db, "agent1")
    numbers: dict[str, str] = {}
    for who, order in (("alice", "SO-A1"), ("bob", "SO-B1")):
        data = TicketIn(body=f"{who}: the headphones are broken", channel=Channel.WEB, order_number=order)
        number = tickets.open_ticket(db, data, _who(db, who)).number
        tickets.post_message(db, number, MessageIn(body="INTERNAL: refund approved", kind=MessageKind.NOTE), agent)
        numbers[order] = number
    return numbers


def _token(db: Database, username: str, *scopes: Scope) -> dict[str, str]:
    return {"Authorization": f"Bearer {identity.create_token(db, username, scopes=list(scopes)).token}"}


def test_a_token_without_the_scope_gets_403_naming_the_scope(
    client: TestClient, db: Database, market: dict[str, str]
) -> None:
    writer = _token(db, "feed", Scope.ORDERS_WRITE)
    refused = client.get("/api/v1/tickets", headers=writer)
    assert refused.status_code == 403
    assert "tickets:read" in refused.json()["message"]
    assert client.get("/api/v1/orders/SO-A1", headers=writer).status_code == 403
    reader = _token(db, "feed", Scope.TICKETS_READ, Scope.ORDERS_READ)
    assert client.get("/api/v1/tickets", headers=reader).status_code == 200
    assert client.get("/api/v1/orders/SO-A1", headers=reader).status_code == 200
    posted = client.post("/api/v1/orders", json=Factory.order_payload("SO-A9", merchant="pop-a"), headers=reader)
    assert posted.status_code == 403 and "orders:write" in posted.json()["message"]


def test_a_token_may_hold_only_scopes_its_role_may_use(db: Database, market: dict[str, str]) -> None:
    from aftersales.kit.errors import Invalid

    with pytest.raises(Invalid, match="orders:write"):
        identity.create_token(db, "alice", scopes=[Scope.ORDERS_WRITE])
    with pytest.raises(Invalid, match="at least one scope"):
        identity.create_token(db, "feed", scopes=[])


def test_every_api_route_declares_a_scope(app: FastAPI) -> None:
    """A new route cannot forget its scope: each /api/v1 route with a signed-in caller names one."""
    missing = []
    for route in iter_route_contexts(app.routes):
        path = getattr(route, "path", "")
        if not path.startswith("/api/v1") or path in (
            "/api/v1/me",
            "/api/v1/refunds/gateway-callback",
            "/api/v1/integrations/{platform}/{integration_id}/orders",  # signed by the shop platform instead
            "/api/v1/sms/inbound/twilio",  # signed by Twilio, no caller of ours
        ):
            continue
        declared = [getattr(dep.call, "required_scopes", None) for dep in route.dependant.dependencies]
        if not any(declared):
            missing.append(f"{sorted(route.methods)} {path}")
    assert not missing, missing


def test_a_merchant_bound_integration_reads_only_its_merchants_tickets_without_notes(
    client: TestClient, db: Database, market: dict[str, str]
) -> None:
    feed_a = _token(db, "feed-a", Scope.TICKETS_READ)
    listed = client.get("/api/v1/tickets", headers=feed_a).json()
    assert [t["number"] for t in listed["items"]] == [market["SO-A1"]]
    assert client.get(f"/api/v1/tickets/{market['SO-B1']}", headers=feed_a).status_code == 404
    own = client.get(f"/api/v1/tickets/{market['SO-A1']}", headers=feed_a)
    assert own.status_code == 200
    assert "INTERNAL" not in own.text
    assert [m["kind"] for m in own.json()["messages"]] == ["customer"]
    assert own.json()["tags"] == [] and own.json()["auto_classification"] == {}


def test_opening_a_ticket_on_another_merchants_order_answers_like_a_missing_order(
    client: TestClient, db: Database, market: dict[str, str]
) -> None:
    feed_a = _token(db, "feed-a", Scope.TICKETS_WRITE, Scope.TICKETS_READ)

    def attempt(order_number: str) -> Any:
        body = {"body": "where is it", "channel": "api", "order_number": order_number}
        return client.post("/api/v1/tickets", json=body, headers=feed_a)

    foreign, missing = attempt("SO-B1"), attempt("SO-ZZ")
    assert foreign.status_code == missing.status_code == 422
    assert foreign.json()["message"].replace("SO-B1", "#") == missing.json()["message"].replace("SO-ZZ", "#")
    assert "Bob" not in foreign.text and "398" not in foreign.text
    own = attempt("SO-A1")
    assert own.status_code == 201, own.text
    # The ticket it opened is its merchant's: it reads it back.
    assert client.get(f"/api/v1/tickets/{own.json()['number']}", headers=feed_a).status_code == 200


def _customer(client: TestClient, headers: dict[str, str], number: str) -> dict[str, Any]:
    order = client.get(f"/api/v1/orders/{number}", headers=headers).json()
    return {"name": order["customer_name"], "phone": order["customer_phone"]}


def test_an_upsert_attaches_an_order_but_cannot_rewrite_a_customer_it_does_not_own(
    client: TestClient, db: Database, factory: Factory, market: dict[str, str]
) -> None:
    feed_a = _token(db, "feed-a", Scope.ORDERS_WRITE, Scope.ORDERS_READ)
    factory.user("root", Role.ADMIN)
    admin = {"Authorization": f"Bearer {factory.token('root')}"}
    before = _customer(client, admin, "SO-B1")
    payload = Factory.order_payload(
        "SO-A7", merchant="pop-a", customer="CB", customer_name="Mallory", phone="13999999999"
    )
    payload["customer"]["email"] = "mallory@evil.example.com"
    created = client.post("/api/v1/orders", json=payload, headers=feed_a)
    assert created.status_code == 201, created.text
    assert sorted(created.json()["customer_fields_kept"]) == ["email", "name", "phone"]
    # The order is attached to Bob; Bob stays Bob everywhere, his notifications still reach him.
    assert _customer(client, admin, "SO-A7") == before == _customer(client, admin, "SO-B1")
    assert identity.principal_for_username(db, "bob") is not None
    from aftersales.orders import service as orders

    contact = orders.customer_contact(db, orders.customer_id_for(db, "CB") or 0)
    assert contact is not None and contact.email != "mallory@evil.example.com" and contact.name == "Bob"
    # A customer the merchant's integration created is its own to correct.
    mine = Factory.order_payload("SO-A8", merchant="pop-a", customer="CA-OWN", customer_name="Own")
    assert client.post("/api/v1/orders", json=mine, headers=feed_a).status_code == 201
    mine.update(version=2, number="SO-A8")
    mine["customer"]["name"] = "Own Renamed"
    updated = client.post("/api/v1/orders", json=mine, headers=feed_a)
    assert updated.status_code == 200 and updated.json()["customer_fields_kept"] == []
    assert _customer(client, admin, "SO-A8")["name"] == "Own Renamed"


def test_every_role_a_route_admits_may_hold_the_scope_it_needs(app: FastAPI) -> None:
    """The table of which roles may hold which scope agrees with the routes: a role a route admits
    can always be given a token for it."""
    from aftersales.identity.domain import SCOPE_ROLES
    from aftersales.kit.access import Role

    gaps = []
    for route in iter_route_contexts(app.routes):
        for dep in getattr(getattr(route, "dependant", None), "dependencies", []):
            scopes = getattr(dep.call, "required_scopes", None)
            if not scopes:
                continue
            roles = dep.call.allowed_roles or frozenset(Role)
            gaps += [f"{route.path}: {r.value} lacks {s.value}" for s in scopes for r in roles - SCOPE_ROLES[s]]
    assert not gaps, gaps
