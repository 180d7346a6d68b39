"""Proactive service in headless Chromium, on a server of its own (no demo shop, so the other
journeys' counts stay as they are): a parcel stalled for days and an order not shipped for 40 hours;
`aftersales proactive scan` finds both; the customer opens the notice from her inbox, reads the new
ETA and the next checkpoint, and with one tap cancels the stalled order (the carrier is asked to
bring it back) and changes the address of the other."""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from .conftest import (
    AFTERSALES,
    DB_KIND,
    DEFAULT_VIEWPORT,
    PG_URL,
    LiveServer,
    _child_env,
    _free_port,
    _run,
    _run_python,
    _start,
    _stop,
    _wait_healthy,
)

pytestmark = [pytest.mark.browser]

PASSWORD = "journey-pass-123"


def seed_trouble() -> None:
    """Runs in a child process with the server's environment: a shop, a customer who signs in, a
    parcel picked up six days ago and silent since, and an order paid 40 hours ago, not shipped."""
    from datetime import UTC, timedelta
    from zoneinfo import ZoneInfo

    from aftersales.db.uow import configured_database
    from aftersales.kit import clock
    from aftersales.kit.access import Principal, Role

    db = configured_database(make_data_dirs=True)
    feed = Principal(user_id=0, username="feed", role=Role.INTEGRATION, display_name="order feed")
    # Everything happens by the latest noon in Shanghai: the scan that tells the customer runs then,
    # outside the quiet hours in which the outreach governor defers proactive notices.
    shanghai = ZoneInfo("Asia/Shanghai")
    local = clock.now().astimezone(shanghai)
    noon = local.replace(hour=12, minute=0, second=0, microsecond=0)
    now = (noon if noon <= local else noon - timedelta(days=1)).astimezone(UTC)
    with clock.frozen_at(now):
        _seed_at(db, feed, now)


def _seed_at(db: Any, feed: Any, now: Any) -> None:
    from datetime import timedelta
    from decimal import Decimal

    from aftersales.identity import service as identity
    from aftersales.kit.access import Role
    from aftersales.orders import service as orders
    from aftersales.orders.domain import LogisticsNode, MerchantKind
    from aftersales.orders.schemas import LogisticsEventIn, MerchantIn, OrderIn, ProductIn, SkuIn
    from aftersales.proactive import service as proactive

    orders.ensure_categories(db, [("electronics", "数码电子", "Electronics")])
    orders.upsert_merchant(db, MerchantIn(code="selfop", name="自营旗舰店", kind=MerchantKind.SELF_OPERATED))
    orders.upsert_product(
        db,
        ProductIn(merchant_code="selfop", category_code="electronics", name="降噪耳机",
                  skus=[SkuIn(code="HP-1", price=Decimal("299.00"), stock=10)]),
    )  # fmt: skip
    # Two buyers: the outreach governor merges one buyer's notices of the same half hour into a digest.
    for number, paid_hours_ago, shipped, buyer in (
        ("SO-PRO-STALL", 24 * 7, True, "C-PRO"),
        ("SO-PRO-WAIT", 40, False, "C-PRO2"),
    ):
        paid = now - timedelta(hours=paid_hours_ago)
        data = {
            "number": number, "version": 1, "updated_at": paid.isoformat(), "merchant_code": "selfop",
            "status": "paid", "currency": "CNY", "placed_at": paid.isoformat(), "paid_at": paid.isoformat(),
            "customer": {"external_id": buyer, "name": "王芳", "phone": "13700137000"},
            "shipping_address": {"name": "王芳", "phone": "13700137000", "region": "北京市 朝阳区",
                                 "detail": "建国路 1 号"},
            "lines": [{"line_no": 1, "sku": "HP-1", "quantity": 1, "unit_price": "299.00"}],
            "shipping_fee": "0.00",
            "payments": [{"reference": f"PAY-{number}", "method": "alipay", "amount": "299.00",
                          "paid_at": paid.isoformat()}],
            "shipments": [{"carrier": "SF", "tracking_number": f"SF{number[-5:]}",
                           "promised_at": (now + timedelta(days=10)).isoformat()}] if shipped else [],
        }  # fmt: skip
        orders.upsert_order(db, OrderIn.model_validate(data), feed)
    scan = LogisticsEventIn(
        event_id="pro-1", carrier="SF", tracking_number="SFSTALL", node=LogisticsNode.PICKED_UP,
        occurred_at=now - timedelta(days=6), place="北京顺义集散中心",
    )  # fmt: skip
    orders.record_logistics_event(db, scan, feed)
    for username, buyer in (("wangfang", "C-PRO"), ("wangfang2", "C-PRO2")):
        customer_id = orders.customer_id_for(db, buyer)
        identity.create_user(db, username=username, password=PASSWORD, role=Role.CUSTOMER, customer_id=customer_id)
    found = proactive.scan(db, now)  # what the worker's periodic scan does
    assert sorted(i.kind for i in found.incidents) == ["not_shipped", "stalled"], found
    assert found.notified == 2, found


@pytest.fixture(scope="module")
def trouble_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database of its own, apart from the demo journeys' one."""
    if DB_KIND == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('proactive-db') / 'aftersales.db'}"
        return
    from sqlalchemy import create_engine, text

    name = f"aftersales_e2e_pro_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def trouble_server(trouble_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("proactive-server")
    env = _child_env(trouble_database, tmp)
    _run(["migrate"], env, tmp)
    _run_python("from tests.e2e.test_proactive_journey import seed_trouble; seed_trouble()", env, tmp)
    found = subprocess.run(
        [AFTERSALES, "proactive", "scan"], env=env, cwd=tmp, capture_output=True, text=True, timeout=120, check=True
    )
    # The seed's scan found and told both; the command finds nothing new for the same episodes.
    assert [json.loads(line) for line in found.stdout.splitlines() if line.startswith("{")] == []
    port = _free_port()
    log_path = tmp / "serve.log"
    proc = _start(["serve", "--host", "127.0.0.1", "--port", str(port)], env, tmp, log_path)
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", proc, log_path)
        yield LiveServer(url=f"http://127.0.0.1:{port}", log_path=log_path)
    finally:
        _stop(proc)


@pytest.fixture
def page(browser: Any, trouble_server: LiveServer, tmp_path: Path) -> Iterator[Page]:
    context = browser.new_context(base_url=trouble_server.url, locale="zh-CN", viewport=DEFAULT_VIEWPORT)
    yield context.new_page()
    context.close()


def sign_in(page: Page, username: str = "wangfang") -> None:
    page.goto("/login")
    page.get_by_label(re.compile("用户名|Username")).fill(username)
    page.get_by_label(re.compile("密码|Password")).fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("logout")).to_be_visible()


def open_notice(page: Page, headline: str) -> None:
    page.goto("/inbox")
    message = page.get_by_test_id("inbox-message").filter(has_text=headline)
    if "物流" in headline:
        expect(message).to_contain_text("预计送达")
    message.get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(r"/notices/\d+$"))
    expect(page.get_by_test_id("notice-headline")).to_contain_text(headline)


def test_a_stalled_parcel_notice_gives_the_new_eta_and_cancels_in_one_tap(page: Page) -> None:
    sign_in(page)
    open_notice(page, "SO-PRO-STALL 的物流暂时没有更新")
    expect(page.get_by_test_id("notice-eta")).to_have_text(re.compile(r"\d{2}月\d{2}日 \d{2}:\d{2}"))
    expect(page.get_by_test_id("notice-next")).to_have_text("离开分拨中心")
    # Shipped: the address can no longer change here, so the notice does not offer it.
    expect(page.get_by_test_id("notice-change-address")).to_have_count(0)
    expect(page.get_by_test_id("notice-talk")).to_have_attribute("href", "/support?order=SO-PRO-STALL")
    page.get_by_test_id("notice-cancel").click()
    expect(page.get_by_test_id("confirm")).to_be_visible()
    page.get_by_test_id("confirm-button").click()
    # After shipment a cancel is an intercept: a return the carrier brings back, refunded on arrival.
    expect(page).to_have_url(re.compile(r"/cases/AS\d+$"))


def test_a_not_shipped_notice_changes_the_address_in_one_tap(page: Page) -> None:
    sign_in(page, "wangfang2")
    open_notice(page, "SO-PRO-WAIT 还未发货")
    detail = page.get_by_test_id("notice-address-detail")
    detail.fill("建国路 88 号 SOHO 现代城 2 号楼")
    page.get_by_test_id("notice-change-address").click()
    expect(page).to_have_url(re.compile(r"/orders/SO-PRO-WAIT$"))
    expect(page.get_by_test_id("order-notice")).to_contain_text("收货地址已修改")
    expect(page.locator("main")).to_contain_text("建国路 88 号 SOHO 现代城 2 号楼")
