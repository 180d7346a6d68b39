"""/account: the person's profile (contacts masked), language, contact preferences that the
notifications honour, and the customer's membership level."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from aftersales.db.uow import Database
from aftersales.identity import service as identity
from aftersales.kit.access import Role
from aftersales.notifications import service as notifications
from aftersales.orders import service as orders
from aftersales.orders.schemas import OrderIn

from ..factories import FEED, Factory
from ._support import sign_in

PARAMS = {"order": "SO-1", "from": "paid", "to": "shipped"}


@pytest.fixture
def lina(factory: Factory, db: Database) -> int:
    factory.catalogue()
    payload = factory.order_payload("SO-1", phone="13800138000")
    payload["customer"].update({"email": "lina@example.com", "tier": "vip"})
    orders.upsert_order(db, OrderIn.model_validate(payload), FEED)
    factory.customer_user("lina", "C1")
    factory.user("agent", Role.AGENT_T1)
    customer_id = orders.customer_id_for(db, "C1")
    assert customer_id is not None
    return customer_id


def test_the_customer_sees_their_profile_masked_and_their_membership(client: TestClient, lina: int) -> None:
    sign_in(client, "lina")
    orders_page = client.get("/orders").text
    assert 'href="/account"' in orders_page  # the door the help article points to
    page = client.get("/account")
    assert page.status_code == 200 and "我的账户" in page.text
    assert "138****8000" in page.text and "13800138000" not in page.text
    assert "l***@example.com" in page.text and "lina@example.com" not in page.text
    assert 'data-tier="vip"' in page.text and "VIP 会员" in page.text
    assert 'href="/help/member-benefits"' in page.text


def test_preferences_persist_and_email_off_is_honoured(client: TestClient, db: Database, lina: int) -> None:
    first = notifications.notify(db, lina, "order.status_changed", PARAMS, "before")
    assert first is not None and first.email_id is not None  # email on by default

    token = sign_in(client, "lina")
    saved = client.post("/account", data={"csrf_token": token, "lang": "en"}, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == "/account?saved=1"
    page = client.get("/account?saved=1").text
    assert 'lang="en"' in page and "My account" in page and "Saved." in page
    assert (
        'data-testid="account-email-notices" ' in page and "checked>" not in page.split("account-email-notices")[1][:40]
    )

    user = identity.principal_for_username(db, "lina")
    assert user is not None and identity.user_locale(db, user.user_id) == "en"
    contact = orders.customer_contact(db, lina)
    assert contact is not None and contact.locale == "en" and contact.email_notices is False
    later = notifications.notify(db, lina, "order.status_changed", PARAMS, "after")
    assert later is not None and later.inbox_id and later.email_id is None  # inbox only

    sign_in(client, "lina")  # a new session takes the saved language
    assert 'lang="en"' in client.get("/account").text
    again = client.post(
        "/account", data={"csrf_token": sign_in(client, "lina"), "lang": "zh-CN", "email_notices": "on"}
    )
    assert again.status_code == 200
    contact = orders.customer_contact(db, lina)
    assert contact is not None and contact.email_notices is True and contact.locale == "zh-CN"


def test_staff_have_an_account_page_without_membership(client: TestClient, lina: int) -> None:
    sign_in(client, "agent")
    page = client.get("/account")
    assert page.status_code == 200 and 'data-testid="account-profile"' in page.text
    assert 'data-testid="account-membership"' not in page.text and "account-email-notices" not in page.text


def test_the_account_page_needs_a_sign_in_and_the_form_its_token(client: TestClient, lina: int) -> None:
    r = client.get("/account", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    sign_in(client, "lina")
    assert client.post("/account", data={"lang": "en"}, follow_redirects=False).status_code == 403


def test_the_order_page_masks_the_customers_own_phone_as_account_does(
    client: TestClient, db: Database, lina: int
) -> None:
    """A customer sees their phone masked on their order page, as on /account; the address form
    comes without it and, left empty, keeps it. Customer service, who calls, sees it in full."""
    token = sign_in(client, "lina")
    page = client.get("/orders/SO-1").text
    assert 'data-testid="recipient-phone">138****8000<' in page
    assert "13800138000" not in page
    changed = client.post(
        "/orders/SO-1/self-service/address",
        data={
            "csrf_token": token,
            "name": "李娜",
            "phone": "",
            "region": "上海市 浦东新区",
            "detail": "世纪大道 200 号",
        },
        follow_redirects=False,
    )
    assert changed.status_code == 303
    order = orders.get_order(db, "SO-1", identity.principal_for_username(db, "agent"))  # type: ignore[arg-type]
    assert order.recipient_phone == "13800138000" and order.address_detail == "世纪大道 200 号"

    client.post("/logout", data={"csrf_token": token})
    client.cookies.clear()
    sign_in(client, "agent")
    staff_page = client.get("/orders/SO-1").text
    assert 'data-testid="recipient-phone">13800138000<' in staff_page
