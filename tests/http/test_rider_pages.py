"""The rider's day over HTTP: today's deliveries (theirs only, shipped and not yet delivered), marks
that go through the carriers' logistics path, a failed attempt with a reason and a photo."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from aftersales.config import Settings
from aftersales.db.uow import Database
from aftersales.identity import service as identity
from aftersales.kit import clock
from aftersales.kit.access import Principal, Role
from aftersales.main import create_app
from aftersales.orders import service as orders
from aftersales.orders.schemas import LogisticsEventIn

from ..factories import FEED, Factory
from ._support import sign_in
from .test_cases_photos import PNG

PHONE = "13800138000"


@pytest.fixture
def uploads(tmp_path: Path) -> Path:
    return tmp_path / "uploads"


@pytest.fixture
def app(settings: Settings, db: Database, uploads: Path) -> FastAPI:
    return create_app(settings.model_copy(update={"upload_dir": str(uploads)}))


def _order(factory: Factory, db: Database, number: str, rider: str, *, shipped: bool = True) -> None:
    tracking = f"T{number}"
    promised = (clock.now() + timedelta(hours=4)).isoformat()
    factory.put_order(
        number=number,
        phone=PHONE,
        shipments=[{"carrier": "SF", "tracking_number": tracking, "promised_at": promised, "rider": rider}],
    )
    if shipped:
        scan = LogisticsEventIn(
            event_id=f"{tracking}-0",
            carrier="SF",
            tracking_number=tracking,
            node="arrived_station",  # type: ignore[arg-type]
            occurred_at=clock.now() - timedelta(hours=1),
            place="浦东营业部",
        )
        orders.record_logistics_event(db, scan, FEED)


@pytest.fixture
def day(factory: Factory, db: Database) -> Factory:
    """Rider wang: R1 and R2 at the station, R0 not shipped yet; rider zhao: Z1 at the station."""
    factory.catalogue()
    factory.user("wang", Role.RIDER)
    factory.user("zhao", Role.RIDER)
    factory.user("agent", Role.AGENT_T1)
    _order(factory, db, "SO-R1", "wang")
    _order(factory, db, "SO-R2", "wang")
    _order(factory, db, "SO-R0", "wang", shipped=False)
    _order(factory, db, "SO-Z1", "zhao")
    factory.customer_user("lina", "C1")
    return factory


def shipment_id(page: str, tracking: str) -> int:
    match = re.search(r'action="/deliveries/(\d+)/mark"', page[page.index(f'data-tracking="{tracking}"') :])
    assert match, f"no action form for {tracking}"
    return int(match.group(1))


def event_id(page: str, tracking: str) -> str:
    card = page[page.index(f'data-tracking="{tracking}"') :]
    match = re.search(r'name="event_id" value="([^"]+)"', card)
    assert match
    return match.group(1)


def mark(
    client: TestClient, token: str, sid: int, what: str, event: str, files: list | None = None, **fields: str
) -> Response:
    data = {"csrf_token": token, "mark": what, "event_id": event, **fields}
    return client.post(f"/deliveries/{sid}/mark", data=data, files=files, follow_redirects=False)


def test_the_rider_lands_on_their_deliveries_of_the_day_only(client: TestClient, day: Factory) -> None:
    sign_in(client, "wang")
    home = client.get("/", follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"] == "/deliveries"
    page = client.get("/deliveries").text
    listed = re.findall(r'data-testid="delivery" data-tracking="([^"]+)"', page)
    assert sorted(listed) == ["TSO-R1", "TSO-R2"]  # not the unshipped R0, not zhao's Z1
    assert "138****8000" in page and PHONE not in page  # phone masked
    assert "上海市 浦东新区 世纪大道 100 号" in page  # the address, needed to deliver
    assert "电话无人接听" in page  # what to do when the recipient cannot be reached
    # The rider's work is this page: the order pages (full phone) are not theirs.
    assert client.get("/orders").status_code == 403


def test_picked_up_then_delivered_moves_the_order_and_the_customers_trail(
    client: TestClient, day: Factory, db: Database
) -> None:
    token = sign_in(client, "wang")
    page = client.get("/deliveries").text
    sid, event = shipment_id(page, "TSO-R1"), event_id(page, "TSO-R1")
    assert 'data-testid="mark-picked-up"' in page and 'data-testid="mark-delivered"' not in page.split("TSO-R2")[0]

    answer = mark(client, token, sid, "picked_up", event)
    assert answer.status_code == 303 and answer.headers["location"] == "/deliveries?done=picked_up"
    again = mark(client, token, sid, "picked_up", event)  # the same form sent twice
    assert again.status_code == 303
    customer_view = orders.get_order(db, "SO-R1", orders_principal(db, "lina"))
    assert customer_view.shipments[0].status == "out_for_delivery"
    assert [e.node for e in customer_view.shipments[0].events].count("out_for_delivery") == 1

    page = client.get("/deliveries").text
    delivered = mark(client, token, sid, "delivered", event_id(page, "TSO-R1"))
    assert delivered.status_code == 303
    customer_view = orders.get_order(db, "SO-R1", orders_principal(db, "lina"))
    assert customer_view.status == "delivered" and customer_view.eta is None
    assert customer_view.shipments[0].events[-1].place == "骑手送达，已签收"
    assert any(t.to_state == "delivered" for t in customer_view.timeline)

    page = client.get("/deliveries").text  # still listed today, with nothing left to do
    card = page[page.index('data-tracking="TSO-R1"') : page.index('data-tracking="TSO-R1"') + 3000]
    assert 'data-status="delivered"' in card and "mark-" not in card.split("</article>")[0]
    refused = mark(client, token, sid, "delivered", "late-one")
    assert refused.status_code == 409 and "该包裹已送达" in refused.text


def test_delivered_before_picked_up_is_refused(client: TestClient, day: Factory) -> None:
    token = sign_in(client, "wang")
    page = client.get("/deliveries").text
    answer = mark(client, token, shipment_id(page, "TSO-R2"), "delivered", event_id(page, "TSO-R2"))
    assert answer.status_code == 409 and "请先标记已取件" in answer.text


def test_a_failed_attempt_needs_a_reason_and_a_photo_which_only_its_viewers_see(
    client: TestClient, day: Factory, db: Database, uploads: Path
) -> None:
    token = sign_in(client, "wang")
    page = client.get("/deliveries").text
    sid = shipment_id(page, "TSO-R2")
    assert mark(client, token, sid, "picked_up", event_id(page, "TSO-R2")).status_code == 303
    page = client.get("/deliveries").text
    event = event_id(page, "TSO-R2")

    no_photo = mark(client, token, sid, "failed", event, reason="not_home")
    assert no_photo.status_code == 422 and "请添加一张现场照片" in no_photo.text
    not_an_image = mark(
        client, token, sid, "failed", event, [("photo", ("x.png", b"<?php evil", "image/png"))], reason="not_home"
    )
    assert not_an_image.status_code == 422
    two = [("photo", ("a.png", PNG, "image/png")), ("photo", ("b.png", PNG, "image/png"))]
    assert mark(client, token, sid, "failed", event, two, reason="not_home").status_code == 422
    no_reason = mark(client, token, sid, "failed", event, [("photo", ("door.png", PNG, "image/png"))])
    assert no_reason.status_code == 422 and "请选择配送未成功的原因" in no_reason.text
    assert not list(uploads.rglob("*.png"))  # nothing refused was stored

    photo = [("photo", ("door.png", PNG, "image/png"))]
    failed = mark(client, token, sid, "failed", event, photo, reason="not_home", note="敲门无人")
    assert failed.status_code == 303
    view = orders.get_order(db, "SO-R2", orders_principal(db, "lina"))
    assert view.shipments[0].status == "exception"
    assert view.shipments[0].events[-1].place == "配送未成功：收件人不在"
    assert view.shipments[0].events[-1].description == "敲门无人"

    page = client.get("/deliveries").text
    (url,) = re.findall(r'href="(/deliveries/\d+/photos/[0-9a-f]{32}\.png)"', page)
    assert client.get(url).content == PNG
    card = page[page.index('data-tracking="TSO-R2"') :].split("</article>")[0]
    assert 'data-testid="mark-picked-up"' in card  # try again tomorrow: pick it up again

    sign_in(client, "agent")
    assert client.get(url).status_code == 200  # customer service sees the proof
    assert f'href="{url}"' in client.get("/orders/SO-R2").text  # on the order's delivery block
    sign_in(client, "lina")
    assert f'href="{url}"' in client.get("/orders/SO-R2").text and client.get(url).status_code == 200
    sign_in(client, "zhao")
    assert client.get(url).status_code == 404  # another rider does not


def test_a_rider_cannot_mark_another_riders_parcel(client: TestClient, day: Factory, db: Database) -> None:
    sign_in(client, "zhao")
    page = client.get("/deliveries").text
    z1, zhao_event = shipment_id(page, "TSO-Z1"), event_id(page, "TSO-Z1")
    token = sign_in(client, "wang")
    answer = mark(client, token, z1, "picked_up", zhao_event)
    assert answer.status_code == 404
    view = orders.get_order(db, "SO-Z1", orders_principal(db, "lina"))
    assert view.shipments[0].status == "at_station"  # nothing recorded
    sign_in(client, "agent")
    assert client.get("/deliveries").status_code == 403  # only riders have a round


def orders_principal(db: Database, username: str) -> Principal:
    principal = identity.principal_for_username(db, username)
    assert principal is not None
    return principal


def test_a_rider_reading_the_order_through_the_api_sees_the_address_but_not_the_phone(
    day: Factory, db: Database
) -> None:
    seen = orders.get_order(db, "SO-R1", orders_principal(db, "wang"))
    assert seen.recipient_phone == "138****8000" and PHONE not in (seen.customer_phone or "")
    assert seen.address_detail  # the street is what a rider needs to deliver


def test_a_parcel_delivered_today_shows_when_it_was_delivered(client: TestClient, day: Factory) -> None:
    token = sign_in(client, "wang")
    page = client.get("/deliveries").text
    sid = shipment_id(page, "TSO-R1")
    mark(client, token, sid, "picked_up", event_id(page, "TSO-R1"))
    page = client.get("/deliveries").text
    mark(client, token, sid, "delivered", event_id(page, "TSO-R1"))
    page = client.get("/deliveries").text
    card = page[page.index('data-tracking="TSO-R1"') :].split("</article>")[0]
    shown = re.search(r'data-testid="delivery-delivered-at">([^<]+)<', card)
    assert shown is not None and "送达" in shown.group(1) and re.search(r"\d{2}:\d{2}", shown.group(1))


def test_the_phone_note_promises_no_number_the_page_does_not_show(client: TestClient, day: Factory) -> None:
    # No support phone number is configured anywhere: the note must not send the rider to call one.
    sign_in(client, "wang")
    note = re.search(r'data-testid="delivery-phone-note">([^<]+)<', client.get("/deliveries").text)
    assert note is not None and "致电" not in note.group(1) and "电话无人接听" in note.group(1)
