"""The customer's inbox over HTTP: the page, marking read (form and htmx), the nav badge and the
JSON API; every customer sees only their own messages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from aftersales.config import Settings
from aftersales.db.uow import Database
from aftersales.kit.access import Role
from aftersales.main import create_app
from aftersales.messaging import outbox
from aftersales.notifications import api as notifications_api
from aftersales.notifications import handlers
from aftersales.notifications import service as notifications
from aftersales.notifications import web as notifications_web
from aftersales.orders import service as orders

from ..factories import Factory
from ._support import bearer, sign_in


@pytest.fixture
def app(settings: Settings, db: Database) -> FastAPI:
    """The app as main.py builds it, with the notification routes added until main.py mounts them."""
    application = create_app(settings)
    paths = {getattr(route, "path", "") for route in application.routes}
    if "/inbox" not in paths:
        application.include_router(notifications_web.router)
    if "/api/v1/inbox" not in paths:
        application.include_router(notifications_api.router, prefix="/api/v1")
    return application


@pytest.fixture
def customers(factory: Factory) -> dict[str, int]:
    """Two customers with an account each (no email address: these tests are about the inbox)."""
    factory.catalogue()
    ids = {}
    for external, number, user in (("C1", "SO-1", "li-na"), ("C2", "SO-2", "wang-wei")):
        factory.put_order(number=number, customer=external)
        factory.customer_user(user, external)
        customer_id = orders.customer_id_for(factory.db, external)
        assert customer_id is not None
        ids[user] = customer_id
    return ids


def shipped(db: Database, customer_id: int, order: str, key: str) -> int:
    params = {"order": order, "from": "paid", "to": "shipped"}
    result = notifications.notify(db, customer_id, "order.status_changed", params, key)
    assert result is not None
    return result.inbox_id


def messages(html: str) -> list[dict[str, Any]]:
    found = re.findall(r'id="message-(\d+)" data-testid="inbox-message" data-unread="(true|false)"', html)
    return [{"id": int(mid), "unread": unread == "true"} for mid, unread in found]


def test_a_customer_sees_only_their_own_messages_newest_first(
    client: TestClient, db: Database, customers: dict[str, int]
) -> None:
    older = shipped(db, customers["li-na"], "SO-1", "k1")
    newer = notifications.notify(
        db, customers["li-na"], "order.status_changed", {"order": "SO-1", "from": "shipped", "to": "delivered"}, "k2"
    )
    assert newer is not None
    theirs = shipped(db, customers["wang-wei"], "SO-2", "k3")

    sign_in(client, "li-na")
    page = client.get("/inbox")
    assert page.status_code == 200
    assert [m["id"] for m in messages(page.text)] == [newer.inbox_id, older]
    assert "订单 SO-1 已送达" in page.text and "订单 SO-1 已发货" in page.text
    assert "SO-2" not in page.text and f"message-{theirs}" not in page.text
    assert "消息中心" in page.text and "2 条未读" in page.text
    assert 'href="/orders/SO-1"' in page.text


def test_the_page_speaks_english_and_the_message_keeps_the_customers_language(
    client: TestClient, db: Database, customers: dict[str, int]
) -> None:
    shipped(db, customers["li-na"], "SO-1", "k1")
    sign_in(client, "li-na")
    page = client.get("/inbox", headers={"Accept-Language": "en"})
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert token is not None
    client.post("/language", data={"lang": "en", "next": "/inbox", "csrf_token": token.group(1)})
    english = client.get("/inbox")
    assert "Inbox" in english.text and "1 unread" in english.text and "Mark as read" in english.text
    assert "订单 SO-1 已发货" in english.text  # written in the customer's language when it happened


def test_marking_read_with_the_form_and_with_htmx(client: TestClient, db: Database, customers: dict[str, int]) -> None:
    first = shipped(db, customers["li-na"], "SO-1", "k1")
    second = shipped(db, customers["li-na"], "SO-1b", "k2")
    csrf = sign_in(client, "li-na")
    assert 'data-testid="inbox-badge-count"' in client.get("/inbox/badge").text
    assert ">2</span>" in client.get("/inbox/badge").text

    without_token = client.post(f"/inbox/{first}/read", follow_redirects=False)
    assert without_token.status_code == 403
    form = client.post(f"/inbox/{first}/read", data={"csrf_token": csrf}, follow_redirects=False)
    assert form.status_code == 303 and form.headers["location"] == "/inbox"
    assert {m["id"]: m["unread"] for m in messages(client.get("/inbox").text)} == {first: False, second: True}
    assert ">1</span>" in client.get("/inbox/badge").text

    fragment = client.post(f"/inbox/{second}/read", headers={"HX-Request": "true", "X-CSRF-Token": csrf})
    assert fragment.status_code == 200 and fragment.headers["HX-Trigger"] == "inbox-changed"
    assert messages(fragment.text) == [{"id": second, "unread": False}]
    assert "<html" not in fragment.text
    again = client.post(f"/inbox/{second}/read", headers={"HX-Request": "true", "X-CSRF-Token": csrf})
    assert again.status_code == 200  # read twice is still read
    assert "inbox-badge-count" not in client.get("/inbox/badge").text
    assert notifications.unread_count(db, customers["li-na"]) == 0


def test_another_customers_message_cannot_be_marked(
    client: TestClient, db: Database, customers: dict[str, int]
) -> None:
    theirs = shipped(db, customers["wang-wei"], "SO-2", "k1")
    csrf = sign_in(client, "li-na")
    response = client.post(f"/inbox/{theirs}/read", data={"csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 404
    assert notifications.unread_count(db, customers["wang-wei"]) == 1
    assert client.post("/inbox/0/read", data={"csrf_token": csrf}).status_code == 422
    assert client.post(f"/inbox/{2**40}/read", data={"csrf_token": csrf}).status_code == 422


def test_the_badge_is_empty_for_visitors_and_staff_and_the_page_is_for_customers(
    client: TestClient, factory: Factory, db: Database, customers: dict[str, int]
) -> None:
    shipped(db, customers["li-na"], "SO-1", "k1")
    anonymous = client.get("/inbox/badge", follow_redirects=False)
    assert anonymous.status_code == 200 and anonymous.text.strip() == ""
    login = client.get("/inbox", follow_redirects=False)
    assert login.status_code == 303 and login.headers["location"].startswith("/login")
    factory.user("agent", Role.AGENT_T1)
    sign_in(client, "agent")
    assert client.get("/inbox/badge").text.strip() == ""
    assert client.get("/inbox").status_code == 403


def test_the_api_lists_and_marks_only_the_callers_messages(
    client: TestClient, factory: Factory, db: Database, customers: dict[str, int]
) -> None:
    mine = shipped(db, customers["li-na"], "SO-1", "k1")
    theirs = shipped(db, customers["wang-wei"], "SO-2", "k2")
    auth = bearer(factory, "li-na")
    body = client.get("/api/v1/inbox", headers=auth).json()
    assert (body["total"], body["unread"], body["page"], body["pages"]) == (1, 1, 1, 1)
    [item] = body["items"]
    assert (item["id"], item["unread"], item["link"], item["topic"]) == (
        mine,
        True,
        "/orders/SO-1",
        "order.status_changed",
    )
    assert client.post(f"/api/v1/inbox/{theirs}/read", headers=auth).status_code == 404
    read = client.post(f"/api/v1/inbox/{mine}/read", headers=auth).json()
    assert read["unread"] is False and read["read_at"]
    assert client.get("/api/v1/inbox/unread", headers=auth).json() == {"unread": 0}
    factory.user("agent", Role.AGENT_T1)
    assert client.get("/api/v1/inbox", headers=bearer(factory, "agent")).status_code == 403
    assert client.get("/api/v1/inbox").status_code == 401


@pytest.fixture
def subscribed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The notification handlers, registered for this test alone."""
    monkeypatch.setattr(outbox, "_handlers", {})
    monkeypatch.setattr(handlers, "_registered", False)
    monkeypatch.setattr(handlers, "_paused_until", 0.0)
    handlers.register()
    yield


def test_an_order_shipped_by_the_feed_lands_in_the_inbox(
    client: TestClient, factory: Factory, customers: dict[str, int], subscribed: None
) -> None:
    # The order feed reports the shipment; the commit kicks the outbox, whose handler writes the notice.
    factory.put_order(
        number="SO-1",
        customer="C1",
        version=2,
        status="shipped",
        shipments=[{"carrier": "SF", "tracking_number": "SF1"}],
    )
    outbox.drain(factory.db)  # in case the kick is not wired in this process
    sign_in(client, "li-na")
    page = client.get("/inbox")
    assert "订单 SO-1 已发货" in page.text
    assert ">1</span>" in client.get("/inbox/badge").text


def test_the_nav_link_polls_the_badge(client: TestClient, customers: dict[str, int]) -> None:
    # base.html includes this fragment for customers: {% include "notifications/_nav.html" %}
    from starlette.requests import Request

    from aftersales.web.templating import env

    request = Request({"type": "http", "method": "GET", "path": "/inbox", "query_string": b"", "headers": []})
    html = env.get_template("notifications/_nav.html").render(request=request, _=lambda text, **kw: text)
    assert 'href="/inbox"' in html and 'aria-current="page"' in html
    assert 'hx-get="/inbox/badge"' in html and "every 30s" in html and "inbox-changed from:body" in html
