"""The new-user tour's last findings (issue 12), each as the person meets it: staff filter cases in
staff words; a reason reads the same on the customer's form and in the policies' dry run; a failed
refund's history says it failed and what comes next; a refusal tells the buyer they may ask the
platform to step in, and until when; evidence is offered only while it can change something;
fresh food is refunded with no return parcel; a settled refund says how much of it was shipping."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from aftersales.cases import service as cases
from aftersales.cases.domain import CaseAction, CaseKind, CaseReason, CaseStatus, allowed_actions
from aftersales.cases.schemas import ActionIn, CaseDraft, CaseLineIn
from aftersales.db.uow import Database
from aftersales.identity import service as identity
from aftersales.kit import clock
from aftersales.kit.access import Principal, Role
from aftersales.notifications import service as notifications
from aftersales.orders import service as orders
from aftersales.orders.schemas import LogisticsEventIn, OrderIn, ProductIn, SkuIn
from aftersales.rules import service as rules
from aftersales.worker import wiring

from ..factories import FEED, Factory
from ..integration.helpers import delivered_order
from ..integration.test_refunds_support import paid_order
from ._support import sign_in

HX = {"HX-Request": "true"}


@pytest.fixture
def shop(factory: Factory, db: Database, settings) -> Factory:  # type: ignore[no-untyped-def]
    wiring.connect(settings, db)
    rules.load_defaults(db)
    factory.catalogue()
    factory.user("agent", Role.AGENT_T1)
    factory.user("admin", Role.ADMIN)
    factory.merchant_user("house", "selfop", Role.WAREHOUSE)
    factory.put_order(number="SO-0")  # the customer comes with her first order
    factory.customer_user("lina", "C1")
    return factory


def who(db: Database, username: str) -> Principal:
    found = identity.principal_for_username(db, username)
    assert found is not None
    return found


def options(page: str, name: str) -> dict[str, str]:
    select = re.search(rf'<select name="{name}".*?</select>', page, re.S)
    assert select, f"no {name} select"
    return dict(re.findall(r'<option value="([^"]+)"[^>]*>([^<]+)<', select.group(0)))


def in_language(client: TestClient, username: str, lang: str) -> None:
    token = sign_in(client, username)
    client.post("/language", data={"csrf_token": token, "lang": lang, "next": "/"}, follow_redirects=False)


def in_english(client: TestClient, username: str) -> None:
    in_language(client, username, "en")


def refund_only(number: str, reason: CaseReason = CaseReason.NOT_RECEIVED) -> CaseDraft:
    return CaseDraft(
        order_number=number, kind=CaseKind.REFUND_ONLY, reason=reason, lines=[CaseLineIn(line_no=1, quantity=1)]
    )


def test_staff_filter_cases_in_staff_words_and_the_customer_in_hers(client: TestClient, shop: Factory) -> None:
    sign_in(client, "house")
    staff = options(client.get("/cases").text, "status")
    assert set(staff) == {s.value for s in CaseStatus}  # every status, the warehouse's own included
    assert staff["replacement_shipped"] == "已寄出给顾客" and staff["received"] == "退货已收到"
    assert "已寄出给您" not in staff.values()
    sign_in(client, "lina")
    mine = options(client.get("/cases").text, "status")
    assert mine["replacement_shipped"] == "已寄出给您"
    in_english(client, "agent")
    english = options(client.get("/cases").text, "status")
    assert english["replacement_shipped"] == "Sent to the customer" and "Sent to you" not in english.values()


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_a_reason_reads_the_same_on_the_customers_form_and_in_the_dry_run(
    client: TestClient, db: Database, shop: Factory, lang: str
) -> None:
    delivered_order(shop, db, "SO-L1")
    in_language(client, "lina", lang)
    form = options(client.get("/orders/SO-L1/after-sales").text, "reason")
    in_language(client, "admin", lang)
    dry_run = options(client.get("/admin/policies").text, "reason")
    assert form and dry_run
    assert {k: v for k, v in dry_run.items() if k in form} == form
    assert set(form) <= set(dry_run)


def test_a_failed_refund_says_it_failed_and_what_comes_next(client: TestClient, db: Database, shop: Factory) -> None:
    paid_order(db, "SO-F1", lines=[{"line_no": 1, "sku": "SKU-1", "quantity": 1, "unit_price": "100.99"}])
    case = cases.submit(db, refund_only("SO-F1"), who(db, "lina"), via="customer")  # .99: the bank declines it
    assert cases.get_case(db, case.number, who(db, "agent")).status == "refund_failed"
    sign_in(client, "lina")
    page = client.get(f"/cases/{case.number}").text
    assert "支付渠道已确认" not in page
    assert "退款失败：支付渠道退回了这笔退款。客服将核对后重新发起退款。" in page


def late_claim(number: str) -> CaseDraft:
    """A claim the merchant reviews (and here refuses): compensation for a late delivery."""
    return CaseDraft(
        order_number=number,
        kind=CaseKind.COMPENSATION,
        reason=CaseReason.LATE_DELIVERY,
        lines=[CaseLineIn(line_no=1, quantity=1)],
        compensation_amount=Decimal("10.00"),
    )


def test_a_refused_request_tells_the_buyer_they_may_ask_the_platform_within_the_window(
    db: Database, shop: Factory
) -> None:
    delivered_order(shop, db, "SO-R1")
    case = cases.submit(db, late_claim("SO-R1"), who(db, "lina"), via="customer")
    assert case.status == "under_review"
    cases.act(db, case.number, ActionIn(action=CaseAction.REJECT, note="照片看不出问题"), who(db, "agent"))
    lina = who(db, "lina").customer_id or 0
    refused = next(m for m in notifications.inbox(db, lina).items if "未通过" in m.subject)
    assert "请平台介入" in refused.body and "7 天内" in refused.body, refused.body
    orders.set_contact_preferences(db, lina, locale="en", email_notices=False)
    delivered_order(shop, db, "SO-R2")
    again = cases.submit(db, late_claim("SO-R2"), who(db, "lina"), via="customer")
    cases.act(db, again.number, ActionIn(action=CaseAction.REJECT, note="no"), who(db, "agent"))
    english = next(m for m in notifications.inbox(db, lina).items if "was not approved" in m.subject)
    assert "Ask the platform to step in" in english.body and "within 7 days" in english.body, english.body


def test_a_refunding_case_offers_no_evidence_to_add() -> None:
    """Once the money is on its way nothing is left to decide: no 补充凭证 (while the goods are on their
    way back or being inspected, evidence still counts)."""
    for kind in (CaseKind.REFUND_ONLY, CaseKind.RETURN_REFUND, CaseKind.PRICE_PROTECTION, CaseKind.COMPENSATION):
        assert CaseAction.ADD_EVIDENCE not in allowed_actions(kind, CaseStatus.REFUNDING), kind
    assert CaseAction.ADD_EVIDENCE in allowed_actions(CaseKind.RETURN_REFUND, CaseStatus.RECEIVED)


def _fresh_food_delivered(shop: Factory, db: Database, number: str) -> None:
    orders.ensure_categories(db, [("fresh_food", "生鲜", "Fresh food")])
    orders.upsert_product(
        db,
        ProductIn(
            merchant_code="selfop",
            category_code="fresh_food",
            name="智利车厘子",
            skus=[SkuIn(code="FR-1", price=Decimal("268.00"), stock=10)],
        ),
    )
    now = clock.now()
    payload = shop.order_payload(
        number, status="paid", updated_at=now - timedelta(days=2),
        lines=[{"line_no": 1, "sku": "FR-1", "quantity": 1, "unit_price": "268.00"}],
        shipments=[{"carrier": "SF", "tracking_number": f"T{number}"}],
    )  # fmt: skip
    payload["placed_at"] = payload["paid_at"] = (now - timedelta(days=2)).isoformat()
    payload["payments"] = [
        {"reference": f"P{number}", "method": "alipay", "amount": "268.00", "paid_at": payload["paid_at"]}
    ]
    orders.upsert_order(db, OrderIn.model_validate(payload), FEED)
    delivered = LogisticsEventIn(
        event_id=f"E{number}", carrier="SF", tracking_number=f"T{number}", node="delivered",
        occurred_at=now - timedelta(hours=20),
    )  # fmt: skip
    orders.record_logistics_event(db, delivered, FEED)


@pytest.mark.parametrize("reason", ["damaged", "missing_item"])
def test_the_fresh_food_preview_shows_no_return_parcel_and_quotes_its_own_policy(
    client: TestClient, db: Database, shop: Factory, reason: str
) -> None:
    _fresh_food_delivered(shop, db, "SO-FR1")
    token = sign_in(client, "lina")
    form = {"csrf_token": token, "qty_1": "1", "reason": reason}
    sent_back = client.post("/orders/SO-FR1/after-sales/preview", data={**form, "kind": "return_refund"}, headers=HX)
    assert 'data-eligible="false"' in sent_back.text and "仅退款" in sent_back.text
    assert "退货运费" not in sent_back.text
    refunded = client.post("/orders/SO-FR1/after-sales/preview", data={**form, "kind": "refund_only"}, headers=HX)
    assert 'data-eligible="true"' in refunded.text and "无需寄回" in refunded.text
    assert "退货运费" not in refunded.text and "Return shipping" not in refunded.text
    if reason == "missing_item":  # a missing item is not told in the quality rule's words
        assert "少件或发错货" in refunded.text and "质量问题" not in refunded.text


def test_a_settled_refund_says_how_much_of_it_was_shipping(db: Database, shop: Factory) -> None:
    paid_order(
        db, "SO-S1", lines=[{"line_no": 1, "sku": "SKU-2", "quantity": 1, "unit_price": "35.00"}], shipping="4.00"
    )
    cases.submit(db, refund_only("SO-S1"), who(db, "lina"), via="customer")
    lina = who(db, "lina").customer_id or 0
    settled = next(m for m in notifications.inbox(db, lina).items if m.subject == "退款 ¥39.00 已原路退回")
    assert "运费 ¥4.00" in settled.body, settled.body
    orders.set_contact_preferences(db, lina, locale="en", email_notices=False)
    paid_order(
        db, "SO-S2", lines=[{"line_no": 1, "sku": "SKU-2", "quantity": 1, "unit_price": "35.00"}], shipping="4.00"
    )
    cases.submit(db, refund_only("SO-S2"), who(db, "lina"), via="customer")
    english = next(m for m in notifications.inbox(db, lina).items if "SO-S2" in m.body and "sent back" in m.subject)
    assert "includes CN¥4.00, the items' share of the order's shipping fee" in english.body, english.body
