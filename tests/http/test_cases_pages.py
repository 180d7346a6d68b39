"""The after-sales pages through the TestClient, signed in through the real form (CSRF included):
the customer's one-click request with its htmx preview, the progress page, the agents' action
forms, the warehouse's receipt and inspection, and the scoping of every page."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from aftersales.db.uow import Database
from aftersales.kit.access import Role
from aftersales.rules import service as rules

from ..factories import Factory
from ._support import sign_in
from .test_cases_api import put_order

HTMX = {"HX-Request": "true"}


@pytest.fixture
def shop(factory: Factory, db: Database) -> Factory:
    """Lina's SO-A at the self-operated shop and Bob's SO-B at pop-a, both 2 × 199.00 delivered two
    days ago; Lina's SO-OLD delivered nine days ago; an agent, pop-a's merchant, the self-operated
    warehouse."""
    rules.load_defaults(db)
    factory.catalogue()
    put_order(factory, db, "SO-A")
    put_order(factory, db, "SO-B", customer="C2", merchant="pop-a")
    put_order(factory, db, "SO-OLD", days_ago=9)
    factory.customer_user("lina", "C1")
    factory.customer_user("bob", "C2")
    factory.user("agent", Role.AGENT_T1)
    factory.merchant_user("merchant-a", "pop-a")
    factory.merchant_user("whouse", "selfop", Role.WAREHOUSE)
    return factory


def post(client: TestClient, url: str, token: str, headers: dict[str, str] | None = None, **data: str) -> Response:
    return client.post(url, data={"csrf_token": token, **data}, headers=headers, follow_redirects=False)


def request_case(
    client: TestClient, token: str, order: str = "SO-A", *, qty: int = 1, reason: str = "defect", key: str = ""
) -> str:
    """Send the after-sales form as the browser does; returns the new case's number."""
    answer = post(
        client,
        f"/orders/{order}/after-sales",
        token,
        qty_1=str(qty),
        kind="return_refund",
        reason=reason,
        return_method="mail_back",
        form_key=key,
    )
    assert answer.status_code == 303, answer.text
    match = re.fullmatch(r"/cases/(AS\d+)", answer.headers["location"])
    assert match, answer.headers["location"]
    return match.group(1)


def act(client: TestClient, token: str, number: str, action: str, **fields: str) -> Response:
    return post(client, f"/cases/{number}/act", token, action=action, **fields)


def version_on(page: str) -> str:
    match = re.search(r'name="version" value="(\d+)"', page)
    assert match, "the page has no action form"
    return match.group(1)


def sent_back(client: TestClient, token: str, number: str) -> None:
    """The customer (whose `token` it is) posts the goods back: only then can they be received."""
    assert act(client, token, number, "ship_back", carrier="SF", tracking_number="SF100").status_code == 303


def status_on(page: str) -> str:
    match = re.search(r'data-testid="case-status"><span class="badge [^"]*" data-status="([a-z_]+)"', page)
    assert match, "the page shows no case status"
    return match.group(1)


def test_the_order_page_offers_after_sales_to_the_customer_only(client: TestClient, shop: Factory) -> None:
    sign_in(client, "lina")
    page = client.get("/orders/SO-A").text
    assert re.search(r'href="/orders/SO-A/after-sales" data-testid="after-sales">售后<', page)
    sign_in(client, "merchant-a")
    page = client.get("/orders/SO-B")
    assert page.status_code == 200 and 'data-testid="after-sales"' not in page.text


def test_the_form_lists_the_lines_kinds_and_reasons(client: TestClient, shop: Factory) -> None:
    sign_in(client, "lina")
    page = client.get("/orders/SO-A/after-sales")
    assert page.status_code == 200
    text = page.text
    assert "申请售后" in text and 'hx-post="/orders/SO-A/after-sales/preview"' in text
    assert 'name="qty_1"' in text and 'max="2"' in text
    assert '<option value="return_refund" selected>退货退款</option>' in text
    assert '<option value="defect">质量问题</option>' in text
    assert client.get("/orders/SO-B/after-sales").status_code == 404  # Bob's order


def test_the_preview_fragment_says_accepted_or_why_not_in_both_languages(client: TestClient, shop: Factory) -> None:
    token = sign_in(client, "lina")
    fields = {"qty_1": "1", "kind": "return_refund"}
    ok = post(client, "/orders/SO-A/after-sales/preview", token, HTMX, reason="defect", **fields)
    assert ok.status_code == 200 and "<html" not in ok.text  # a fragment for #preview
    assert 'data-eligible="true"' in ok.text and "可以受理" in ok.text
    assert "签收后30天内可退货" in ok.text and "提交即同意" in ok.text and "¥199.00" in ok.text
    late = post(client, "/orders/SO-OLD/after-sales/preview", token, HTMX, reason="changed_mind", **fields)
    assert 'data-eligible="false"' in late.text and "无法受理" in late.text
    assert "已超过七天无理由退换货期限" in late.text

    assert post(client, "/language", token, lang="en", next="/orders").status_code == 303
    ok = post(client, "/orders/SO-A/after-sales/preview", token, HTMX, reason="defect", **fields)
    assert "Accepted" in ok.text and "within 30 days of receipt" in ok.text and "可以受理" not in ok.text
    late = post(client, "/orders/SO-OLD/after-sales/preview", token, HTMX, reason="changed_mind", **fields)
    assert "Not possible" in late.text and "The 7-day no-reason return period" in late.text
    nothing = post(client, "/orders/SO-A/after-sales/preview", token, HTMX, qty_1="0", kind="exchange", reason="defect")
    assert 'data-testid="preview-error"' in nothing.text and "Choose the items and how many of each" in nothing.text
    # What to fix, per field and in the reader's language; never a validator's own words.
    assert post(client, "/language", token, lang="zh-CN", next="/orders").status_code == 303
    nothing = post(client, "/orders/SO-A/after-sales/preview", token, HTMX, qty_1="0", kind="exchange", reason="defect")
    assert "请选择商品，并填写每件的数量" in nothing.text and "case needs" not in nothing.text
    wrong = post(client, "/orders/SO-A/after-sales/preview", token, HTMX, qty_1="1", kind="repair", reason="nonsense")
    assert "请选择申请原因" in wrong.text and "Input should" not in wrong.text


def test_submitting_opens_the_case_and_shows_its_progress(client: TestClient, shop: Factory) -> None:
    token = sign_in(client, "lina")
    number = request_case(client, token, key="form-1")
    assert request_case(client, token, key="form-1") == number  # a double click is one case
    page = client.get(f"/cases/{number}").text
    assert f'data-testid="case-number">{number}<' in page
    assert status_on(page) == "awaiting_return"  # 199.00, approved at once
    timeline = page.split('data-testid="case-timeline"')[1].split("</ol>")[0]
    assert timeline.count("<li") == 2 and "待寄回" in timeline and "审核中" in timeline
    assert 'data-testid="action-ship_back"' in page and 'data-testid="action-cancel"' in page
    assert 'data-testid="action-approve"' not in page and 'data-testid="action-receive"' not in page
    # htmx gets only the progress part, with the next steps of the state it shows; the customer has
    # something to do here, so the part does not poll (their form is never replaced under them).
    poll = client.get(f"/cases/{number}", headers=HTMX).text
    assert poll.lstrip().startswith('<section id="progress"') and "action-ship_back" in poll
    assert "every 5s" not in poll

    listing = client.get("/cases").text
    assert "我的售后" in listing and listing.count('data-testid="case-row"') == 1
    assert f'href="/cases/{number}"' in listing

    sent = act(client, token, number, "ship_back", version=version_on(page), carrier="SF", tracking_number="SF9")
    assert sent.status_code == 303 and sent.headers["location"] == f"/cases/{number}"
    page = client.get(f"/cases/{number}").text
    assert status_on(page) == "return_in_transit" and "SF SF9" in page


def test_the_agent_sees_the_action_forms_and_moves_the_case_on(client: TestClient, shop: Factory) -> None:
    number = request_case(client, sign_in(client, "lina"), qty=2)  # 398.00: reviewed by a person
    token = sign_in(client, "agent")
    page = client.get(f"/cases/{number}").text
    assert status_on(page) == "under_review" and "审核截止" in page
    for action in ("approve", "reject", "request_evidence"):
        assert f'data-testid="action-{action}"' in page
    assert re.search(r'data-testid="action-reject">.*?<input name="note"[^>]* required>', page, re.S)
    assert f'href="/cases/{number}"' in client.get("/cases").text

    moved = act(client, token, number, "approve", version=version_on(page))
    assert moved.status_code == 303 and moved.headers["location"] == f"/cases/{number}"
    page = client.get(f"/cases/{number}").text
    assert status_on(page) == "awaiting_return" and 'data-testid="case-error"' not in page


def test_a_refused_action_comes_back_with_the_reason_on_the_page(client: TestClient, shop: Factory) -> None:
    number = request_case(client, sign_in(client, "lina"), qty=2)
    token = sign_in(client, "agent")
    seen = version_on(client.get(f"/cases/{number}").text)
    assert act(client, token, number, "approve", version=seen).status_code == 303

    refused = act(client, token, number, "inspect_pass")
    # The sentence travels in the signed session, not the address: no link can make the page say it.
    assert refused.status_code == 303 and refused.headers["location"] == f"/cases/{number}"
    shown = client.get(refused.headers["location"]).text
    error = re.search(r'data-testid="case-error">([^<]+)<', shown)
    assert error, "the page does not show the refusal"
    assert "awaiting_return" in html.unescape(error.group(1)) and "'inspect_pass'" in html.unescape(error.group(1))
    assert status_on(shown) == "awaiting_return"

    stale = act(client, token, number, "reject", version=seen, note="late")  # the version before approval
    shown = client.get(stale.headers["location"]).text
    assert "changed since you loaded it" in html.unescape(shown)


def test_the_warehouse_receives_and_inspects_its_cases(client: TestClient, shop: Factory) -> None:
    lina = sign_in(client, "lina")
    number = request_case(client, lina)
    sent_back(client, lina, number)
    token = sign_in(client, "whouse")
    assert f'href="/cases/{number}"' in client.get("/cases").text
    page = client.get(f"/cases/{number}").text
    assert 'data-testid="action-receive"' in page
    assert 'data-testid="action-approve"' not in page and 'data-testid="action-ship_back"' not in page
    assert act(client, token, number, "receive", version=version_on(page)).status_code == 303

    page = client.get(f"/cases/{number}").text
    assert status_on(page) == "received"
    assert 'data-testid="action-inspect_pass"' in page and 'data-testid="action-inspect_fail"' in page
    assert act(client, token, number, "inspect_pass", version=version_on(page), note="完好").status_code == 303

    page = client.get(f"/cases/{number}").text  # the refund went through the simulated gateway
    assert 'data-testid="case-error"' not in page and status_on(page) == "completed"
    assert re.search(r'data-refund-status="succeeded">¥199.00 · 已原路退回', page)
    assert "完好" in page  # the inspection note is evidence on the page


def test_the_merchant_handles_its_own_cases_only(client: TestClient, shop: Factory) -> None:
    bob = sign_in(client, "bob")
    bobs = request_case(client, bob, "SO-B")
    sent_back(client, bob, bobs)
    linas = request_case(client, sign_in(client, "lina"))
    sign_in(client, "merchant-a")
    listing = client.get("/cases").text
    assert f'href="/cases/{bobs}"' in listing and f'href="/cases/{linas}"' not in listing
    page = client.get(f"/cases/{bobs}").text
    assert 'data-testid="action-receive"' in page
    assert client.get(f"/cases/{linas}").status_code == 404


def test_customers_never_see_another_customers_case(client: TestClient, shop: Factory) -> None:
    linas = request_case(client, sign_in(client, "lina"))
    token = sign_in(client, "bob")
    page = client.get(f"/cases/{linas}")
    assert page.status_code == 404 and 'data-testid="error-message"' in page.text
    assert linas not in client.get("/cases").text
    refused = act(client, token, linas, "cancel")
    assert refused.status_code == 303 and refused.headers["location"] == "/cases"
    sign_in(client, "lina")
    assert status_on(client.get(f"/cases/{linas}").text) == "awaiting_return"  # Bob's cancel did nothing


def _returned_and_refunded(client: TestClient) -> str:
    """Lina's return of one SO-A unit, received and passed by the warehouse: completed, refunded."""
    lina = sign_in(client, "lina")
    number = request_case(client, lina)
    sent_back(client, lina, number)
    token = sign_in(client, "whouse")
    for action in ("receive", "inspect_pass"):
        act(client, token, number, action, note="ok")
    sign_in(client, "lina")
    return number


def test_the_progress_poll_also_refreshes_the_next_steps(client: TestClient, shop: Factory) -> None:
    number = request_case(client, sign_in(client, "lina"))
    poll = client.get(f"/cases/{number}", headers=HTMX).text
    assert 'data-testid="action-ship_back"' in poll


def test_the_customers_case_timeline_speaks_chinese(client: TestClient, shop: Factory) -> None:
    number = _returned_and_refunded(client)
    timeline = client.get(f"/cases/{number}").text.split('data-testid="case-timeline"')[1].split("</ol>")[0]
    for english in ("approved automatically by policy", "payment gateway confirmation", "defect", "system"):
        assert english not in timeline


def test_a_refund_on_the_customers_order_page_is_in_words(client: TestClient, shop: Factory) -> None:
    _returned_and_refunded(client)
    page = client.get("/orders/SO-A").text
    assert "action.refund." not in page and "order.submitted" not in page and "order.succeeded" not in page
    assert "gateway reference" not in page


def test_no_link_can_put_words_in_the_sites_mouth(client: TestClient, shop: Factory) -> None:
    number = request_case(client, sign_in(client, "lina"))
    bait = "您的账户存在风险，请立即拨打 400-123-4567"
    case_page = client.get(f"/cases/{number}", params={"error": bait}).text
    order_page = client.get("/orders/SO-A", params={"notice": bait, "ok": "1"}).text
    assert bait not in html.unescape(case_page) and bait not in html.unescape(order_page)


def test_one_case_is_counted_in_the_singular(client: TestClient, shop: Factory) -> None:
    token = sign_in(client, "lina")
    request_case(client, token)
    client.post("/language", data={"lang": "en", "next": "/cases", "csrf_token": token})
    page = client.get("/cases").text
    assert "1 case<" in page and "1 cases" not in page
    client.post("/language", data={"lang": "zh-CN", "next": "/cases", "csrf_token": token})
    assert "共 1 个售后单" in client.get("/cases").text


def test_the_order_page_names_and_links_its_cases_for_whom_may_see_them(client: TestClient, shop: Factory) -> None:
    number = request_case(client, sign_in(client, "lina"))
    order_page = client.get("/orders/SO-A").text
    assert 'hx-get="/orders/SO-A/cases"' in order_page  # the cases context fills the section in
    fragment = client.get("/orders/SO-A/cases", headers=HTMX).text
    assert 'data-testid="order-cases"' in fragment and f'href="/cases/{number}"' in fragment
    assert "退货退款" in fragment and 'data-testid="order-case"' in fragment
    assert client.get("/orders/SO-B/cases", headers=HTMX).text.strip() == ""  # none on this order
    sign_in(client, "agent")
    assert f'href="/cases/{number}"' in client.get("/orders/SO-A/cases", headers=HTMX).text
    sign_in(client, "bob")
    assert number not in client.get("/orders/SO-A/cases", headers=HTMX).text  # not Bob's case


def test_my_cases_rows_carry_what_the_phone_cards_are_built_from(client: TestClient, shop: Factory) -> None:
    # On a phone the table's rows become cards (static/css): each cell names its column itself.
    request_case(client, sign_in(client, "lina"))
    page = client.get("/cases").text
    assert '<table class="striped case-cards"' in page and 'data-testid="case-row"' in page
    for label in ("类型", "订单", "状态", "提交时间", "金额"):
        assert f'data-label="{label}"' in page, label


def test_photo_pickers_speak_the_pages_language(client: TestClient, shop: Factory) -> None:
    # The browser's own file button says "Choose Files" in its UI language: ours is labelled in the page's.
    sign_in(client, "lina")
    page = client.get("/orders/SO-A/after-sales").text
    assert '<html lang="zh-CN"' in page
    picker = re.search(r'<span class="file-pick">(.*?)</span>\s*</span>', page, re.S)
    assert picker is not None and "data-file-pick" in picker.group(1) and "选择照片" in picker.group(1)
    assert 'data-file-chosen="已选 {n} 张"' in picker.group(1)
    sign_in(client, "bob")
    english = client.post("/language", data={"csrf_token": sign_in(client, "bob"), "lang": "en"})
    assert english.status_code < 400
    assert "Choose photos" in client.get("/orders/SO-B/after-sales").text
