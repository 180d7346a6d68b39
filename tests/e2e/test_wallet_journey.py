"""The wallet in headless Chromium: an agent gives 李娜 a goodwill coupon from her order's page (the
wallet panel loads by htmx, the form carries its CSRF token and the policies' limit), and 李娜 sees
it in her wallet, with the agent's coupon the demo gave her, and is told in her inbox."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import JOURNEY_ORDER
from .test_journeys import DESKTOP, PHONE, OpenPage, SaveScreenshot, sign_in

pytestmark = [pytest.mark.browser]


def test_an_agents_coupon_reaches_the_customers_wallet(new_page: OpenPage, save_screenshot: SaveScreenshot) -> None:
    agent = new_page(locale="zh-CN", viewport=DESKTOP)
    sign_in(agent, "agent1", lands_on="/orders")
    agent.goto(f"/orders/{JOURNEY_ORDER}")
    panel = agent.get_by_test_id("order-wallet")
    expect(panel).to_contain_text("客户钱包")
    panel.get_by_text("发放补偿券").click()
    # The policies' limit: ¥50 for a VIP, ¥20 otherwise (an order feed earlier in the suite may
    # have sent 李娜 without her tier); ¥60 is over either.
    expect(panel).to_contain_text(re.compile(r"本单上限 ¥(50|20)\.00"))
    panel.get_by_test_id("offer-amount").fill("60")
    panel.get_by_test_id("offer-reason").fill("配送延误，致歉")
    panel.get_by_test_id("offer-coupon").click()
    expect(agent.get_by_test_id("order-notice")).to_contain_text("金额超过政策上限")
    panel = agent.get_by_test_id("order-wallet")
    panel.get_by_text("发放补偿券").click()
    panel.get_by_test_id("offer-amount").fill("6.80")
    panel.get_by_test_id("offer-reason").fill("配送延误，致歉")
    panel.get_by_test_id("offer-coupon").click()
    expect(agent).to_have_url(re.compile(rf"/orders/{JOURNEY_ORDER}$"))
    expect(agent.get_by_test_id("order-notice")).to_contain_text(re.compile(r"已发放优惠券 CPN[0-9A-F]{16}"))
    expect(agent.get_by_test_id("order-wallet")).to_contain_text("¥6.80")
    save_screenshot(agent, "wallet-agent-offer-desktop")

    customer = new_page(locale="zh-CN", viewport=PHONE)
    sign_in(customer, "customer", lands_on="/orders")
    customer.get_by_test_id("nav-wallet").click()
    expect(customer).to_have_url(re.compile(r"/wallet$"))
    expect(customer.get_by_role("heading", name="我的钱包：优惠券与余额")).to_be_visible()
    given = customer.get_by_test_id("wallet-entry").filter(has_text="¥6.80")
    expect(given).to_have_count(1)
    expect(given).to_contain_text(JOURNEY_ORDER)
    expect(given).to_contain_text("客服补偿")
    # The journey's order came days after its promise: the worker compensated it when it was delivered.
    late = customer.get_by_test_id("wallet-entry").filter(has_text="超时赔付").filter(has_text=JOURNEY_ORDER)
    expect(late).to_have_count(1)
    expect(given).to_contain_text("可使用")
    expect(customer.get_by_test_id("wallet-entry").filter(has_text="¥10.00")).to_have_count(1)  # the demo's
    save_screenshot(customer, "wallet-customer-phone")
    given.get_by_role("link", name=JOURNEY_ORDER).click()
    expect(customer).to_have_url(re.compile(rf"/orders/{JOURNEY_ORDER}$"))
    expect(customer.get_by_test_id("timeline")).to_contain_text("发放优惠券")
    customer.goto("/inbox")
    expect(customer.get_by_text("您收到一张 ¥6.80 优惠券")).to_be_visible()
