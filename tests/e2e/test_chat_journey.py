"""The chat journey of issue 5: a signed-in customer asks the assistant to return an item, answers
two questions with quick replies, confirms, and gets a case number that links to the case page.

A real `aftersales serve`; the widget posts with htmx and refreshes over Server-Sent Events. The
journey's order (a mouse delivered two days ago) is added here, as the order feed would send it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.kit.access import Principal, Role
from aftersales.orders import service as orders
from aftersales.orders.domain import LogisticsNode, OrderStatus
from aftersales.orders.schemas import (
    AddressIn,
    CustomerIn,
    LogisticsEventIn,
    OrderIn,
    OrderLineIn,
    PaymentIn,
    ShipmentIn,
)

from .conftest import LiveServer
from .test_case_journey import sign_in

pytestmark = pytest.mark.browser

CHAT_ORDER = "SO2611209990001"  # shaped like a real order number, so the assistant reads it in a sentence
PHONE = {"width": 390, "height": 844}
# A fresh server trains the intent model on its first message (about 10–15 s on one idle core,
# more on a busy CI box) unless its cache directory already holds one.
FIRST_ANSWER_MS = 120_000
OpenPage = Callable[..., Page]


@pytest.fixture(scope="module")
def chat_order(live_server: LiveServer, e2e_database_url: str) -> str:
    """The demo customer's (李娜, C0001) Logitech mouse, delivered two days ago."""
    db = Database(e2e_database_url)
    feed = Principal(user_id=0, username="e2e-feed", role=Role.INTEGRATION, display_name="订单系统")
    now, price, tracking = clock.now(), Decimal("749.00"), "SF900000000077"
    placed = now - timedelta(days=4)
    orders.upsert_order(
        db,
        OrderIn(
            number=CHAT_ORDER,
            version=1,
            updated_at=placed + timedelta(hours=1),
            merchant_code="selfop",
            status=OrderStatus.PAID,
            placed_at=placed,
            paid_at=placed + timedelta(minutes=2),
            customer=CustomerIn(external_id="C0001", name="李娜", phone="13800138001"),
            shipping_address=AddressIn(name="李娜", phone="13800138001", region="上海市", detail="世纪大道 100 号"),
            lines=[OrderLineIn(line_no=1, sku="LG-MX3S", quantity=1, unit_price=price)],
            payments=[PaymentIn(reference=f"PAY{CHAT_ORDER}", method="alipay", amount=price, paid_at=placed)],
            shipments=[ShipmentIn(carrier="SF", tracking_number=tracking)],
        ),
        feed,
    )
    for n, node in enumerate((LogisticsNode.PICKED_UP, LogisticsNode.DELIVERED)):
        orders.record_logistics_event(
            db,
            LogisticsEventIn(
                event_id=f"{tracking}-{n}",
                carrier="SF",
                tracking_number=tracking,
                node=node,
                occurred_at=now - timedelta(days=3 - n),
            ),
            feed,
        )
    return CHAT_ORDER


def chat_a_return(page: Page, order_number: str) -> str:
    """The customer's part, in Chinese; returns the case number the assistant gave."""
    page.goto("/chat")
    panel = page.get_by_test_id("chat-panel")
    expect(panel.locator('[data-key="chat.welcome"]')).to_be_visible()

    # Turn 1: typed. The order is named, it has one item: the assistant asks why.
    page.get_by_test_id("chat-input").fill(f"我要退货，订单号 {order_number}")
    page.get_by_test_id("chat-send").click()
    expect(panel.locator('[data-key="chat.ask_reason"]')).to_be_visible(timeout=FIRST_ANSWER_MS)
    expect(page.get_by_test_id("chat-input")).to_have_value("")

    # Turn 2: a quick reply. The policy's answer comes back with a question, nothing is filed yet.
    panel.locator('[data-testid="chat-choice"][data-value="reason:defect"]').click()
    expect(panel.locator('[data-key="chat.case.confirm"]')).to_be_visible()
    expect(panel.locator('[data-key="chat.case.summary"]')).to_contain_text("¥749.00")

    # Turn 3: yes. The case number arrives as a link to the case page.
    panel.locator('[data-testid="chat-choice"][data-value="yes"]').click()
    link = panel.locator('[data-key="chat.case.created"] [data-testid="chat-link"]')
    expect(link).to_have_text(re.compile(r"^AS\d+$"))
    number = link.inner_text().strip()
    expect(panel.locator('[data-testid="chat-message"][data-sender="customer"]')).to_have_count(3)
    return number


def test_customer_chats_a_return_and_gets_a_case_number(
    new_page: OpenPage, chat_order: str, save_screenshot: Callable[..., object]
) -> None:
    customer = new_page(locale="zh-CN", viewport=PHONE)
    sign_in(customer, "customer")
    number = chat_a_return(customer, chat_order)
    save_screenshot(customer, "chat-return")

    customer.locator('[data-testid="chat-link"]', has_text=number).click()
    expect(customer).to_have_url(re.compile(rf"/cases/{number}$"))
    expect(customer.get_by_test_id("case-number")).to_have_text(number)

    # Back in the chat, the whole conversation is still there.
    customer.goto("/chat")
    expect(customer.locator('[data-key="chat.case.created"]')).to_contain_text(number)
