"""The after-sales journey of issue 3: the customer returns an item and sees the refund complete.

A real `aftersales serve` and a real `aftersales worker`: the refund leaves through the outbox, the
worker submits it to the simulated gateway, which confirms it a second later; the customer's case
page polls its progress every 5 s. No timed assertions: expect() waits, with a generous timeout
for the worker's part.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from aftersales.demo.seed import DEMO_PASSWORD

from .conftest import JOURNEY_ORDER

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
REFUND_TIMEOUT_MS = 60_000  # outbox kick → worker → gateway → 1 s confirmation → next 5 s poll

OpenPage = Callable[..., Page]
SaveScreenshot = Callable[..., Any]


def sign_in(page: Page, username: str) -> None:
    page.goto("/login")
    page.get_by_label(re.compile("用户名|Username")).fill(username)
    page.get_by_label(re.compile("密码|Password")).fill(DEMO_PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("logout")).to_be_visible()


def test_customer_returns_an_item_and_sees_the_refund_complete(
    new_page: OpenPage, save_screenshot: SaveScreenshot
) -> None:
    customer = new_page(locale="zh-CN", viewport=PHONE)
    sign_in(customer, "customer")  # 李娜 (C0001)
    customer.goto(f"/orders/{JOURNEY_ORDER}")
    expect(customer.get_by_test_id("order-number")).to_have_text(JOURNEY_ORDER)
    expect(customer.locator(".status-box [data-status]").first).to_have_text("已签收")

    # One click from the order to the after-sales form.
    customer.get_by_test_id("after-sales").click()
    expect(customer).to_have_url(re.compile(rf"/orders/{JOURNEY_ORDER}/after-sales$"))
    expect(customer.get_by_role("heading", name="申请售后")).to_be_visible()
    expect(customer.locator("label.line-pick")).to_contain_text("Anker 65W 氮化镓充电器")
    customer.get_by_test_id("qty-1").fill("1")
    customer.get_by_test_id("case-kind").select_option(label="退货退款")
    customer.get_by_test_id("case-reason").select_option(label="质量问题")

    # The htmx preview says what will happen before anything is sent.
    preview = customer.get_by_test_id("preview-result")
    expect(preview).to_have_attribute("data-eligible", "true")
    expect(preview).to_contain_text("可以受理")
    expect(preview).to_contain_text("提交即同意")  # 199.00 is under the low-risk amount
    expect(preview).to_contain_text("¥199.00")
    save_screenshot(customer, "case-new")

    customer.get_by_test_id("case-submit").click()
    expect(customer).to_have_url(re.compile(r"/cases/AS\d+$"))
    number = customer.get_by_test_id("case-number").inner_text().strip()
    status = customer.get_by_test_id("case-status")
    expect(status).to_have_text("待寄回")
    expect(customer.get_by_test_id("case-timeline").locator("li").first).to_contain_text("待寄回")
    save_screenshot(customer, "case-awaiting-return")

    # "I have shipped it": carrier and tracking number.
    ship_back = customer.get_by_test_id("action-ship_back")
    ship_back.locator("input[name=carrier]").fill("SF")
    ship_back.locator("input[name=tracking_number]").fill("SF1234567890")
    ship_back.get_by_role("button", name="填写退货单号").click()
    expect(status).to_have_text("退货运输中")
    expect(customer.get_by_text("退货包裹: SF SF1234567890")).to_be_visible()

    # The self-operated warehouse receives the parcel and inspects it, in its own browser.
    warehouse = new_page(locale="zh-CN", viewport=DESKTOP)
    sign_in(warehouse, "warehouse")
    warehouse.goto("/cases")
    warehouse.get_by_role("link", name=number).click()
    expect(warehouse.get_by_test_id("case-number")).to_have_text(number)
    expect(warehouse.get_by_test_id("action-approve")).to_have_count(0)
    warehouse.get_by_test_id("action-receive").get_by_role("button", name="确认收货").click()
    expect(warehouse.get_by_test_id("case-status")).to_have_text("退货已收到")  # staff words
    inspect = warehouse.get_by_test_id("action-inspect_pass")
    inspect.locator("input[name=note]").fill("包装完好，充电器有质量问题属实")
    inspect.get_by_role("button", name="质检通过").click()
    expect(warehouse.get_by_test_id("case-error")).to_have_count(0)
    expect(warehouse.get_by_test_id("case-status")).to_have_text(re.compile("退款中|已完成"))

    # The customer's open page picks the refund up by itself (htmx polls #progress).
    expect(status).to_have_text("已完成", timeout=REFUND_TIMEOUT_MS)
    refund = customer.get_by_test_id("case-refunds").locator("li")
    expect(refund).to_have_attribute("data-refund-status", "succeeded")
    expect(refund).to_contain_text("¥199.00 · 已原路退回")
    expect(customer.get_by_test_id("case-timeline").locator("li").first).to_contain_text("已完成")
    expect(customer).to_have_url(re.compile(rf"/cases/{number}$"))  # no reload needed
    save_screenshot(customer, "case-completed", readme_name="case-progress-customer.png")
