"""A satisfaction survey in a real Chromium: the demo customer finds it in her inbox, opens its link
on a phone in a browser where nobody is signed in (as from the email), answers it (the reasons are
asked for once a score is 3 or less), cannot answer twice, and the supervisor sees the answer."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .test_case_journey import DESKTOP, PHONE, OpenPage, sign_in

pytestmark = pytest.mark.browser

COMMENT = "耳机换了新的，但是等了挺久。"


def test_a_customer_answers_a_survey_and_the_supervisor_sees_it(new_page: OpenPage) -> None:
    customer = new_page(locale="zh-CN", viewport=PHONE)
    sign_in(customer, "customer")  # 李娜 (C0001): the demo leaves her a survey to answer
    customer.goto("/inbox")
    # Her ticket's survey (a case's survey would say AS…).
    invites = customer.get_by_test_id("inbox-message").filter(has_text="您对本次服务满意吗")
    invite = invites.filter(has_text="（TK").first
    # Journeys that ran before may have pushed it to a later page of her inbox.
    for later in range(2, 8):
        if invite.count():
            break
        customer.goto(f"/inbox?page={later}")
    expect(invite).to_be_visible()
    link = invite.locator("a[href^='/surveys/']").get_attribute("href")
    assert link is not None

    # The link works with no password, in a browser where nobody is signed in.
    reader = new_page(locale="zh-CN", viewport=PHONE)
    reader.goto(link)
    expect(reader.get_by_test_id("survey")).to_contain_text("解决结果")
    reasons = reader.get_by_test_id("reasons")
    expect(reasons).to_be_hidden()  # only asked for once a score is 3 or less
    reader.get_by_test_id("question-result").locator("label", has_text="5").click()
    reader.get_by_test_id("question-attitude").locator("label", has_text="5").click()
    reader.get_by_test_id("question-speed").locator("label", has_text="2").click()
    expect(reasons).to_be_visible()
    reasons.locator("label", has_text="回复太慢").click()
    reader.get_by_test_id("comment").fill(COMMENT)
    # The page fits a phone: nothing wider than the screen.
    assert reader.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    reader.get_by_test_id("submit-survey").click()
    expect(reader.get_by_test_id("survey-thanks")).to_contain_text("感谢")

    reader.goto(link)  # the same link again: answered once
    expect(reader.get_by_test_id("survey-problem")).to_contain_text("已经答过了")
    reader.goto("/surveys/1.1.forged")
    expect(reader.get_by_test_id("survey-problem")).to_contain_text("链接无效")

    boss = new_page(locale="en", viewport=DESKTOP)
    sign_in(boss, "supervisor")
    boss.goto("/supervisor")
    boss.get_by_test_id("csat-link").click()
    expect(boss).to_have_url(re.compile(r"/supervisor/csat"))
    row = boss.get_by_test_id("csat-response").filter(has_text=COMMENT)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("回复太慢")
    assert int(boss.get_by_test_id("total-responses").inner_text()) >= 1
    ticket = row.locator("a[href^='/desk/tickets/']")
    ticket.click()
    sidebar = boss.get_by_test_id("sidebar-survey")
    expect(sidebar.get_by_test_id("score-speed")).to_have_text("2")
    expect(sidebar.get_by_test_id("survey-comment")).to_have_text(COMMENT)
