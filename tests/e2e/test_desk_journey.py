"""The service desk in a real browser: a customer writes in, the agent's queue shows the ticket live
(Server-Sent Events, no reload), the agent opens it, opens a compensation case for the
order from the sidebar and replies; the customer's thread shows the reply live."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from .conftest import JOURNEY_ORDER
from .test_case_journey import DESKTOP, sign_in

pytestmark = pytest.mark.browser

OpenPage = Callable[..., Page]
SaveScreenshot = Callable[..., Any]
LIVE_TIMEOUT_MS = 30_000


def test_agent_takes_a_ticket_from_the_live_queue_acts_on_the_order_and_replies(
    new_page: OpenPage, save_screenshot: SaveScreenshot
) -> None:
    agent = new_page(locale="zh-CN", viewport=DESKTOP)
    sign_in(agent, "agent1")
    agent.goto("/desk?scope=active")
    expect(agent.get_by_test_id("queue")).to_be_visible()
    before = agent.get_by_test_id("ticket-row").count()

    customer = new_page(locale="zh-CN", viewport=DESKTOP)
    sign_in(customer, "customer")
    customer.goto(f"/support?order={JOURNEY_ORDER}")
    customer.locator("input[name=subject]").fill("充电器不充电")
    customer.locator("textarea[name=body]").fill("收到的充电器插上没有反应，完全不能充电，想退货")
    customer.get_by_test_id("support-submit").click()
    expect(customer).to_have_url(re.compile(r"/support/TK\d{12}$"))
    number = customer.url.rsplit("/", 1)[-1]

    # The agent's queue shows the new ticket without a reload.
    row = agent.locator(f'[data-testid="ticket-row"][data-number="{number}"]')
    expect(row).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    assert agent.get_by_test_id("ticket-row").count() == before + 1
    expect(row.get_by_test_id("sla-clock").first).to_be_visible()
    save_screenshot(agent, "desk-queue")

    row.get_by_role("link", name=number).click()
    expect(agent.get_by_test_id("ticket-title")).to_contain_text(number)
    expect(agent.get_by_test_id("sidebar-order")).to_contain_text(JOURNEY_ORDER)

    # One click from the ticket: compensation for the order, through the cases policies (the
    # charger itself is returned by the case journey; a compensation claims no quantity).
    agent.get_by_test_id("one-click").locator("summary").click()
    one_click = agent.get_by_test_id("one-click")
    one_click.locator("select[name=kind]").select_option("compensation")
    one_click.locator("select[name=reason]").select_option("defect")
    one_click.locator("input[name=compensation_amount]").fill("20")
    one_click.get_by_test_id("start-case").click()
    # The staff note is written in the agent's language (this desk is in Chinese).
    expect(agent.get_by_test_id("thread")).to_contain_text(re.compile(r"已由此工单创建售后单 AS\d{12}"))

    agent.get_by_test_id("reply-body").fill("您好，已为您申请赔付，审核后到账。")
    agent.get_by_test_id("send-reply").click()
    expect(agent.get_by_test_id("thread")).to_contain_text("已为您申请赔付")
    save_screenshot(agent, "desk-ticket")

    # The customer's open thread shows the reply live; the note about the case stays internal.
    expect(customer.get_by_test_id("thread")).to_contain_text("已为您申请赔付", timeout=LIVE_TIMEOUT_MS)
    expect(customer.get_by_test_id("thread")).not_to_contain_text("opened from this ticket")


def test_a_chat_handed_to_a_person_continues_with_the_agent_in_the_desk(
    new_page: OpenPage, save_screenshot: SaveScreenshot
) -> None:
    customer = new_page(locale="zh-CN", viewport=DESKTOP)
    sign_in(customer, "customer")
    customer.goto("/chat")
    panel = customer.get_by_test_id("chat-panel")
    expect(panel).to_be_visible()
    customer.get_by_test_id("chat-input").fill("我的耳机有杂音，想找人工客服聊聊")
    customer.get_by_test_id("chat-send").click()
    customer.get_by_test_id("chat-human").click()
    expect(customer.get_by_test_id("chat-status")).to_have_attribute(
        "data-status",
        "waiting_human",
        timeout=120_000,  # a fresh server may train the intent model first
    )
    link = customer.get_by_test_id("chat-messages").locator("a[href^='/support/TK']").last
    expect(link).to_be_visible()
    number = (link.get_attribute("href") or "").rsplit("/", 1)[-1]

    agent = new_page(locale="zh-CN", viewport=DESKTOP)
    sign_in(agent, "agent2")
    agent.goto(f"/desk/tickets/{number}")
    expect(agent.get_by_test_id("thread")).to_contain_text("有杂音")  # the transcript came along
    agent.get_by_test_id("reply-body").fill("您好，我是人工客服，请问杂音是一直有还是偶尔？")
    agent.get_by_test_id("send-reply").click()
    expect(agent.get_by_test_id("thread")).to_contain_text("我是人工客服")

    # The same conversation continues in the customer's chat (outbox → worker → chat, then SSE).
    expect(customer.get_by_test_id("chat-messages")).to_contain_text("我是人工客服", timeout=LIVE_TIMEOUT_MS * 2)
    expect(customer.get_by_test_id("chat-status")).to_have_attribute("data-status", "with_human")
    save_screenshot(customer, "chat-with-agent")
