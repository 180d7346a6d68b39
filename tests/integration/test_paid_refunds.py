"""Refunds pay back what each line was paid (its share of the order's discount and shipping), never
more than the payments captured on those lines, and each business fact pays once."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from aftersales.cases import self_service
from aftersales.cases import service as cases
from aftersales.cases.domain import CaseAction, CaseKind, CaseReason
from aftersales.cases.schemas import ActionIn, CaseDraft, CaseLineIn
from aftersales.db.uow import Database
from aftersales.identity import service as identity
from aftersales.kit import clock
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import Conflict, Invalid
from aftersales.orders import service as orders
from aftersales.refunds import service as refunds
from aftersales.refunds.models import GatewayRefund, Refund
from aftersales.rules import service as rules
from aftersales.worker import wiring

from ..factories import Factory
from .helpers import delivered_order
from .test_refunds_support import paid_order

D = Decimal


@pytest.fixture
def shop(factory: Factory, db: Database, settings) -> Factory:  # type: ignore[no-untyped-def]
    wiring.connect(settings, db)
    rules.load_defaults(db)
    factory.catalogue()
    factory.user("agent", Role.AGENT_T1)
    factory.merchant_user("wh-1", "selfop", Role.WAREHOUSE)
    return factory


def who(db: Database, username: str) -> Principal:
    """A user by name; the customer 'lina' (C1) is signed up once her first order exists."""
    users = {u.username: u for u in identity.list_users(db)}
    if username == "lina" and username not in users:
        Factory(db).customer_user("lina", "C1")
        users = {u.username: u for u in identity.list_users(db)}
    user = users[username]
    found = identity.principal_for_user_id(db, user.id)
    assert found is not None
    return found


def refund_rows(db: Database) -> list[tuple[str, Decimal, str]]:
    with db.read() as uow:
        rows = uow.session.scalars(select(Refund).order_by(Refund.id))
        return [(r.order_number, r.amount, r.status) for r in rows]


def gateway_total(db: Database) -> Decimal:
    with db.read() as uow:
        return sum(uow.session.scalars(select(GatewayRefund.amount)), D(0))


def left_per_line(session: Session, order_id: int) -> dict[int, Decimal]:
    return {x.line_no: x.left for x in refunds.refundable_by_line(session, order_id)}


def line(no: int, sku: str, price: str, quantity: int = 1) -> dict[str, Any]:
    return {"line_no": no, "sku": sku, "quantity": quantity, "unit_price": price}


def test_a_line_is_previewed_and_refunded_at_what_was_paid_not_its_list_price(shop: Factory, db: Database) -> None:
    paid_order(db, "SO-D1", lines=[line(1, "SKU-1", "268.00")], discount="10.00")
    lina = who(db, "lina")
    draft = CaseDraft(
        order_number="SO-D1",
        kind=CaseKind.REFUND_ONLY,
        reason=CaseReason.NOT_RECEIVED,
        lines=[CaseLineIn(line_no=1, quantity=1)],
    )
    preview = cases.preview(db, draft, lina)
    assert (preview.amount, [x.amount for x in preview.lines]) == (D("258.00"), [D("258.00")])
    case = cases.submit(db, draft, lina, via="customer")
    assert case.requested_amount == D("258.00")
    assert refund_rows(db) == [("SO-D1", D("258.00"), "succeeded")]
    assert gateway_total(db) == D("258.00")


def test_out_of_stock_refunds_the_line_less_its_share_of_the_discount_and_cancel_the_rest(
    shop: Factory, db: Database
) -> None:
    paid_order(db, "SO-D2", lines=[line(1, "SKU-1", "1299.00"), line(2, "SKU-2", "99.00")], discount="20.00")
    result = self_service.report_out_of_stock(db, "SO-D2", 1, who(db, "wh-1"))
    assert result.done
    assert refund_rows(db) == [("SO-D2", D("1280.42"), "succeeded")]
    cancelled = self_service.cancel_order(db, "SO-D2", who(db, "lina"))
    assert cancelled.done and cancelled.detail["refund_amount"] == "97.58"
    assert gateway_total(db) == D("1378.00")  # exactly what was paid, not a cent more


def test_reporting_a_line_out_of_stock_twice_refunds_it_once(shop: Factory, db: Database) -> None:
    paid_order(db, "SO-D3", lines=[line(1, "SKU-1", "1299.00"), line(2, "SKU-2", "99.00")], discount="20.00")
    wh = who(db, "wh-1")
    first = self_service.report_out_of_stock(db, "SO-D3", 1, wh)
    second = self_service.report_out_of_stock(db, "SO-D3", 1, wh)
    assert second.done and second.case_number == first.case_number
    assert refund_rows(db) == [("SO-D3", D("1280.42"), "succeeded")]
    assert gateway_total(db) == D("1280.42")


def test_an_agent_cannot_approve_more_than_was_requested(shop: Factory, db: Database) -> None:
    delivered_order(shop, db, "SO-D4")  # 2 × 199.00, paid 398.00
    draft = CaseDraft(
        order_number="SO-D4",
        kind=CaseKind.RETURN_REFUND,
        reason=CaseReason.DEFECT,
        lines=[CaseLineIn(line_no=1, quantity=2)],
    )
    case = cases.submit(db, draft, who(db, "lina"), via="customer")
    assert case.status == "under_review" and case.requested_amount == D("398.00")
    with pytest.raises(Invalid, match=r"at most 398\.00 CNY"):
        cases.act(db, case.number, ActionIn(action=CaseAction.APPROVE, amount=D("398.01")), who(db, "agent"))
    assert cases.get_case(db, case.number, who(db, "agent")).status == "under_review"


def test_an_agent_cannot_approve_more_than_is_still_refundable(shop: Factory, db: Database) -> None:
    delivered_order(shop, db, "SO-D5")
    draft = CaseDraft(
        order_number="SO-D5",
        kind=CaseKind.REFUND_ONLY,
        reason=CaseReason.DEFECT,
        lines=[CaseLineIn(line_no=1, quantity=2)],
    )
    case = cases.submit(db, draft, who(db, "lina"), via="customer")
    assert case.status == "under_review"
    with db.write() as uow:  # a goodwill refund of 300.00 already went back to the same payment
        order_id = orders.order_id_in(uow.session, "SO-D5")
        assert order_id is not None
        refunds.request_refund(
            uow.session,
            order_id=order_id,
            order_number="SO-D5",
            case_id=None,
            amount=D("300.00"),
            currency="CNY",
            reason="goodwill",
            idempotency_key="goodwill:SO-D5",
        )
        uow.commit()
    with pytest.raises(Conflict, match=r"at most 98\.00 CNY more"):
        cases.act(db, case.number, ActionIn(action=CaseAction.APPROVE, amount=D("150.00")), who(db, "agent"))
    done = cases.act(db, case.number, ActionIn(action=CaseAction.APPROVE, amount=D("98.00")), who(db, "agent"))
    assert done.approved_amount == D("98.00")
    assert sorted(amount for _, amount, _ in refund_rows(db)) == [D("98.00"), D("300.00")]


def test_what_is_refundable_is_what_was_captured_not_the_payable_total(shop: Factory, db: Database) -> None:
    order_id = paid_order(db, "SO-D6", lines=[line(1, "SKU-1", "100.00"), line(2, "SKU-2", "300.00")], paid=False)
    with db.read() as uow:
        assert refunds.refundable_amount(uow.session, order_id) == D("0.00")
        assert left_per_line(uow.session, order_id) == {1: D("0.00"), 2: D("0.00")}
    order_id = paid_order(db, "SO-D7", lines=[line(1, "SKU-1", "100.00"), line(2, "SKU-2", "300.00")], shipping="8.00")
    with db.read() as uow:
        assert left_per_line(uow.session, order_id) == {1: D("102.00"), 2: D("306.00")}
        assert refunds.refundable_amount(uow.session, order_id) == D("408.00")


def test_a_failed_case_refund_is_retried_under_the_same_business_key(shop: Factory, db: Database) -> None:
    # .99: the simulated bank declines it, so the case's refund fails.
    paid_order(db, "SO-D8", lines=[line(1, "SKU-1", "100.99")])
    draft = CaseDraft(
        order_number="SO-D8",
        kind=CaseKind.REFUND_ONLY,
        reason=CaseReason.NOT_RECEIVED,
        lines=[CaseLineIn(line_no=1, quantity=1)],
    )
    case = cases.submit(db, draft, who(db, "lina"), via="customer")
    assert cases.get_case(db, case.number, who(db, "agent")).status == "refund_failed"
    cases.act(db, case.number, ActionIn(action=CaseAction.RETRY_REFUND), who(db, "agent"))
    with db.read() as uow:
        rows = [
            (r.business_key, r.idempotency_key, r.status)
            for r in uow.session.scalars(select(Refund).order_by(Refund.id))
        ]
    fact = f"case:{rows[0][0].split(':')[1]}:line:1:not_received"
    assert rows == [(fact, fact, "failed"), (fact, f"{fact}:retry1", "failed")]


def test_the_database_holds_one_live_refund_per_business_fact(shop: Factory, db: Database) -> None:
    order_id = paid_order(db, "SO-D9")
    first = refunds_row(order_id, "order:1:cancel", "order:1:cancel")
    second = refunds_row(order_id, "order:1:cancel", "order:1:cancel:retry1")
    with db.write() as uow:
        uow.session.add(first)
        uow.session.flush()
        uow.session.add(second)
        with pytest.raises(IntegrityError):
            uow.session.flush()
    with db.write() as uow:  # once the first has failed, a retry may be live
        first = refunds_row(order_id, "order:1:cancel", "order:1:cancel", status="failed")
        uow.session.add_all([first, refunds_row(order_id, "order:1:cancel", "order:1:cancel:retry1")])
        uow.session.flush()
        uow.commit()


def refunds_row(order_id: int, fact: str, key: str, status: str = "requested") -> Refund:
    return Refund(
        order_id=order_id,
        order_number="SO-D9",
        amount=D("1.00"),
        currency="CNY",
        reason="test",
        idempotency_key=key,
        business_key=fact,
        payment_reference="PAY-SO-D9",
        status=status,
        gateway_ref="",
        attempts=0,
        last_error="",
        requested_at=clock.now(),
    )


def test_a_refused_approval_reports_the_version_that_is_still_stored(shop: Factory, db: Database) -> None:
    delivered_order(shop, db, "SO-D10")
    draft = CaseDraft(
        order_number="SO-D10",
        kind=CaseKind.REFUND_ONLY,
        reason=CaseReason.DEFECT,
        lines=[CaseLineIn(line_no=1, quantity=2)],
    )
    case = cases.submit(db, draft, who(db, "lina"), via="customer")
    with db.write() as uow:  # the whole payment already went back another way
        order_id = orders.order_id_in(uow.session, "SO-D10")
        assert order_id is not None
        refunds.request_refund(
            uow.session,
            order_id=order_id,
            order_number="SO-D10",
            case_id=None,
            amount=D("398.00"),
            currency="CNY",
            reason="goodwill",
            idempotency_key="goodwill:SO-D10",
        )
        uow.commit()
    with pytest.raises(Conflict) as refused:
        cases.act(db, case.number, ActionIn(action=CaseAction.APPROVE), who(db, "agent"))
    stored = cases.get_case(db, case.number, who(db, "agent"))
    assert refused.value.details["current"] == {
        "number": case.number,
        "status": "under_review",
        "version": stored.version,
    }
