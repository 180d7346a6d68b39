"""The dispute journey of issue 15, in Chromium against a real `aftersales serve` and `aftersales
worker`: the POP merchant refuses a buyer's request on its page, the buyer asks the platform to step
in, both sides submit evidence, the arbitrator rules the merchant liable, and the refund is paid once
through the refunds path (the worker and the simulated gateway confirm it)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from aftersales.cases import service as cases
from aftersales.cases.domain import CaseKind, CaseReason
from aftersales.cases.schemas import CaseDraft, CaseLineIn
from aftersales.db.uow import Database
from aftersales.identity import service as identity
from aftersales.kit import clock
from aftersales.kit.access import Principal, Role
from aftersales.orders import service as orders
from aftersales.orders.schemas import (
    AddressIn,
    CustomerIn,
    LogisticsEventIn,
    OrderIn,
    OrderLineIn,
    PaymentIn,
    ShipmentIn,
)
from aftersales.refunds.models import Refund

from .conftest import RUN_TAG
from .test_case_journey import sign_in

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
PAID_TIMEOUT_MS = 60_000
ORDER = f"SO-E2E-DISPUTE{RUN_TAG}"
OpenPage = Callable[..., Page]


def _refused_request(url: str) -> str:
    """A POP order of 李娜's, delivered yesterday, with a compensation request on it (written through
    the services, as the shop's feed and her request would): the merchant refuses it on its page."""
    db = Database(url)
    feed = Principal(user_id=0, username="e2e-feed", role=Role.INTEGRATION, display_name="订单系统")
    now, price = clock.now(), Decimal("258.00")
    placed = now - timedelta(days=4)
    orders.upsert_order(
        db,
        OrderIn(
            number=ORDER,
            version=1,
            updated_at=placed + timedelta(hours=2),
            merchant_code="pop-mama",
            status="paid",
            placed_at=placed,
            paid_at=placed + timedelta(minutes=3),
            customer=CustomerIn(external_id="C0001", name="李娜", phone="13800138001", email="lina@example.com"),
            shipping_address=AddressIn(
                name="李娜", phone="13800138001", region="上海市 浦东新区", detail="世纪大道 100 号"
            ),
            lines=[OrderLineIn(line_no=1, sku="FH-XFF3", quantity=1, unit_price=price)],
            payments=[
                PaymentIn(reference=f"PAY{ORDER}", method="alipay", amount=price, paid_at=placed + timedelta(minutes=3))
            ],
            shipments=[ShipmentIn(carrier="SF", tracking_number=f"SF{ORDER[-8:]}")],
        ),
        feed,
    )
    orders.record_logistics_event(
        db,
        LogisticsEventIn(
            event_id=f"E{ORDER}",
            carrier="SF",
            tracking_number=f"SF{ORDER[-8:]}",
            node="delivered",
            occurred_at=now - timedelta(days=1),
        ),
        feed,
    )
    lina = identity.principal_for_username(db, "customer")
    assert lina is not None
    draft = CaseDraft(
        order_number=ORDER,
        kind=CaseKind.COMPENSATION,
        reason=CaseReason.LATE_DELIVERY,
        lines=[CaseLineIn(line_no=1, quantity=1)],
        compensation_amount=Decimal("20.00"),
        description="比承诺晚到两天，奶粉罐也压瘪了。",
    )
    case = cases.submit(db, draft, lina, via="customer")
    assert case.status == "under_review", case.status
    return case.number


def _dispute_refunds(url: str) -> list[Refund]:
    with Database(url).read() as uow:
        return list(uow.session.scalars(select(Refund).where(Refund.business_key.like("dispute:%"))))


def test_refused_request_escalated_ruled_and_paid_once(
    new_page: OpenPage, e2e_database_url: str, save_screenshot: Callable[..., Any]
) -> None:
    number = _refused_request(e2e_database_url)

    merchant = new_page(locale="zh-CN", viewport=DESKTOP)
    sign_in(merchant, "merchant")  # 贝贝母婴 客服
    merchant.goto(f"/cases/{number}")
    reject = merchant.get_by_test_id("action-reject")
    reject.locator("input[name=note]").fill("物流时效以承运商为准，不予赔付。")
    reject.get_by_role("button").click()
    expect(merchant.get_by_test_id("case-status")).to_contain_text("已拒绝")

    buyer = new_page(locale="zh-CN", viewport=DESKTOP)
    sign_in(buyer, "customer")
    buyer.goto(f"/cases/{number}")
    buyer.get_by_test_id("ask-platform").click()
    buyer.locator("textarea[name=claim]").fill("商家拒绝赔付，物流确实晚了两天，请平台判定。")
    buyer.get_by_test_id("escalate-form").locator("button[type=submit]").click()
    expect(buyer).to_have_url(re.compile(r"/disputes/DP\d+$"))
    expect(buyer.get_by_test_id("dispute-status")).to_have_attribute("data-status", "escalated")
    dispute_url = buyer.url

    judge = new_page(locale="zh-CN", viewport=DESKTOP)
    sign_in(judge, "arbitrator")
    judge.goto("/disputes")
    judge.get_by_test_id("dispute-queue").get_by_role("link", name=re.compile(r"DP\d+")).first.click()
    judge.goto(dispute_url)
    judge.get_by_test_id("dispute-accept").locator("button[type=submit]").click()
    expect(judge.get_by_test_id("dispute-status")).to_have_attribute("data-status", "awaiting_evidence")

    for side, kind, text in ((buyer, "photo", "签收时罐体压瘪的照片说明。"), (merchant, "other", "承运商延误说明。")):
        side.goto(dispute_url)
        form = side.get_by_test_id("evidence-form")
        form.locator("select[name=kind]").select_option(kind)
        form.locator("textarea[name=text]").fill(text)
        form.locator("button[type=submit]").click()
        expect(side.get_by_test_id("dispute-error")).to_have_count(0)
    judge.goto(dispute_url)
    expect(judge.get_by_test_id("dispute-status")).to_have_attribute("data-status", "under_review")

    rule = judge.get_by_test_id("dispute-rule")
    rule.locator("select[name=liability]").select_option("merchant")
    rule.locator("select[name=outcome]").select_option("full_refund")
    for box in rule.locator("input[name=evidence_ids]").all():
        box.check()
    rule.locator("input[name=note]").fill("物流轨迹显示晚于承诺时间送达，商家责任。")
    rule.locator("button[type=submit]").click()
    expect(judge.get_by_test_id("dispute-ruling")).to_be_visible()
    save_screenshot(judge, "dispute-ruled")

    # The worker sends the refund to the gateway, which confirms it: the dispute is enforced.
    status = buyer.get_by_test_id("dispute-status")
    for _ in range(30):
        buyer.goto(dispute_url)
        if status.get_attribute("data-status") == "enforced":
            break
        buyer.wait_for_timeout(2000)
    expect(status).to_have_attribute("data-status", "enforced", timeout=PAID_TIMEOUT_MS)
    paid = _dispute_refunds(e2e_database_url)
    assert [(r.status, r.amount) for r in paid] == [("succeeded", Decimal("20.00"))]  # once
