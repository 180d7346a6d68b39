"""Case actions through the pages: the merchant issues an invoice from the case page's form, and
the agent's coupon form asks for the note that is the whole of a coupon here."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from aftersales.cases import service as cases
from aftersales.cases.domain import CaseKind, CaseReason
from aftersales.cases.schemas import CaseDraft, CaseLineIn
from aftersales.db.uow import Database
from aftersales.identity import service as identity
from aftersales.kit import clock
from aftersales.kit.access import Role
from aftersales.rules import service as rules

from ..factories import Factory
from ..integration.helpers import ADMIN
from ._support import flashed, sign_in
from .test_cases_api import put_order


@pytest.fixture
def shop(factory: Factory, db: Database) -> Factory:
    rules.load_defaults(db)
    factory.catalogue()
    put_order(factory, db, "SO-INV")
    put_order(factory, db, "SO-CO")
    factory.customer_user("lina", "C1")
    factory.user("agent", Role.AGENT_T1)
    factory.merchant_user("seller", "selfop")
    return factory


def _submit(db: Database, order: str, kind: CaseKind, reason: CaseReason, **extra: object) -> str:
    lina = identity.principal_for_username(db, "lina")
    assert lina is not None
    lines = [] if kind is CaseKind.INVOICE else [CaseLineIn(line_no=1, quantity=1)]
    draft = CaseDraft(order_number=order, kind=kind, reason=reason, lines=lines, **extra)  # type: ignore[arg-type]
    return cases.submit(db, draft, lina, via="customer").number


def test_the_merchant_issues_the_invoice_from_the_case_page(client: TestClient, db: Database, shop: Factory) -> None:
    number = _submit(db, "SO-INV", CaseKind.INVOICE, CaseReason.INVOICE_NEEDED)
    token = sign_in(client, "lina")
    assert 'data-testid="action-issue_invoice"' not in client.get(f"/cases/{number}").text
    refused = client.post(
        f"/cases/{number}/act", data={"csrf_token": token, "action": "issue_invoice"}, follow_redirects=False
    )
    assert "may not" in flashed(client, refused)

    token = sign_in(client, "seller")
    page = client.get(f"/cases/{number}").text
    assert 'data-testid="action-issue_invoice"' in page
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version is not None
    done = client.post(
        f"/cases/{number}/act",
        data={"csrf_token": token, "action": "issue_invoice", "version": version.group(1), "note": "INV-778"},
        follow_redirects=False,
    )
    assert (done.status_code, done.headers["location"]) == (303, f"/cases/{number}")
    assert 'data-testid="case-status"' in (after := client.get(f"/cases/{number}").text) and "INV-778" in after
    assert cases.get_case(db, number, identity.principal_for_username(db, "seller")).status == "completed"  # type: ignore[arg-type]


def test_no_page_offers_a_coupon_there_is_no_wallet_for(client: TestClient, db: Database, shop: Factory) -> None:
    number = _submit(db, "SO-CO", CaseKind.COMPENSATION, CaseReason.LATE_DELIVERY, compensation_amount=Decimal("20"))
    token = sign_in(client, "agent")
    page = client.get(f"/cases/{number}").text
    assert 'data-testid="action-offer_coupon"' not in page and 'data-testid="action-approve"' in page
    refused = client.post(
        f"/cases/{number}/act",
        data={"csrf_token": token, "action": "offer_coupon", "note": "¥20"},
        follow_redirects=False,
    )
    assert "offer_coupon" in flashed(client, refused)
    assert cases.get_case(db, number, identity.principal_for_username(db, "agent")).status == "under_review"  # type: ignore[arg-type]


def test_a_vip_is_not_shown_policy_offers_as_benefits_but_the_agent_sees_them_as_suggestions(
    client: TestClient, db: Database, factory: Factory
) -> None:
    from aftersales.orders import service as orders
    from aftersales.orders.schemas import LogisticsEventIn, OrderIn

    from ..factories import FEED

    rules.load_defaults(db)
    factory.catalogue()
    now = clock.now()
    payload = factory.order_payload(
        "SO-VIP",
        customer="V1",
        phone="13700000000",
        updated_at=now - timedelta(days=3),
        shipments=[{"carrier": "SF", "tracking_number": "TVIP"}],
    )
    payload["customer"]["tier"] = "vip"
    payload["placed_at"] = payload["paid_at"] = (now - timedelta(days=4)).isoformat()
    orders.upsert_order(db, OrderIn.model_validate(payload), FEED)
    delivered = LogisticsEventIn(
        event_id="EVIP", carrier="SF", tracking_number="TVIP", node="delivered", occurred_at=now - timedelta(days=1)
    )
    orders.record_logistics_event(db, delivered, FEED)
    factory.customer_user("vip", "V1")
    factory.user("agent", Role.AGENT_T1)
    form = {"qty_1": "1", "kind": "return_refund", "reason": "changed_mind", "return_method": "mail_back"}
    rules.update_policy(db, "vip_extra_coupon", rules.get_policy(db, "vip_extra_coupon").definition, True, 91, ADMIN)
    for who, shown in (("vip", False), ("agent", True)):
        token = sign_in(client, who)
        preview = client.post("/orders/SO-VIP/after-sales/preview", data={"csrf_token": token, **form}).text
        assert ('data-testid="preview-offers"' in preview) is shown, (who, preview)


def test_a_compensation_case_shows_only_what_applies_to_it(client: TestClient, db: Database, shop: Factory) -> None:
    """No goods travel back for a compensation: who pays a return parcel does not belong on it,
    neither on its page nor in the preview before it is submitted."""
    number = _submit(db, "SO-CO", CaseKind.COMPENSATION, CaseReason.LATE_DELIVERY, compensation_amount=Decimal("20"))
    lina = identity.principal_for_username(db, "lina")
    assert lina is not None
    assert cases.get_case(db, number, lina).return_shipping_paid_by == ""
    for user in ("lina", "agent"):
        sign_in(client, user)
        page = client.get(f"/cases/{number}").text
        assert "Return shipping paid by" not in page and "退货运费承担方" not in page, user
    preview = cases.preview(
        db,
        CaseDraft(
            order_number="SO-INV", kind=CaseKind.COMPENSATION, reason=CaseReason.LATE_DELIVERY,
            compensation_amount=Decimal("5"),
        ),
        lina,
    )  # fmt: skip
    assert preview.return_shipping_paid_by == ""
