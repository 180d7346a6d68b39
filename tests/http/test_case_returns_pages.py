"""The return leg on the case page: what the warehouse is offered before and after the customer
sends the goods back, and the refusal in words when it is tried too early."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient

from aftersales.db.uow import Database
from aftersales.orders import service as orders
from aftersales.orders.domain import MerchantKind
from aftersales.orders.schemas import MerchantIn

from ..factories import Factory
from ._support import sign_in
from .test_cases_pages import act, post, request_case, sent_back, shop, status_on, version_on

__all__ = ["shop"]


def test_receipt_is_offered_only_once_the_customer_sent_the_goods(client: TestClient, shop: Factory) -> None:
    lina = sign_in(client, "lina")
    number = request_case(client, lina)
    token = sign_in(client, "whouse")
    page = client.get(f"/cases/{number}").text
    assert 'data-testid="action-receive"' not in page
    refused = act(client, token, number, "receive", version=version_on(page))
    shown = client.get(refused.headers["location"]).text
    error = re.search(r'data-testid="case-error">([^<]+)<', shown)
    assert error and "not sent the goods back yet" in html.unescape(error.group(1))
    assert status_on(shown) == "awaiting_return"

    sent_back(client, sign_in(client, "lina"), number)
    token = sign_in(client, "whouse")
    page = client.get(f"/cases/{number}").text
    assert 'data-testid="action-receive"' in page
    assert act(client, token, number, "receive", version=version_on(page)).status_code == 303
    assert status_on(client.get(f"/cases/{number}").text) == "received"


SELFOP_RETURNS = "上海市浦东新区张江路 88 号 云仓退货组 200120"


def _with_return_address(db: Database) -> None:
    orders.upsert_merchant(
        db,
        MerchantIn(
            code="selfop", name="Merchant selfop", kind=MerchantKind.SELF_OPERATED, return_address=SELFOP_RETURNS
        ),
    )


def test_the_customer_sees_where_to_send_the_goods_in_both_languages(
    client: TestClient, shop: Factory, db: Database
) -> None:
    _with_return_address(db)
    lina = sign_in(client, "lina")
    number = request_case(client, lina)  # one unit: approved at once, awaiting the return
    page = client.get(f"/cases/{number}").text
    address = re.search(r'data-testid="return-address">(.*?)</', page, re.S)
    assert address and SELFOP_RETURNS in address.group(1)
    assert "退货地址" in page
    assert post(client, "/language", lina, lang="en", next=f"/cases/{number}").status_code == 303
    page = client.get(f"/cases/{number}").text
    assert "Send the goods back to" in page and SELFOP_RETURNS in page

    sent_back(client, lina, number)  # on its way: the address stays readable for the parcel's label
    assert SELFOP_RETURNS in client.get(f"/cases/{number}").text


def test_an_address_is_not_shown_before_approval_nor_made_up(client: TestClient, shop: Factory, db: Database) -> None:
    _with_return_address(db)
    lina = sign_in(client, "lina")
    number = request_case(client, lina, qty=2)  # 398.00: a person reviews it first
    page = client.get(f"/cases/{number}").text
    assert status_on(page) == "under_review" and SELFOP_RETURNS not in page

    bob = sign_in(client, "bob")  # pop-a gave no return address: the page says so instead of inventing one
    bobs = request_case(client, bob, "SO-B")
    page = client.get(f"/cases/{bobs}").text
    assert 'data-testid="return-address"' not in page
    assert 'data-testid="return-address-missing"' in page


def test_a_booked_pickup_shows_its_courier_reference_and_the_form_goes(client: TestClient, shop: Factory) -> None:
    lina = sign_in(client, "lina")
    number = request_case(client, lina)
    page = client.get(f"/cases/{number}").text
    assert 'data-testid="action-book_pickup"' in page
    booked = act(client, lina, number, "book_pickup", version=version_on(page), pickup_at="2031-05-06T10:30")
    assert booked.status_code == 303
    page = client.get(f"/cases/{number}").text
    assert 'data-testid="case-error"' not in page
    reference = re.search(r'data-testid="pickup-reference">(PU-[A-Z0-9]+)<', page)
    assert reference, "the page shows no courier booking reference"
    assert "2031/5/6 10:30" in page and "快递预约单号" in page
    assert 'data-testid="action-book_pickup"' not in page


def test_a_failed_inspection_sends_the_goods_back_and_the_customer_sees_the_parcel(
    client: TestClient, shop: Factory
) -> None:
    lina = sign_in(client, "lina")
    number = request_case(client, lina)
    sent_back(client, lina, number)
    token = sign_in(client, "whouse")
    for action in ("receive", "inspect_fail"):
        assert act(client, token, number, action, note="scratched by use").status_code == 303
    page = client.get(f"/cases/{number}").text
    assert status_on(page) == "inspection_failed"
    form = re.search(r'data-testid="action-return_goods".*?</form>', page, re.S)
    assert form and 'name="tracking_number"' in form.group(0) and "将商品寄还给顾客" in form.group(0)
    sent = act(client, token, number, "return_goods", carrier="SF", tracking_number="BACK-9")
    assert sent.status_code == 303

    sign_in(client, "lina")
    page = client.get(f"/cases/{number}").text
    assert status_on(page) == "rejected" and "SF BACK-9" in page  # the parcel coming back, to follow
    assert "检验未通过，商品将寄还顾客" in page  # the step it went through, in the timeline


def test_a_pickup_in_the_past_is_refused_in_the_readers_language_and_nothing_is_booked(
    client: TestClient, shop: Factory
) -> None:
    lina = sign_in(client, "lina")
    number = request_case(client, lina)
    page = client.get(f"/cases/{number}").text
    refused = act(client, lina, number, "book_pickup", version=version_on(page), pickup_at="2020-01-01T10:00")
    shown = client.get(refused.headers["location"]).text
    error = re.search(r'data-testid="case-error">([^<]+)<', shown)
    assert error and "上门取件时间不能早于现在" in html.unescape(error.group(1))
    assert 'data-testid="pickup-reference"' not in shown
    assert 'data-testid="action-book_pickup"' in shown


def test_a_booked_pickup_reads_as_a_booking_on_the_timeline_not_as_an_unchanged_status(
    client: TestClient, shop: Factory
) -> None:
    lina = sign_in(client, "lina")
    number = request_case(client, lina)
    page = client.get(f"/cases/{number}").text
    act(client, lina, number, "book_pickup", version=version_on(page), pickup_at="2031-05-06T10:30")
    page = client.get(f"/cases/{number}").text
    timeline = re.search(r'data-testid="case-timeline">(.*?)</ol>', page, re.S)
    assert timeline
    labels = re.findall(r"<strong>([^<]+)</strong>", timeline.group(1))
    assert labels[0] == "预约上门取件", labels
    assert labels.count("待寄回") == 1, labels
