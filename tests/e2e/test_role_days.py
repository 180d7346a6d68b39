"""Every role's day, end to end, in a real browser at 1280 px.

The agent: a previous handler transferred the ticket with a reason; the agent opens it from the
queue, picks a macro (the reply box fills; nothing is sent, the status stays), edits, sends, and
reads why the ticket came to them. The warehouse: reports units of a line out of stock, sees the
refund amount, confirms once, and exactly one refund follows."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from .conftest import JOURNEY_ORDER, STOCK_ORDER
from .test_case_journey import DESKTOP, sign_in

pytestmark = pytest.mark.browser

OpenPage = Callable[..., Page]
SaveScreenshot = Callable[..., Any]
REASON = "客户要开发票，已核对订单；请二线协助开具"


def test_agent_fills_a_macro_edits_sends_and_reads_the_transfer_reason(
    new_page: OpenPage, save_screenshot: SaveScreenshot
) -> None:
    customer = new_page(locale="zh-CN", viewport=DESKTOP)
    sign_in(customer, "customer")
    customer.goto(f"/support?order={JOURNEY_ORDER}")
    customer.locator("input[name=subject]").fill("发票怎么开")
    customer.locator("textarea[name=body]").fill("请问这个订单的发票在哪里开？需要公司抬头")
    customer.get_by_test_id("support-submit").click()
    expect(customer).to_have_url(re.compile(r"/support/TK\d{12}$"))
    number = customer.url.rsplit("/", 1)[-1]

    # A previous handler passes the ticket on, with the reason the next one needs.
    first = new_page(locale="zh-CN", viewport=DESKTOP)
    sign_in(first, "supervisor")
    first.goto(f"/desk/tickets/{number}")
    transfer = first.get_by_test_id("transfer-form")
    transfer.locator("input[name=reason]").fill(REASON)
    transfer.get_by_test_id("action-transfer").click()
    expect(first.get_by_test_id("handoff-note").first).to_contain_text(REASON)

    agent = new_page(locale="zh-CN", viewport=DESKTOP)
    sign_in(agent, "agent2")
    agent.goto("/desk?scope=all")
    row = agent.locator(f'[data-testid="ticket-row"][data-number="{number}"]')
    expect(row).to_be_visible()
    row.get_by_role("link", name=number).click()
    expect(agent.get_by_test_id("ticket-title")).to_contain_text(number)
    status_before = agent.get_by_test_id("ticket-head").locator("[data-status]").first.get_attribute("data-status")
    messages_before = agent.get_by_test_id("message").count()

    agent.get_by_test_id("macro-choice").select_option(label="请上传照片")
    agent.get_by_test_id("apply-macro").click()
    box = agent.get_by_test_id("reply-body")
    expect(box).to_have_value(re.compile("拍几张商品和外包装的照片"))
    expect(agent.get_by_test_id("macro-filled")).to_be_visible()
    expect(agent.get_by_test_id("reply-then")).to_have_value("pending")
    # Nothing was sent and nothing changed.
    assert agent.get_by_test_id("message").count() == messages_before
    head_status = agent.get_by_test_id("ticket-head").locator("[data-status]").first
    expect(head_status).to_have_attribute("data-status", status_before or "")
    save_screenshot(agent, "desk-macro-filled")

    box.fill("您好，发票可以在订单页申请开具，请告诉我公司抬头和税号，我来帮您提交。")
    agent.get_by_test_id("send-reply").click()
    expect(agent.get_by_test_id("thread")).to_contain_text("请告诉我公司抬头和税号")
    expect(agent.get_by_test_id("ticket-head").locator("[data-status]").first).to_have_attribute(
        "data-status", "pending"
    )
    note = agent.get_by_test_id("handoff-note").first
    expect(note).to_contain_text(REASON)
    expect(note).to_be_visible()
    save_screenshot(agent, "desk-handoff-reason")
    _no_overlap(agent)


def _no_overlap(page: Page) -> None:
    """The desk's forms sit side by side or below each other, never on top of each other, and
    buttons are sized to their text, not stretched into blocks."""
    boxes = []
    for test_id in ("escalate-form", "transfer-form", "classify"):
        found = page.get_by_test_id(test_id)
        box = found.bounding_box()
        assert box is not None, test_id
        boxes.append((test_id, box))
    for i, (a, one) in enumerate(boxes):
        for b, other in boxes[i + 1 :]:
            apart = (
                one["y"] + one["height"] <= other["y"] + 1
                or other["y"] + other["height"] <= one["y"] + 1
                or one["x"] + one["width"] <= other["x"] + 1
                or other["x"] + other["width"] <= one["x"] + 1
            )
            assert apart, f"{a} overlaps {b}: {one} {other}"
    for action in ("action-solve", "action-transfer", "send-reply"):
        button = page.get_by_test_id(action).bounding_box()
        assert button is not None and button["width"] < 320 and button["height"] < 70, (action, button)


def test_warehouse_reports_units_out_of_stock_confirms_the_amount_and_one_refund_follows(
    new_page: OpenPage, save_screenshot: SaveScreenshot
) -> None:
    page = new_page(locale="zh-CN", viewport=DESKTOP)
    sign_in(page, "warehouse")
    page.goto(f"/orders/{STOCK_ORDER}")
    line_no = "1"
    order_url = page.url

    page.get_by_test_id(f"out-of-stock-qty-{line_no}").fill("1")  # 1 of the 2 units
    page.get_by_test_id(f"out-of-stock-{line_no}").click()
    expect(page.get_by_test_id("confirm")).to_be_visible()
    amount = page.get_by_test_id("confirm-amount").inner_text()
    assert re.search(r"\d+\.\d\d", amount), amount
    expect(page.get_by_test_id("confirm-fact")).to_contain_text("1")
    save_screenshot(page, "warehouse-out-of-stock-confirm")

    page.get_by_test_id("confirm-button").click()
    expect(page).to_have_url(re.compile(r"/cases/AS\d{12}$"))
    case_url = page.url
    refunds = page.locator("[data-refund-status]")
    expect(refunds).to_have_count(1)
    assert re.sub(r"[^\d.]", "", refunds.first.inner_text().split("·")[0]) == re.sub(r"[^\d.]", "", amount)
    save_screenshot(page, "warehouse-out-of-stock-refunded")

    # Going back and confirming the same page again refunds nothing more.
    page.go_back()
    if page.get_by_test_id("confirm-button").count():
        page.get_by_test_id("confirm-button").click()
        expect(page).to_have_url(case_url)
    page.goto(case_url)
    expect(page.locator("[data-refund-status]")).to_have_count(1)
    page.goto(order_url)
    expect(page.get_by_text(re.compile("缺货"))).not_to_have_count(0)
