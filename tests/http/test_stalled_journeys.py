"""Journeys that stalled: a failed refund shows its next step to the customer and to staff (an
alert, the supervisors' list) and keeps its ticket from being closed as solved; an exchange whose
replacement shipped says so; an exchange reads the same amount whoever files it; a refund above
the goods' price says it carries the shipping share."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from aftersales.cases import service as cases
from aftersales.cases.domain import CaseAction, CaseKind, CaseReason
from aftersales.cases.schemas import ActionIn, CaseDraft, CaseLineIn
from aftersales.db.uow import Database
from aftersales.identity import service as identity
from aftersales.kit import clock
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import Conflict
from aftersales.notifications import service as notifications
from aftersales.orders import service as orders
from aftersales.orders.schemas import LogisticsEventIn, OrderIn
from aftersales.rules import service as rules
from aftersales.tickets import service as tickets
from aftersales.tickets.domain import Channel, MessageKind, TicketStatus
from aftersales.tickets.schemas import MessageIn, TicketIn
from aftersales.worker import wiring

from ..factories import FEED, Factory
from ..integration.helpers import delivered_order
from ..integration.test_refunds_support import paid_order
from ._support import sign_in


@pytest.fixture
def shop(factory: Factory, db: Database, settings) -> Factory:  # type: ignore[no-untyped-def]
    wiring.connect(settings, db)
    rules.load_defaults(db)
    factory.catalogue()
    factory.user("agent", Role.AGENT_T1)
    factory.user("agent2", Role.AGENT_T2)
    factory.user("boss", Role.SUPERVISOR)
    factory.merchant_user("seller", "selfop")
    return factory


def who(db: Database, username: str) -> Principal:
    found = identity.principal_for_username(db, username)
    assert found is not None
    return found


def _refund_only(number: str) -> CaseDraft:
    return CaseDraft(
        order_number=number,
        kind=CaseKind.REFUND_ONLY,
        reason=CaseReason.NOT_RECEIVED,
        lines=[CaseLineIn(line_no=1, quantity=1)],
    )


def test_a_failed_refund_has_a_next_step_and_its_ticket_stays_open(
    client: TestClient, db: Database, shop: Factory
) -> None:
    paid_order(db, "SO-F1", lines=[{"line_no": 1, "sku": "SKU-1", "quantity": 1, "unit_price": "100.99"}])
    shop.customer_user("lina", "C1")
    case = cases.submit(db, _refund_only("SO-F1"), who(db, "lina"), via="customer")  # .99: the bank declines it
    assert cases.get_case(db, case.number, who(db, "agent")).status == "refund_failed"

    # The customer reads what happens next; staff read what to do.
    sign_in(client, "lina")
    page = client.get(f"/cases/{case.number}").text
    assert 'data-testid="refund-failed-next"' in page and "客服已收到提醒" in page
    sign_in(client, "agent2")
    assert "重新退款" in client.get(f"/cases/{case.number}").text
    # The people who retry refunds are alerted, once; the supervisors' case list shows it.
    for name in ("boss", "agent2"):
        inbox = notifications.staff_inbox(db, who(db, name).user_id)
        assert [i.link for i in inbox.items] == [f"/cases/{case.number}"], name
    sign_in(client, "boss")
    assert 'data-testid="refunds-failed-alert"' in client.get("/cases/escalations").text

    # Its ticket cannot be closed as solved while the money has not reached the customer.
    ticket = tickets.open_ticket(
        db,
        TicketIn(
            subject="退款没到账",
            body="退款一直没收到",
            channel=Channel.API,
            order_number="SO-F1",
            case_number=case.number,
        ),
        who(db, "agent"),
    )
    solve = MessageIn(body="已为您处理完毕。", kind=MessageKind.REPLY, then=TicketStatus.SOLVED)
    with pytest.raises(Conflict, match="retry it on the case first"):
        tickets.post_message(db, ticket.number, solve, who(db, "agent"))
    assert tickets.get_ticket(db, ticket.number, who(db, "agent")).status is not TicketStatus.SOLVED

    # Retried and declined again (the simulated bank declines .99 every time): alerted once more.
    cases.act(db, case.number, ActionIn(action=CaseAction.RETRY_REFUND), who(db, "agent2"))
    assert cases.get_case(db, case.number, who(db, "agent")).status == "refund_failed"
    assert len(notifications.staff_inbox(db, who(db, "boss").user_id).items) == 2


def test_an_exchange_whose_replacement_shipped_is_called_so(client: TestClient, db: Database, shop: Factory) -> None:
    delivered_order(shop, db, "SO-X1")
    shop.customer_user("lina", "C1")
    draft = CaseDraft(
        order_number="SO-X1",
        kind=CaseKind.EXCHANGE,
        reason=CaseReason.DEFECT,
        lines=[CaseLineIn(line_no=1, quantity=1)],
    )
    case = cases.submit(db, draft, who(db, "lina"), via="customer")
    seller = who(db, "seller")
    steps = [
        (CaseAction.APPROVE, who(db, "agent")),
        (CaseAction.SHIP_BACK, who(db, "lina")),
        (CaseAction.RECEIVE, seller),
        (CaseAction.INSPECT_PASS, seller),
        (CaseAction.SHIP_REPLACEMENT, seller),
    ]
    for action, by in steps:
        if action.value in cases.get_case(db, case.number, by).next_actions:
            cases.act(db, case.number, ActionIn(action=action, carrier="SF", tracking_number="SF1234567890"), by)
    assert cases.get_case(db, case.number, seller).status == "replacement_shipped"
    sign_in(client, "lina")
    page = client.get(f"/cases/{case.number}").text
    assert "换货商品已寄出" in page and "已寄回" not in page
    assert "换货商品已寄出" in client.get("/cases").text


def _delivered_with_fees(
    shop: Factory, db: Database, number: str, lines: list[dict[str, object]], *, shipping: str, discount: str
) -> None:
    now = clock.now()
    payload = shop.order_payload(
        number, status="paid", updated_at=now - timedelta(days=4), lines=lines,
        shipments=[{"carrier": "SF", "tracking_number": f"T{number}"}],
    )  # fmt: skip
    payload["placed_at"] = payload["paid_at"] = (now - timedelta(days=5)).isoformat()
    payload["shipping_fee"], payload["discount_total"] = shipping, discount
    goods = sum(Decimal(str(x["unit_price"])) * int(str(x["quantity"])) for x in lines)
    total = goods + Decimal(shipping) - Decimal(discount)
    payload["payments"] = [
        {"reference": f"P{number}", "method": "alipay", "amount": str(total), "paid_at": payload["paid_at"]}
    ]
    orders.upsert_order(db, OrderIn.model_validate(payload), FEED)
    event = LogisticsEventIn(
        event_id=f"E{number}",
        carrier="SF",
        tracking_number=f"T{number}",
        node="delivered",
        occurred_at=now - timedelta(days=2),
    )
    orders.record_logistics_event(db, event, FEED)


def test_an_exchange_reads_the_same_amount_whoever_files_it(db: Database, shop: Factory) -> None:
    """An exchange moves no money: its amount is the goods' value, not the order's discount or
    shipping share, nor the rounding a line's last unit takes."""
    line = [{"line_no": 1, "sku": "SKU-2", "quantity": 3, "unit_price": "10.00"}]
    _delivered_with_fees(shop, db, "SO-X2", line, shipping="5.00", discount="1.00")  # 34.00 for 3 units
    shop.customer_user("lina", "C1")
    amounts = []
    for by in ("lina", "agent", "lina"):
        draft = CaseDraft(
            order_number="SO-X2",
            kind=CaseKind.EXCHANGE,
            reason=CaseReason.DEFECT,
            lines=[CaseLineIn(line_no=1, quantity=1)],
        )
        amounts.append(cases.submit(db, draft, who(db, by), via="agent").requested_amount)
    assert amounts == [Decimal("10.00")] * 3


def test_a_refund_above_the_goods_price_says_it_carries_the_shipping_share(
    client: TestClient, db: Database, shop: Factory
) -> None:
    paid_order(
        db, "SO-S1", lines=[{"line_no": 1, "sku": "SKU-2", "quantity": 1, "unit_price": "35.00"}], shipping="4.00"
    )
    shop.customer_user("lina", "C1")
    case = cases.submit(db, _refund_only("SO-S1"), who(db, "lina"), via="customer")
    assert case.requested_amount == Decimal("39.00")
    sign_in(client, "lina")
    page = client.get(f"/cases/{case.number}").text
    assert 'data-testid="shipping-share"' in page and "运费" in page and "¥4.00" in page
    told = " ".join(m.body for m in notifications.inbox(db, who(db, "lina").customer_id or 0).items)
    assert "退款 ¥39.00 中含商品分摊的运费 ¥4.00" in told, told
