"""Journeys through the real pages in headless Chromium, against `aftersales serve` over the demo shop.

No timed assertions: Playwright's expect() waits for the page to get there.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import Page, Response, expect

from aftersales.demo.seed import DEMO_ACCOUNTS, DEMO_PASSWORD

if TYPE_CHECKING:
    from .conftest import LiveServer

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

LINA_PHONE = "13800138001"  # the demo customer "customer" (李娜, C0001)
LINA_STAFF_LINE = f"客户: 李娜 (C0001) · {LINA_PHONE}"  # what staff see on her orders
# Order statuses whose orders have at least one carrier scan in the demo shop.
SCANNED_STATUSES = ("shipped", "delivered", "completed")

OpenPage = Callable[..., Page]
SaveScreenshot = Callable[..., Any]


def submit_login(page: Page, username: str, password: str = DEMO_PASSWORD) -> Response:
    """Fill in and send the sign-in form; returns the answer to the POST."""
    page.goto("/login")
    page.get_by_label(re.compile("用户名|Username")).fill(username)
    page.get_by_label(re.compile("密码|Password")).fill(password)
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/login")) as posted:
        page.get_by_test_id("login-submit").click()
    return posted.value


def sign_in(page: Page, username: str, lands_on: str) -> None:
    answer = submit_login(page, username)
    assert answer.status == 303, f"signing in as {username} answered {answer.status}, not a redirect"
    expect(page).to_have_url(re.compile(rf"{re.escape(lands_on)}$"))
    expect(page.get_by_test_id("logout")).to_be_visible()


def nav_orders_link(page: Page) -> Any:
    return page.locator("header.topbar .nav-links a[href='/orders']")


def test_customer_sees_orders_and_order_detail(new_page: OpenPage, save_screenshot: SaveScreenshot) -> None:
    page = new_page(locale="zh-CN", viewport=PHONE)
    sign_in(page, "customer", lands_on="/orders")
    expect(page.get_by_role("heading", name="我的订单")).to_be_visible()
    cards = page.get_by_test_id("order-card")
    expect(cards.first).to_be_visible()
    save_screenshot(page, "customer-orders-phone")

    # Open an order that has carrier scans, so the logistics part of the page has something to show.
    scanned = cards.filter(has=page.locator(",".join(f"[data-status={s}]" for s in SCANNED_STATUSES)))
    expect(scanned.first).to_be_visible()
    card = scanned.first
    number = card.locator("strong").first.inner_text().strip()
    status_text = card.locator("[data-status]").inner_text().strip()
    card.click()

    expect(page).to_have_url(re.compile(rf"/orders/{number}$"))
    expect(page.get_by_test_id("order-number")).to_have_text(number)
    expect(page.locator(".status-box [data-status]").first).to_have_text(status_text)
    expect(page.get_by_test_id("order-total")).to_contain_text("¥")

    shipment = page.get_by_test_id("shipment").first
    expect(shipment).to_be_visible()
    nodes = shipment.get_by_test_id("logistics-node")
    expect(nodes.first).to_be_visible()
    expect(nodes.first).to_have_class(re.compile(r"\bcurrent\b"))  # newest scan first, highlighted
    expect(nodes.last).to_contain_text("已揽收")  # oldest scan last: the parcel was picked up

    timeline = page.get_by_test_id("timeline")
    expect(timeline).to_be_visible()
    expect(timeline.locator("li").last).to_contain_text("订单已接收")  # oldest entry last: order received
    expect(page.get_by_text(re.compile(r"^客户: "))).to_have_count(0)  # the staff-only customer line

    save_screenshot(page, "customer-order-detail-phone", readme_name="order-detail-customer.png")


def test_agent_sees_order_list_and_opens_a_customers_order(new_page: OpenPage, save_screenshot: SaveScreenshot) -> None:
    page = new_page(locale="zh-CN", viewport=DESKTOP)
    sign_in(page, "agent1", lands_on="/orders")
    expect(page.get_by_role("heading", name="订单")).to_be_visible()
    # The demo's orders (its disputes and the rider's round bring their own), the case journey's and the warehouse
    # journey's; the chat journey adds its own when it runs first.
    expect(page.locator("#results")).to_contain_text(re.compile(r"共 (8[6-9]|9[0-2]) 个订单"))
    expect(page.get_by_test_id("order-row")).to_have_count(20)
    save_screenshot(page, "agent-orders-desktop", readme_name="orders-agent.png")

    # A search link (pasted or bookmarked) lists only that customer's orders.
    page.goto(f"/orders?q={LINA_PHONE}")
    rows = page.get_by_test_id("order-row")
    expect(rows.first).to_be_visible()
    expect(rows.filter(has_not_text="李娜")).to_have_count(0)
    link = rows.first.get_by_role("link")
    number = link.inner_text().strip()
    link.click()
    expect(page).to_have_url(re.compile(rf"/orders/{number}$"))
    expect(page.get_by_test_id("order-number")).to_have_text(number)
    expect(page.get_by_text(LINA_STAFF_LINE)).to_be_visible()


def test_agent_searches_by_phone_with_htmx(new_page: OpenPage, save_screenshot: SaveScreenshot) -> None:
    page = new_page(locale="zh-CN", viewport=DESKTOP)
    sign_in(page, "agent1", lands_on="/orders")
    # The demo's orders (its disputes and the rider's round bring their own), the case journey's and the warehouse
    # journey's; the chat journey adds its own when it runs first.
    expect(page.locator("#results")).to_contain_text(re.compile(r"共 (8[6-9]|9[0-2]) 个订单"))
    # Survives only if the page is not reloaded: htmx swaps #results in place.
    page.evaluate("window.__e2eNoReload = true")

    def htmx_search(response: Response) -> bool:
        request = response.request
        return request.headers.get("hx-request") == "true" and f"q={LINA_PHONE}" in request.url

    with page.expect_response(htmx_search) as searched:
        page.get_by_test_id("order-search").fill(LINA_PHONE)
    answer = searched.value
    save_screenshot(page, "agent-search-by-phone-desktop")
    assert answer.status == 200, f"the htmx search {answer.url} answered {answer.status}"

    rows = page.get_by_test_id("order-row")
    expect(rows.filter(has_not_text="李娜")).to_have_count(0)
    expect(rows.first).to_be_visible()
    expect(page.locator("#results")).not_to_contain_text("共 80 个订单")
    expect(page).to_have_url(re.compile(rf"q={LINA_PHONE}"))  # hx-push-url
    assert page.evaluate("window.__e2eNoReload") is True, "the search reloaded the whole page"

    link = rows.first.get_by_role("link")
    number = link.inner_text().strip()
    link.click()
    expect(page.get_by_test_id("order-number")).to_have_text(number)
    expect(page.get_by_text(LINA_STAFF_LINE)).to_be_visible()


def test_language_switch(new_page: OpenPage, save_screenshot: SaveScreenshot) -> None:
    page = new_page(locale="zh-CN", viewport=DESKTOP)
    sign_in(page, "customer", lands_on="/orders")
    expect(nav_orders_link(page)).to_have_text("我的订单")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")

    page.get_by_test_id("lang-switch").click()
    expect(nav_orders_link(page)).to_have_text("My orders")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_test_id("lang-switch")).to_have_text("中文")
    expect(page).to_have_url(re.compile(r"/orders$"))  # back on the page it was switched from
    save_screenshot(page, "customer-orders-en")

    page.get_by_test_id("lang-switch").click()
    expect(nav_orders_link(page)).to_have_text("我的订单")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_test_id("lang-switch")).to_have_text("English")


def test_wrong_password_shows_error(new_page: OpenPage, save_screenshot: SaveScreenshot) -> None:
    page = new_page(locale="zh-CN", viewport=PHONE)
    answer = submit_login(page, "customer", "not-the-password")
    assert answer.status == 401, f"a wrong password answered {answer.status}"
    expect(page.get_by_test_id("login-error")).to_have_text("用户名或密码错误。")
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.get_by_label("用户名")).to_have_value("customer")  # the name is kept for the retry
    expect(page.get_by_test_id("logout")).to_have_count(0)
    save_screenshot(page, "login-wrong-password-phone")


def test_admin_sees_users(new_page: OpenPage, save_screenshot: SaveScreenshot, live_server: LiveServer) -> None:
    page = new_page(locale="zh-CN", viewport=DESKTOP)
    sign_in(page, "admin", lands_on="/admin/users")  # the administrators' start page
    answer = page.goto("/admin/users")
    assert answer is not None
    assert answer.status == 200, f"/admin/users answered {answer.status}"
    expect(page.get_by_role("heading", name="用户")).to_be_visible()
    rows = page.get_by_test_id("user-row")
    expect(rows).to_have_count(len(DEMO_ACCOUNTS))
    usernames = {text.strip() for text in rows.locator("td:first-child").all_inner_texts()}
    assert usernames == {username for _role, username, _password in DEMO_ACCOUNTS}
    save_screenshot(page, "admin-users-desktop")
