"""The rider's day in headless Chromium: sign in, today's deliveries, picked up → delivered, and one
failed attempt with a reason and a photo; at 1280 px and at 390 px (cards, no one-character wrap).

The round is sent through the public API by an administrator (as the shop's order feed and the
station's scans would), for customers other than the demo's 李娜, so other journeys' counts of her
orders stay as they are."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from ..http.test_cases_photos import tiny_png
from .test_journeys import DESKTOP, PHONE, OpenPage, SaveScreenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.journey]

ROUND = ("SO-E2E-RIDE1", "SO-E2E-RIDE2", "SO-E2E-RIDE3")


def _send_round(page: Page) -> None:
    """As the administrator: three paid self-operated orders for the rider, at the station now."""
    sign_in(page, "admin", lands_on="/admin/users")
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    headers = {"X-CSRF-Token": token or ""}
    now = datetime.now(UTC)
    for n, number in enumerate(ROUND):
        tracking = f"JDE2ER{n}"
        order = {
            "number": number,
            "version": 1,
            "updated_at": (now - timedelta(hours=5)).isoformat(),
            "merchant_code": "selfop",
            "status": "fulfilling",
            "placed_at": (now - timedelta(days=1)).isoformat(),
            "paid_at": (now - timedelta(days=1)).isoformat(),
            "customer": {"external_id": f"C09{n}0", "name": f"测试收件人{n}", "phone": f"1390000{n}123"},
            "shipping_address": {
                "name": f"测试收件人{n}",
                "phone": f"1390000{n}123",
                "region": "上海市 浦东新区",
                "detail": f"张江路 {100 + n} 号 {n + 1} 栋 1201 室",
            },
            "lines": [{"line_no": 1, "sku": "AK-65W", "quantity": 1, "unit_price": "199.00"}],
            "payments": [
                {"reference": f"PAY{number}", "method": "alipay", "amount": "199.00", "paid_at": now.isoformat()}
            ],
            "shipments": [
                {
                    "carrier": "JD",
                    "tracking_number": tracking,
                    "promised_at": (now + timedelta(hours=2 + n)).isoformat(),
                    "rider": "rider",
                }
            ],
        }
        answer = page.request.post("/api/v1/orders", data=order, headers=headers)
        assert answer.ok, answer.text()
        scan = {
            "event_id": f"{tracking}-station",
            "carrier": "JD",
            "tracking_number": tracking,
            "node": "arrived_station",
            "occurred_at": (now - timedelta(hours=1)).isoformat(),
            "place": "浦东营业部",
        }
        answer = page.request.post("/api/v1/logistics-events", data=scan, headers=headers)
        assert answer.ok, answer.text()


def _card(page: Page, tracking: str) -> Any:
    return page.locator(f'[data-testid="delivery"][data-tracking="{tracking}"]')


def _assert_readable(page: Page) -> None:
    """No text in a card is squeezed into a column a character or two wide."""
    widths = page.eval_on_selector_all(
        '[data-testid="delivery"] p, [data-testid="delivery"] strong, [data-testid="delivery"] button',
        "els => els.filter(e => e.innerText.trim().length > 3).map(e => e.getBoundingClientRect().width)",
    )
    assert widths and min(widths) > 60, widths
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, f"the page scrolls sideways by {overflow} px"


def test_rider_walks_their_day(new_page: OpenPage, save_screenshot: SaveScreenshot, tmp_path: Path) -> None:
    _send_round(new_page(locale="zh-CN", viewport=DESKTOP))

    page = new_page(locale="zh-CN", viewport=DESKTOP)
    sign_in(page, "rider", lands_on="/deliveries")
    expect(page.get_by_role("heading", name="今日配送")).to_be_visible()
    for n in range(3):
        expect(_card(page, f"JDE2ER{n}")).to_be_visible()
    first = _card(page, "JDE2ER0")
    expect(first.get_by_test_id("delivery-phone")).to_have_text("139****0123")
    expect(first.get_by_test_id("delivery-address")).to_contain_text("张江路 100 号")
    _assert_readable(page)
    save_screenshot(page, "rider-01-deliveries", journey="rider", step="Signs in: today's deliveries, contacts masked")

    # Picked up, then delivered.
    first.get_by_test_id("mark-picked-up").click()
    expect(page.get_by_test_id("delivery-done")).to_be_visible()
    first = _card(page, "JDE2ER0")
    expect(first).to_have_attribute("data-status", "out_for_delivery")
    first.get_by_test_id("mark-delivered").click()
    expect(_card(page, "JDE2ER0")).to_have_attribute("data-status", "delivered")
    expect(_card(page, "JDE2ER0").get_by_test_id("mark-picked-up")).to_have_count(0)

    # The same day on a phone: cards, readable; one attempt fails, with a reason and a photo.
    phone = new_page(locale="zh-CN", viewport=PHONE)
    sign_in(phone, "rider", lands_on="/deliveries")
    _assert_readable(phone)
    save_screenshot(phone, "rider-02-deliveries-phone", journey="rider", step="On the phone: one card per parcel")
    second = _card(phone, "JDE2ER1")
    second.get_by_test_id("mark-picked-up").click()
    second = _card(phone, "JDE2ER1")
    expect(second).to_have_attribute("data-status", "out_for_delivery")
    second.get_by_test_id("mark-failed-open").click()
    second.get_by_test_id("failed-reason").select_option("not_home")
    second.get_by_test_id("failed-note").fill("敲门无人应答，已电话联系客服")
    photo = tmp_path / "door.png"
    photo.write_bytes(tiny_png())
    second.get_by_test_id("failed-photo").set_input_files(str(photo))
    save_screenshot(phone, "rider-03-failed-form-phone", journey="rider", step="Nobody home: a reason, a note, a photo")
    second.get_by_test_id("mark-failed").click()
    expect(phone.get_by_test_id("delivery-done")).to_contain_text("配送未成功")
    second = _card(phone, "JDE2ER1")
    expect(second).to_have_attribute("data-status", "exception")
    expect(second.get_by_test_id("delivery-last")).to_contain_text("收件人不在")
    expect(second.get_by_test_id("delivery-photo")).to_have_count(1)
    save_screenshot(phone, "rider-04-failed-phone", journey="rider", step="The failed attempt recorded, with its photo")
    served = phone.request.get(second.get_by_test_id("delivery-photo").get_attribute("href") or "")
    assert served.status == 200 and served.headers["content-type"] == "image/png"

    # The customer service desk sees what the rider reported on the order's logistics trail.
    agent = new_page(locale="zh-CN", viewport=DESKTOP)
    sign_in(agent, "agent1", lands_on="/orders")
    agent.goto(f"/orders/{ROUND[1]}")
    expect(agent.get_by_test_id("shipment").first).to_contain_text("配送未成功：收件人不在")
    agent.goto(f"/orders/{ROUND[0]}")
    expect(agent.locator(".status-box [data-status]").first).to_have_attribute("data-status", "delivered")
    save_screenshot(
        page, "rider-05-day-done", journey="rider", step="Picked up, delivered; the desk sees the rider's report"
    )
    assert re.search(r"/deliveries", page.url)
