"""An administrator edits a return policy and the dry run shows the change, in a real browser.

The 7-day no-reason return becomes a 15-day one: a change-of-mind return ten days after receipt is
refused before the edit and allowed after it. The policy is put back at the end, since the browser
journeys share one server and database.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from .test_case_journey import DESKTOP, sign_in

pytestmark = pytest.mark.browser

OpenPage = Callable[..., Page]
SaveScreenshot = Callable[..., Any]
POLICY = "no_reason_7_days"
TEN_DAYS_AFTER_RECEIPT = {
    "order.delivered": True,
    "order.shipped": True,
    "order.days_since_receipt": 10,
    "order.days_since_payment": 13,
    "order.merchant_code": "selfop",
    "order.merchant_tags": [],
    "product.category": "apparel",
    "product.tags": [],
    "customer.tier": "regular",
    "customer.past_returns": 0,
    "case.kind": "return_refund",
    "case.reason": "changed_mind",
    "case.quantity": 1,
    "case.amount": 129,
    "case.opened": False,
}


def _dry_run(page: Page) -> str:
    form = page.get_by_test_id("dry-run-facts")
    form.locator("textarea[name=facts]").fill(json.dumps(TEN_DAYS_AFTER_RECEIPT, indent=2))
    form.get_by_role("button").click()
    verdict = page.get_by_test_id("dry-run-result").get_by_test_id("verdict")
    expect(verdict).to_be_visible()
    return verdict.get_attribute("data-eligible") or ""


def _set_days(page: Page, days: int) -> None:
    definition = page.get_by_test_id("definition")
    text = definition.input_value()
    changed = re.sub(
        r'("attr": "order.days_since_receipt",\s*"op": "lte",\s*"value": )\d+', rf"\g<1>{days}", text, count=1
    )
    assert changed != text or f'"value": {days}' in text
    definition.fill(changed)
    page.get_by_test_id("save-policy").click()
    expect(page.get_by_role("status")).to_be_visible()
    expect(page.get_by_test_id("definition")).to_contain_text(f'"value": {days}')


def test_admin_widens_the_no_reason_period_and_the_dry_run_shows_it(
    new_page: OpenPage, save_screenshot: SaveScreenshot
) -> None:
    admin = new_page(locale="zh-CN", viewport=DESKTOP)
    sign_in(admin, "admin")
    admin.goto(f"/admin/policies/{POLICY}")
    expect(admin.get_by_test_id("policy-key")).to_have_text(POLICY)

    assert _dry_run(admin) == "false"  # ten days after receipt: past the 7-day period
    expect(admin.get_by_test_id("reason-zh")).to_contain_text("已超过七天无理由")

    try:
        _set_days(admin, 15)
        assert _dry_run(admin) == "true"
        expect(admin.get_by_test_id("reason-en")).to_contain_text("no-reason return")
        save_screenshot(admin, "policy-dry-run")
    finally:
        admin.goto(f"/admin/policies/{POLICY}")
        _set_days(admin, 7)
    assert _dry_run(admin) == "false"
