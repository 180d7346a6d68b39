"""Every role's main day, from sign-in, with real clicks: one journey per role (the rider's is in
test_rider_journey.py), each leaving something the next person sees. `pytest -m journey` walks
them; `make journeys` also keeps their screenshots and rewrites docs/journeys.md.

Each journey brings its own orders, sent through the public API by the administrator (as the shop's
order feed and the carrier would), numbered SO-J-…, so the journeys do not depend on each other or
on the demo's random orders, and the counts other browser tests make stay as they are.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from .conftest import RUN_TAG
from .test_journeys import DESKTOP, PHONE, sign_in, submit_login

pytestmark = [pytest.mark.browser, pytest.mark.journey]

OpenPage = Callable[..., Page]
SaveScreenshot = Callable[..., Any]
REFUND_TIMEOUT_MS = 60_000


@dataclass(frozen=True)
class Buyer:
    external_id: str
    name: str
    phone: str
    email: str


LINA = Buyer("C0001", "李娜", "13800138001", "lina@example.com")
EMMA = Buyer("C0002", "Emma Wilson", "13900139002", "emma@example.com")
SCANS = ("picked_up", "departed_hub", "arrived_station", "out_for_delivery", "delivered")


def number(name: str) -> str:
    """An order number of the journeys' own (with a tag when walked again on a running server)."""
    return f"SO-J-{name}{RUN_TAG}"


def send_order(
    admin: Page,
    order_number: str,
    buyer: Buyer,
    *,
    merchant: str,
    sku: str,
    price: str,
    quantity: int = 1,
    scans: int = len(SCANS),
    days_ago: int = 3,
) -> None:
    """The order as the shop's feed sends it, and `scans` of the carrier's scans (all of them:
    delivered yesterday; fewer: still on its way, promised for tomorrow)."""
    token = admin.locator('meta[name="csrf-token"]').get_attribute("content")
    headers = {"X-CSRF-Token": token or ""}
    now = datetime.now(UTC)
    placed = now - timedelta(days=days_ago)
    total = f"{float(price) * quantity:.2f}"
    tracking = f"JDJ{abs(hash(order_number)) % 10**9:09d}"
    address = {"name": buyer.name, "phone": buyer.phone, "region": "上海市 浦东新区", "detail": "世纪大道 100 号"}
    order: dict[str, Any] = {
        "number": order_number,
        "version": 1,
        "updated_at": (placed + timedelta(hours=2)).isoformat(),
        "merchant_code": merchant,
        "status": "fulfilling",
        "placed_at": placed.isoformat(),
        "paid_at": (placed + timedelta(minutes=3)).isoformat(),
        "customer": {"external_id": buyer.external_id, "name": buyer.name, "phone": buyer.phone, "email": buyer.email},
        "shipping_address": address,
        "lines": [{"line_no": 1, "sku": sku, "quantity": quantity, "unit_price": price}],
        "payments": [
            {"reference": f"PAY{order_number}", "method": "alipay", "amount": total, "paid_at": placed.isoformat()}
        ],
    }
    if scans:
        promised = now + timedelta(days=1) if scans < len(SCANS) else now - timedelta(hours=20)
        order["shipments"] = [{"carrier": "JD", "tracking_number": tracking, "promised_at": promised.isoformat()}]
    answer = admin.request.post("/api/v1/orders", data=order, headers=headers)
    assert answer.ok, answer.text()
    first_scan = now - timedelta(days=days_ago - 1)
    for n, node in enumerate(SCANS[:scans]):
        at = first_scan + timedelta(hours=(n + 1) * (24 * (days_ago - 1) - 2) / len(SCANS))
        scan = {
            "event_id": f"{tracking}-{n}",
            "carrier": "JD",
            "tracking_number": tracking,
            "node": node,
            "occurred_at": at.isoformat(),
            "place": "浦东营业部" if n >= 2 else "上海转运中心",
        }
        answer = admin.request.post("/api/v1/logistics-events", data=scan, headers=headers)
        assert answer.ok, answer.text()


def journey_shots(save_screenshot: SaveScreenshot, journey: str) -> Callable[[Page, str, str], None]:
    """shot(page, "01-orders", "what the person just did"): one step of the journey in docs/journeys.md."""

    def shot(page: Page, name: str, step: str) -> None:
        save_screenshot(page, f"{journey}-{name}", journey=journey, step=step)

    return shot


def as_admin(new_page: OpenPage) -> Page:
    page = new_page(locale="zh-CN", viewport=DESKTOP)
    sign_in(page, "admin", lands_on="/admin/users")
    return page


# --- customer (zh) ---------------------------------------------------------------------------------


def test_customer_zh_day_order_progress_return_with_preview_case_timeline_and_support(
    new_page: OpenPage, save_screenshot: SaveScreenshot
) -> None:
    shot = journey_shots(save_screenshot, "customer-zh")
    admin = as_admin(new_page)
    on_its_way, delivered = number("LINA-SHIP"), number("LINA-RET")
    send_order(admin, on_its_way, LINA, merchant="selfop", sku="LG-MX3S", price="749.00", scans=3, days_ago=2)
    send_order(admin, delivered, LINA, merchant="selfop", sku="HW-FB5-B", price="999.00", days_ago=4)

    page = new_page(locale="zh-CN", viewport=DESKTOP)
    sign_in(page, "customer", lands_on="/orders")
    expect(page.get_by_role("heading", name="我的订单")).to_be_visible()
    expect(page.get_by_test_id("order-card").filter(has_text=on_its_way)).to_be_visible()
    shot(page, "01-orders", "Signs in: her orders")

    # The parcel on its way: where it is, and when it is promised.
    page.get_by_test_id("order-card").filter(has_text=on_its_way).click()
    expect(page.get_by_test_id("order-number")).to_have_text(on_its_way)
    shipment = page.get_by_test_id("shipment").first
    expect(shipment.get_by_test_id("logistics-node").first).to_contain_text("到达派送站")
    expect(shipment).to_contain_text("承诺送达")
    page.get_by_test_id("urge-order").click()
    expect(page.get_by_test_id("order-notice")).to_contain_text("已通知商家")
    shot(page, "02-progress", "The parcel on its way: scans, promised time; she urges it")

    # The delivered one: a return, with the eligibility preview before anything is sent.
    page.goto(f"/orders/{delivered}")
    page.get_by_test_id("after-sales").click()
    expect(page.get_by_role("heading", name="申请售后")).to_be_visible()
    page.get_by_test_id("qty-1").fill("1")
    page.get_by_test_id("case-kind").select_option(label="退货退款")
    page.get_by_test_id("case-reason").select_option(label="质量问题")
    preview = page.get_by_test_id("preview-result")
    expect(preview).to_have_attribute("data-eligible", "true")
    expect(preview).to_contain_text("¥999.00")
    shot(page, "03-preview", "A return: the preview says what will happen before she sends it")
    page.get_by_test_id("case-submit").click()
    expect(page).to_have_url(re.compile(r"/cases/AS\d+$"))
    case_number = page.get_by_test_id("case-number").inner_text().strip()
    timeline = page.get_by_test_id("case-timeline")
    expect(timeline.locator("li").first).to_be_visible()
    shot(page, "04-case", "The case and its timeline")

    # A question for a person, from the support page, about that order.
    page.get_by_test_id("nav-support").click()
    form = page.get_by_test_id("support-form")
    form.locator("input[name=order_number]").fill(delivered)
    form.locator("input[name=subject]").fill("退款什么时候到账")
    form.locator("textarea[name=body]").fill(f"售后单 {case_number} 审核通过后，退款多久能到账？")
    page.get_by_test_id("support-submit").click()
    expect(page).to_have_url(re.compile(r"/support/TK\d{12}$"))
    expect(page.get_by_test_id("thread")).to_contain_text(case_number)
    shot(page, "05-support", "Asks support when the refund arrives; the ticket keeps the thread")

    # The same day on a phone: the orders, and the case.
    phone = new_page(locale="zh-CN", viewport=PHONE)
    sign_in(phone, "customer", lands_on="/orders")
    expect(phone.get_by_test_id("order-card").first).to_be_visible()
    shot(phone, "06-orders-phone", "On her phone: orders")
    phone.goto(f"/cases/{case_number}")
    expect(phone.get_by_test_id("case-number")).to_have_text(case_number)
    shot(phone, "07-case-phone", "On her phone: the case")


# --- customer (en) ---------------------------------------------------------------------------------

CJK = re.compile(r"[\u4e00-\u9fff]")


def assert_english(page: Page, test_id: str) -> None:
    """What the page says to an English customer has no Chinese in it (names of goods aside)."""
    for text in page.get_by_test_id(test_id).all_inner_texts():
        assert not CJK.search(text), f"{test_id} on {page.url} speaks Chinese to an English customer: {text!r}"


def test_customer_en_day_return_shipped_back_inbox_and_support_in_english(
    new_page: OpenPage, save_screenshot: SaveScreenshot
) -> None:
    shot = journey_shots(save_screenshot, "customer-en")
    admin = as_admin(new_page)
    delivered = number("EMMA-RET")
    send_order(admin, delivered, EMMA, merchant="selfop", sku="AK-65W", price="199.00", days_ago=3)

    page = new_page(locale="en-US", viewport=DESKTOP)
    sign_in(page, "emma", lands_on="/orders")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="My orders")).to_be_visible()
    shot(page, "01-orders", "Signs in: her orders, in English")

    page.get_by_test_id("order-card").filter(has_text=delivered).click()
    expect(page.get_by_test_id("order-number")).to_have_text(delivered)
    expect(page.get_by_test_id("shipment").first.get_by_test_id("logistics-node").first).to_contain_text("Delivered")
    shot(page, "02-order", "The order: delivered, with the carrier's scans")

    page.get_by_test_id("after-sales").click()
    page.get_by_test_id("qty-1").fill("1")
    page.get_by_test_id("case-kind").select_option("return_refund")
    page.get_by_test_id("case-reason").select_option("defect")
    preview = page.get_by_test_id("preview-result")
    expect(preview).to_have_attribute("data-eligible", "true")
    expect(preview).to_contain_text("¥199.00")
    assert_english(page, "preview-result")
    shot(page, "03-preview", "A return: the preview, before anything is sent")
    page.get_by_test_id("case-submit").click()
    expect(page).to_have_url(re.compile(r"/cases/AS\d+$"))
    case_number = page.get_by_test_id("case-number").inner_text().strip()
    approve_if_reviewed(new_page, page, case_number)
    status = page.get_by_test_id("case-status").locator("[data-status]")
    expect(status).to_have_attribute("data-status", "awaiting_return")
    assert_english(page, "case-status")
    assert_english(page, "case-timeline")

    ship_back = page.get_by_test_id("action-ship_back")
    ship_back.locator("input[name=carrier]").fill("SF")
    ship_back.locator("input[name=tracking_number]").fill("SF9876543210")
    ship_back.locator("button").click()
    expect(status).to_have_attribute("data-status", "return_in_transit")
    expect(page.get_by_test_id("case-timeline").locator("li").first).to_contain_text(status.inner_text().strip())
    assert_english(page, "case-timeline")
    shot(page, "04-case", "Ships it back with the tracking number; the timeline follows")

    # Her inbox tells her about the case, in English.
    page.get_by_test_id("nav-inbox").click()
    expect(page.locator("main")).to_contain_text(case_number)
    expect(page.locator("main")).to_contain_text(re.compile("[Uu]nread"))
    assert not CJK.search(page.locator("main").inner_text().replace(delivered, ""))
    shot(page, "05-inbox", "Her inbox: notices about the order and the case, in English")

    # A question for a person: the support form, in English.
    page.get_by_test_id("nav-support").click()
    form = page.get_by_test_id("support-form")
    form.locator("input[name=subject]").fill("Refund to my card")
    form.locator("textarea[name=body]").fill(f"Will the refund for {case_number} go back to my card?")
    page.get_by_test_id("support-submit").click()
    expect(page).to_have_url(re.compile(r"/support/TK\d{12}$"))
    expect(page.get_by_test_id("thread")).to_contain_text("go back to my card")
    assert not CJK.search(page.locator("main").inner_text())
    shot(page, "06-support", "Writes to support; the ticket thread")

    phone = new_page(locale="en-US", viewport=PHONE)
    sign_in(phone, "emma", lands_on="/orders")
    expect(phone.get_by_test_id("order-card").first).to_be_visible()
    shot(phone, "07-orders-phone", "On her phone: orders")
    phone.goto(f"/cases/{case_number}")
    expect(phone.get_by_test_id("case-status").locator("[data-status]")).to_have_attribute(
        "data-status", "return_in_transit"
    )
    shot(phone, "08-case-phone", "On her phone: the case")


# --- agent -----------------------------------------------------------------------------------------


def write_in(new_page: OpenPage, order_number: str, subject: str, body: str) -> str:
    """The customer 李娜 writes to support about an order; the ticket's number."""
    customer = new_page(locale="zh-CN", viewport=DESKTOP)
    sign_in(customer, "customer", lands_on="/orders")
    customer.goto(f"/support?order={order_number}")
    customer.locator("input[name=subject]").fill(subject)
    customer.locator("textarea[name=body]").fill(body)
    customer.get_by_test_id("support-submit").click()
    expect(customer).to_have_url(re.compile(r"/support/TK\d{12}$"))
    return customer.url.rsplit("/", 1)[-1]


def head_status(page: Page) -> Any:
    return page.get_by_test_id("ticket-head").locator("[data-status]").first


def test_agent_day_queue_ticket_macro_reply_status_and_one_click_case(
    new_page: OpenPage, save_screenshot: SaveScreenshot
) -> None:
    shot = journey_shots(save_screenshot, "agent")
    order_number = number("AGENT")
    send_order(as_admin(new_page), order_number, LINA, merchant="selfop", sku="SP-RC4", price="329.00", days_ago=5)
    ticket = write_in(new_page, order_number, "电饭煲内胆有划痕", "收到的电饭煲内胆有一道明显划痕，想要补偿或者换一个")

    agent = new_page(locale="zh-CN", viewport=DESKTOP)
    sign_in(agent, "agent1", lands_on="/orders")
    agent.get_by_test_id("nav-desk").click()
    agent.get_by_test_id("scope-all").click()
    row = agent.locator(f'[data-testid="ticket-row"][data-number="{ticket}"]')
    expect(row).to_be_visible()
    expect(row.get_by_test_id("sla-clock").first).to_be_visible()
    shot(agent, "01-queue", "The queue: the new ticket with its response clock")

    row.get_by_role("link", name=ticket).click()
    expect(agent.get_by_test_id("ticket-title")).to_contain_text(ticket)
    expect(agent.get_by_test_id("sidebar-order")).to_contain_text(order_number)
    messages = agent.get_by_test_id("message").count()

    # A macro fills the reply box; nothing is sent until the agent sends it.
    agent.get_by_test_id("macro-choice").select_option(label="请上传照片")
    agent.get_by_test_id("apply-macro").click()
    box = agent.get_by_test_id("reply-body")
    expect(box).to_have_value(re.compile("拍几张商品和外包装的照片"))
    expect(agent.get_by_test_id("macro-filled")).to_be_visible()
    assert agent.get_by_test_id("message").count() == messages
    shot(agent, "02-macro", "A macro fills the reply box and proposes the next status; nothing is sent")
    box.fill("您好，已看到您的订单，内胆划痕我们为您申请 30 元补偿，请留意到账。")
    agent.get_by_test_id("reply-then").select_option("pending")
    agent.get_by_test_id("send-reply").click()
    expect(agent.get_by_test_id("thread")).to_contain_text("申请 30 元补偿")
    expect(head_status(agent)).to_have_attribute("data-status", "pending")

    # One click from the ticket: a compensation case for the order.
    agent.get_by_test_id("one-click").locator("summary").click()
    one_click = agent.get_by_test_id("one-click")
    one_click.locator("select[name=kind]").select_option("compensation")
    one_click.locator("select[name=reason]").select_option("defect")
    one_click.locator("input[name=compensation_amount]").fill("30")
    one_click.get_by_test_id("start-case").click()
    expect(agent.get_by_test_id("thread")).to_contain_text(re.compile(r"AS\d{12}"))
    shot(agent, "03-replied", "Sent, status pending; a compensation case opened from the ticket in one click")

    # The customer sees the reply on her ticket.
    customer = new_page(locale="zh-CN", viewport=DESKTOP)
    sign_in(customer, "customer", lands_on="/orders")
    customer.goto(f"/support/{ticket}")
    expect(customer.get_by_test_id("thread")).to_contain_text("申请 30 元补偿")


# --- supervisor ------------------------------------------------------------------------------------


def test_supervisor_day_board_at_risk_reassign_and_audit_pages(
    new_page: OpenPage, save_screenshot: SaveScreenshot
) -> None:
    shot = journey_shots(save_screenshot, "supervisor")
    order_number = number("SUPER")
    send_order(as_admin(new_page), order_number, LINA, merchant="selfop", sku="HR-WM10", price="2599.00", days_ago=6)
    ticket = write_in(new_page, order_number, "洗衣机漏水", "洗衣机用了两天底部一直漏水，要求上门检修")

    page = new_page(locale="zh-CN", viewport=DESKTOP)
    sign_in(page, "supervisor", lands_on="/orders")
    page.goto("/supervisor")
    expect(page.get_by_test_id("queues")).to_be_visible()
    expect(page.get_by_test_id("agents")).to_be_visible()
    work = page.locator(f'[data-testid="work-row"][data-ref="{ticket}"]')
    expect(work).to_be_visible()
    link = work.get_by_test_id("work-link")
    expect(link).to_have_attribute("href", f"/desk/tickets/{ticket}")
    shot(page, "01-board", "The board: queues, agents' load, open work; ticket numbers are links")

    # Reassigning a platform ticket offers platform staff only, never a merchant's.
    choices = work.locator("select[name=to_user_id] option").all_inner_texts()
    assert not any("贝贝母婴" in c for c in choices), choices
    before = work.locator("td").nth(4).inner_text().strip()
    online = work.locator("select[name=to_user_id] option:not([disabled]):not([value=''])").all_inner_texts()

    def room(choice: str) -> int:  # "陈刚 (二线) · 在线 · 3/15" → 12 tickets to spare
        held, most = choice.rsplit(" · ", 1)[-1].split("/")
        return int(most) - int(held)

    target = max((c for c in online if not c.startswith(before)), key=room)
    work.locator("select[name=to_user_id]").select_option(label=target)
    work.get_by_test_id("reassign").click()
    expect(page.get_by_test_id("routing-error")).to_have_count(0)
    name = target.split(" · ")[0]
    work = page.locator(f'[data-testid="work-row"][data-ref="{ticket}"]')
    expect(work.locator("td").nth(4)).to_have_text(name)
    shot(page, "02-reassigned", f"Reassigned from {before} to {name}")

    # The ticket page says who holds it now.
    work.get_by_test_id("work-link").click()
    expect(page.get_by_test_id("ticket-title")).to_contain_text(ticket)
    # The ticket learns its new holder from the routing (through the outbox): reload until it has.
    for _ in range(30):
        if name in page.get_by_test_id("assignee").inner_text():
            break
        page.wait_for_timeout(1000)
        page.reload()
    expect(page.get_by_test_id("assignee")).to_contain_text(name)

    # At-risk tickets, then the audit log, a page at a time.
    page.goto("/supervisor")
    page.get_by_test_id("at-risk-link").click()
    expect(page).to_have_url(re.compile(r"/desk\?scope=at_risk"))
    expect(page.get_by_test_id("queue")).to_be_visible()
    shot(page, "03-at-risk", "Tickets near or past their deadline")
    page.goto("/admin/audit")
    rows = page.get_by_test_id("audit-row")
    expect(rows.first).to_be_visible()
    assert rows.count() <= 50
    pager = page.locator("nav.pager")
    expect(pager).to_be_visible()
    first_row = rows.first.inner_text()
    pager.get_by_role("link", name=re.compile("下一页")).click()
    expect(page).to_have_url(re.compile(r"page=2"))
    expect(page.get_by_test_id("audit-row").first).not_to_have_text(first_row)
    shot(page, "04-audit", "The audit log, page 2")


# --- merchant --------------------------------------------------------------------------------------


def case_status(page: Page) -> Any:
    return page.get_by_test_id("case-status").locator("[data-status]")


def file_return(page: Page, order_number: str) -> str:
    """As the signed-in customer: a return and refund of line 1 for a defect; the case's number."""
    page.goto(f"/orders/{order_number}/after-sales")
    page.get_by_test_id("qty-1").fill("1")
    page.get_by_test_id("case-kind").select_option("return_refund")
    page.get_by_test_id("case-reason").select_option("defect")
    expect(page.get_by_test_id("preview-result")).to_have_attribute("data-eligible", "true")
    page.get_by_test_id("case-submit").click()
    expect(page).to_have_url(re.compile(r"/cases/AS\d+$"))
    return page.get_by_test_id("case-number").inner_text().strip()


def approve_if_reviewed(new_page: OpenPage, customer: Page, case_number: str) -> None:
    """A self-operated shop's return waits for the service desk's review when the customer has
    several returns behind her (a first one is approved at once): an agent approves it."""
    if case_status(customer).get_attribute("data-status") != "under_review":
        return
    agent = new_page(locale="zh-CN", viewport=DESKTOP)
    sign_in(agent, "agent1", lands_on="/orders")
    agent.goto(f"/cases/{case_number}")
    agent.get_by_test_id("action-approve").locator("button").click()
    expect(case_status(agent)).to_have_attribute("data-status", "awaiting_return")
    customer.reload()


def ship_back(page: Page, case_number: str, tracking: str) -> None:
    page.goto(f"/cases/{case_number}")
    form = page.get_by_test_id("action-ship_back")
    form.locator("input[name=carrier]").fill("SF")
    form.locator("input[name=tracking_number]").fill(tracking)
    form.locator("button").click()
    expect(case_status(page)).to_have_attribute("data-status", "return_in_transit")


def test_merchant_day_own_orders_urge_task_and_a_return_approved_received_inspected(
    new_page: OpenPage, save_screenshot: SaveScreenshot
) -> None:
    shot = journey_shots(save_screenshot, "merchant")
    admin = as_admin(new_page)
    returned, urged = number("MAMA-RET"), number("MAMA-SHIP")
    send_order(admin, returned, LINA, merchant="pop-mama", sku="GB-STR1", price="1299.00", days_ago=5)
    send_order(admin, urged, LINA, merchant="pop-mama", sku="PP-L-52", price="149.00", scans=2, days_ago=2)

    customer = new_page(locale="zh-CN", viewport=DESKTOP)
    sign_in(customer, "customer", lands_on="/orders")
    customer.goto(f"/orders/{urged}")
    customer.get_by_test_id("urge-order").click()
    expect(customer.get_by_test_id("order-notice")).to_contain_text("已通知商家")
    case_number = file_return(customer, returned)
    expect(case_status(customer)).to_have_attribute("data-status", "under_review")

    page = new_page(locale="zh-CN", viewport=DESKTOP)
    sign_in(page, "merchant", lands_on="/orders")
    rows = page.get_by_test_id("order-row")
    expect(rows.filter(has_text=returned)).to_be_visible()
    expect(rows.filter(has_not_text="贝贝母婴")).to_have_count(0)  # their own shop's orders only
    shot(page, "01-orders", "Signs in: the shop's own orders, no one else's")

    # The case list: the urge waiting on them, and the return waiting for review.
    page.goto("/cases")
    urge = page.get_by_test_id("urge").filter(has_text=urged)
    expect(urge).to_have_attribute("data-handled", "false")
    expect(page.get_by_test_id("case-row").filter(has_text=case_number)).to_be_visible()
    shot(page, "02-waiting", "Waiting on the shop: an urge with its deadline, and a return to review")
    urge.locator("input[name=note]").fill("已加急，今天发出")
    urge.locator("button").click()
    expect(page.get_by_test_id("urge").filter(has_text=urged)).to_have_count(0)  # off the list
    # The customer's order page says what the shop did.
    customer.goto(f"/orders/{urged}")
    expect(customer.get_by_test_id("urge")).to_have_attribute("data-handled", "true")
    expect(customer.get_by_test_id("urge")).to_contain_text("已加急，今天发出")
    page.goto("/cases")

    page.get_by_test_id("case-row").filter(has_text=case_number).get_by_role("link", name=case_number).click()
    expect(page.get_by_test_id("case-number")).to_have_text(case_number)
    page.get_by_test_id("action-approve").locator("button").click()
    expect(case_status(page)).to_have_attribute("data-status", "awaiting_return")
    # Nothing to receive before the customer has shipped it with a tracking number.
    expect(page.get_by_test_id("action-receive")).to_have_count(0)
    shot(page, "03-approved", "Approves the return; the customer is told where to send it")

    ship_back(customer, case_number, "SF5550001111")
    expect(customer.get_by_test_id("return-address")).to_contain_text("贝贝母婴")

    page.reload()
    expect(case_status(page)).to_have_attribute("data-status", "return_in_transit")
    expect(page.locator("main")).to_contain_text("SF5550001111")
    page.get_by_test_id("action-receive").locator("button").click()
    expect(case_status(page)).to_have_attribute("data-status", "received")
    inspect = page.get_by_test_id("action-inspect_pass")
    inspect.locator("input[name=note]").fill("推车轮轴异响属实，配件齐全")
    inspect.locator("button").click()
    expect(page.get_by_test_id("case-error")).to_have_count(0)
    expect(case_status(page)).to_have_attribute("data-status", re.compile("refunding|completed"))
    shot(page, "04-inspected", "The parcel (with its tracking number) received and inspected; the refund follows")

    # The customer's open case page follows by itself to the refund's end.
    customer.goto(f"/cases/{case_number}")
    expect(case_status(customer)).to_have_attribute("data-status", "completed", timeout=REFUND_TIMEOUT_MS)


# --- warehouse -------------------------------------------------------------------------------------


def test_warehouse_day_out_of_stock_with_quantity_and_confirmation_then_a_returned_parcel(
    new_page: OpenPage, save_screenshot: SaveScreenshot
) -> None:
    shot = journey_shots(save_screenshot, "warehouse")
    admin = as_admin(new_page)
    waiting, returned = number("WH-STOCK"), number("WH-RET")
    send_order(admin, waiting, LINA, merchant="selfop", sku="BK-3BODY", price="93.00", quantity=3, scans=0, days_ago=1)
    send_order(admin, returned, LINA, merchant="selfop", sku="AK-65W", price="199.00", days_ago=4)
    customer = new_page(locale="zh-CN", viewport=DESKTOP)
    sign_in(customer, "customer", lands_on="/orders")
    case_number = file_return(customer, returned)

    approve_if_reviewed(new_page, customer, case_number)
    ship_back(customer, case_number, "SF7770002222")

    page = new_page(locale="zh-CN", viewport=DESKTOP)
    sign_in(page, "warehouse", lands_on="/orders")
    page.get_by_test_id("order-search").fill(waiting)
    page.get_by_test_id("order-row").filter(has_text=waiting).get_by_role("link", name=waiting).click()
    expect(page.get_by_test_id("order-number")).to_have_text(waiting)
    shot(page, "01-order", "An order waiting to ship: 3 sets, one of which is not in stock")

    # One unit out of stock: the amount to refund is shown, and confirmed once.
    page.get_by_test_id("out-of-stock-qty-1").fill("1")
    page.get_by_test_id("out-of-stock-1").click()
    expect(page.get_by_test_id("confirm-amount")).to_contain_text("93.00")
    shot(page, "02-confirm", "Reports 1 unit out of stock: the refund of ¥93.00 is shown before it moves")
    page.get_by_test_id("confirm-button").click()
    expect(page).to_have_url(re.compile(r"/cases/AS\d{12}$"))
    expect(page.locator("[data-refund-status]")).to_have_count(1)
    shot(page, "03-refunded", "Confirmed: a case with exactly one refund for the customer")

    # The returned parcel arrives: receive it, inspect it.
    page.goto("/cases")
    page.get_by_test_id("case-row").filter(has_text=case_number).get_by_role("link", name=case_number).click()
    expect(case_status(page)).to_have_attribute("data-status", "return_in_transit")
    expect(page.locator("main")).to_contain_text("SF7770002222")
    shot(page, "04-parcel", "A returned parcel on its way back, with its tracking number")
    page.get_by_test_id("action-receive").locator("button").click()
    expect(case_status(page)).to_have_attribute("data-status", "received")
    inspect = page.get_by_test_id("action-inspect_pass")
    inspect.locator("input[name=note]").fill("外观完好，通电无输出，质量问题属实")
    inspect.locator("button").click()
    expect(case_status(page)).to_have_attribute("data-status", re.compile("refunding|completed"))
    shot(page, "05-inspected", "Received and inspected; the refund is on its way to the customer")

    customer.goto(f"/cases/{case_number}")
    expect(case_status(customer)).to_have_attribute("data-status", "completed", timeout=REFUND_TIMEOUT_MS)


# --- arbitrator ------------------------------------------------------------------------------------


def test_arbitrator_day_reads_cases_and_orders_with_contacts_masked(
    new_page: OpenPage, save_screenshot: SaveScreenshot
) -> None:
    """The arbitrator's day: the disputes queue by deadline, a dispute under review with its evidence
    chain and ruling form (the ruling itself is walked in test_dispute_journey.py), then reading every
    case, its timeline and its order, with the customer's contact masked."""
    shot = journey_shots(save_screenshot, "arbitrator")
    disputed = number("ARB")
    send_order(as_admin(new_page), disputed, LINA, merchant="pop-style", sku="US-DOWN-M", price="699.00", days_ago=5)
    customer = new_page(locale="zh-CN", viewport=DESKTOP)
    sign_in(customer, "customer", lands_on="/orders")
    case_number = file_return(customer, disputed)

    page = new_page(locale="zh-CN", viewport=DESKTOP)
    sign_in(page, "arbitrator", lands_on="/orders")
    shot(page, "01-orders", "Signs in: every shop's orders, to read")
    page.get_by_test_id("nav-disputes").click()
    reviewing = page.get_by_test_id("dispute-queue").locator("tr").filter(has_text="仲裁审核中").first
    expect(reviewing).to_be_visible()
    shot(page, "02-disputes", "The disputes waiting on the platform, the nearest deadline first")
    reviewing.get_by_role("link").first.click()
    expect(page.get_by_test_id("dispute-status")).to_have_attribute("data-status", "under_review")
    expect(page.get_by_test_id("evidence-chain").locator("li").first).to_be_visible()
    shot(page, "03-dispute", "A dispute under review: both sides' evidence, the deadline, the ruling form")
    page.get_by_role("link", name="售后", exact=True).click()
    row = page.get_by_test_id("case-row").filter(has_text=case_number)
    expect(row).to_be_visible()
    shot(page, "04-cases", "Every shop's cases")
    row.get_by_role("link", name=case_number).click()
    expect(page.get_by_test_id("case-number")).to_have_text(case_number)
    expect(page.get_by_test_id("case-timeline").locator("li").first).to_be_visible()
    expect(page.get_by_test_id("action-approve")).to_have_count(0)  # reads; the shop decides
    expect(page.get_by_test_id("action-reject")).to_have_count(0)
    shot(page, "05-case", "A case and its timeline, read-only")
    page.get_by_role("link", name=re.compile(disputed)).first.click()
    expect(page.get_by_test_id("order-number")).to_have_text(disputed)
    expect(page.locator("main")).to_contain_text("138****8001")
    expect(page.locator("main")).not_to_contain_text(LINA.phone)
    shot(page, "06-order", "The case's order, the customer's phone and address masked")
    answer = page.goto("/desk")
    assert answer is not None and answer.status == 403  # not a service agent


# --- admin -----------------------------------------------------------------------------------------


def test_admin_day_roles_accounts_policy_dry_run_and_audit(new_page: OpenPage, save_screenshot: SaveScreenshot) -> None:
    """Users and roles, a policy's dry run, the audit log. API tokens have no page: they are made
    with `aftersales token create` (docs/api.md)."""
    from .test_policy_journey import POLICY, _dry_run

    shot = journey_shots(save_screenshot, "admin")
    page = new_page(locale="zh-CN", viewport=DESKTOP)
    sign_in(page, "admin", lands_on="/admin/users")
    rider = page.get_by_test_id("user-row").filter(has=page.locator("td", has_text=re.compile("^rider$")))
    expect(rider).to_be_visible()
    shot(page, "01-users", "Signs in: users, their roles and whether they may sign in")

    # The rider's account is switched off: the rider cannot sign in; on again, they can.
    rider.get_by_test_id("toggle-active").click()
    expect(page.get_by_role("status")).to_be_visible()
    other = new_page(locale="zh-CN", viewport=DESKTOP)
    assert submit_login(other, "rider").status == 401
    rider = page.get_by_test_id("user-row").filter(has=page.locator("td", has_text=re.compile("^rider$")))
    shot(page, "02-disabled", "The rider's account disabled: signing in is refused")
    rider.get_by_test_id("toggle-active").click()
    expect(page.get_by_role("status")).to_be_visible()
    assert submit_login(other, "rider").status == 303

    # A policy, tried on the facts of a case before anyone relies on it.
    page.get_by_role("link", name="售后策略").click()
    page.get_by_role("link", name=re.compile(POLICY)).first.click()
    expect(page.get_by_test_id("policy-key")).to_have_text(POLICY)
    assert _dry_run(page) == "false"
    expect(page.get_by_test_id("reason-zh")).to_contain_text("已超过七天无理由")
    shot(page, "03-dry-run", "A return policy's dry run: 10 days after receipt is past the 7-day period")

    # The audit log has what was just done, a page at a time.
    page.goto("/admin/audit?subject=user")
    rows = page.get_by_test_id("audit-row")
    expect(rows.first).to_contain_text("rider")
    shot(page, "04-audit", "The audit log: the account switched off and on again, by whom")
