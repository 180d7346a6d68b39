"""The case actions after approval, each driven through the service on the real database: the
state it leads to, its timeline entry, its side effects (evidence, pickup, resolution, the
customer's event) and its refusal when the state or the role does not allow it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from aftersales.cases import service as cases
from aftersales.cases.domain import CaseAction, CaseKind, CaseReason
from aftersales.cases.schemas import ActionIn, CaseDraft, CaseLineIn, CaseOut
from aftersales.db.uow import Database
from aftersales.identity import service as identity
from aftersales.kit import clock
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import Conflict, Forbidden, Invalid
from aftersales.rules import service as rules

from ..factories import Factory
from .helpers import delivered_order, outbox_rows, timeline_rows

ORDERS = ("SO-RR", "SO-EX", "SO-RP", "SO-INV", "SO-CO")


@pytest.fixture
def who(factory: Factory, db: Database) -> dict[str, Principal]:
    rules.load_defaults(db)
    factory.catalogue()
    for number in ORDERS:
        delivered_order(factory, db, number)
    factory.customer_user("lina", "C1")
    factory.user("agent", Role.AGENT_T1)
    factory.merchant_user("seller", "selfop")
    factory.merchant_user("whouse", "selfop", Role.WAREHOUSE)
    people = {}
    for name in ("lina", "agent", "seller", "whouse"):
        found = identity.principal_for_username(db, name)
        assert found is not None
        people[name] = found
    return people


def _submit(
    db: Database, who: dict[str, Principal], order: str, kind: CaseKind, reason: CaseReason, **extra: object
) -> CaseOut:
    lines = [] if kind is CaseKind.INVOICE else [CaseLineIn(line_no=1, quantity=1)]
    draft = CaseDraft(order_number=order, kind=kind, reason=reason, lines=lines, **extra)  # type: ignore[arg-type]
    return cases.submit(db, draft, who["lina"], via="customer")


def _act(db: Database, case: CaseOut | str, by: Principal, action: CaseAction, **fields: object) -> CaseOut:
    number = case if isinstance(case, str) else case.number
    return cases.act(db, number, ActionIn(action=action, **fields), by)  # type: ignore[arg-type]


def _entries(db: Database, action: str) -> list[dict[str, object]]:
    return [r for r in timeline_rows(db, "case") if r["action"] == action]


def _told(db: Database, number: str) -> list[tuple[str, str]]:
    """The status changes the customer's notifications hear of, for one case."""
    return [
        (m["payload"]["from"], m["payload"]["to"])
        for m in outbox_rows(db, "case.status_changed")
        if m["payload"]["case_number"] == number
    ]


def test_book_pickup_records_when_the_courier_comes(db: Database, who: dict[str, Principal]) -> None:
    case = _submit(db, who, "SO-RR", CaseKind.RETURN_REFUND, CaseReason.DEFECT)
    assert case.status == "awaiting_return" and "book_pickup" in case.next_actions
    when = (clock.now() + timedelta(days=1)).replace(microsecond=0)

    with pytest.raises(Invalid, match="pickup_at"):
        _act(db, case, who["lina"], CaseAction.BOOK_PICKUP)
    with pytest.raises(Forbidden):
        _act(db, case, who["whouse"], CaseAction.BOOK_PICKUP, pickup_at=when)

    booked = _act(db, case, who["lina"], CaseAction.BOOK_PICKUP, pickup_at=when)
    assert (booked.status, booked.return_method, booked.pickup_at) == ("awaiting_return", "pickup", when)
    assert [(e["from_state"], e["to_state"]) for e in _entries(db, "case.book_pickup")] == [
        ("awaiting_return", "awaiting_return")
    ]
    # Not a status change: the customer is not sent a message about their own booking.
    assert ("awaiting_return", "awaiting_return") not in _told(db, case.number)

    _act(db, case, who["lina"], CaseAction.SHIP_BACK, carrier="SF", tracking_number="RSO-RR")
    with pytest.raises(Conflict, match="return_in_transit"):
        _act(db, case, who["lina"], CaseAction.BOOK_PICKUP, pickup_at=when)


def test_ship_replacement_sends_the_exchange_back_with_its_tracking(db: Database, who: dict[str, Principal]) -> None:
    case = _submit(db, who, "SO-EX", CaseKind.EXCHANGE, CaseReason.DEFECT)
    with pytest.raises(Conflict, match="awaiting_return"):
        _act(db, case, who["whouse"], CaseAction.SHIP_REPLACEMENT, carrier="SF", tracking_number="X1")
    resolving = _finish_return(db, who, case)
    assert (resolving.status, resolving.resolution) == ("resolving", "exchange")

    with pytest.raises(Invalid, match="tracking"):
        _act(db, case, who["whouse"], CaseAction.SHIP_REPLACEMENT)
    with pytest.raises(Forbidden):
        _act(db, case, who["lina"], CaseAction.SHIP_REPLACEMENT, carrier="SF", tracking_number="X1")

    shipped = _act(db, case, who["whouse"], CaseAction.SHIP_REPLACEMENT, carrier="SF", tracking_number="NEW-1")
    assert shipped.status == "replacement_shipped"
    assert ("tracking", "SF NEW-1") in [(e.kind, e.text) for e in shipped.evidence]
    assert [(e["from_state"], e["to_state"]) for e in _entries(db, "case.ship_replacement")] == [
        ("resolving", "replacement_shipped")
    ]
    assert ("resolving", "replacement_shipped") in _told(db, case.number)


def _finish_return(db: Database, who: dict[str, Principal], case: CaseOut) -> CaseOut:
    _act(db, case, who["lina"], CaseAction.SHIP_BACK, carrier="SF", tracking_number=f"R{case.number}")
    _act(db, case, who["whouse"], CaseAction.RECEIVE)
    return _act(db, case, who["whouse"], CaseAction.INSPECT_PASS, note="as described")


def test_finish_repair_sends_the_repaired_item_back(db: Database, who: dict[str, Principal]) -> None:
    case = _submit(db, who, "SO-RP", CaseKind.REPAIR, CaseReason.DEFECT)
    repairing = _finish_return(db, who, case)
    assert (repairing.status, repairing.resolution) == ("repairing", "repair")

    with pytest.raises(Invalid, match="tracking"):
        _act(db, case, who["seller"], CaseAction.FINISH_REPAIR, note="new battery")
    with pytest.raises(Forbidden):
        _act(db, case, who["lina"], CaseAction.FINISH_REPAIR, carrier="SF", tracking_number="FIX-1")

    done = _act(
        db, case, who["seller"], CaseAction.FINISH_REPAIR, carrier="SF", tracking_number="FIX-1", note="new battery"
    )
    assert done.status == "replacement_shipped"
    assert ("tracking", "SF FIX-1") in [(e.kind, e.text) for e in done.evidence]
    assert [(e["from_state"], e["to_state"], e["reason"]) for e in _entries(db, "case.finish_repair")] == [
        ("repairing", "replacement_shipped", "new battery")
    ]
    assert ("repairing", "replacement_shipped") in _told(db, case.number)
    with pytest.raises(Conflict, match="replacement_shipped"):
        _act(db, case, who["seller"], CaseAction.FINISH_REPAIR, carrier="SF", tracking_number="FIX-2")


def test_confirm_receipt_completes_an_exchange_once(db: Database, who: dict[str, Principal]) -> None:
    case = _submit(db, who, "SO-EX", CaseKind.EXCHANGE, CaseReason.DEFECT)
    _finish_return(db, who, case)
    with pytest.raises(Conflict, match="resolving"):
        _act(db, case, who["lina"], CaseAction.CONFIRM_RECEIPT)
    _act(db, case, who["whouse"], CaseAction.SHIP_REPLACEMENT, carrier="SF", tracking_number="NEW-2")
    with pytest.raises(Forbidden):
        _act(db, case, who["whouse"], CaseAction.CONFIRM_RECEIPT)

    done = _act(db, case, who["lina"], CaseAction.CONFIRM_RECEIPT)
    assert done.status == "completed" and done.closed_at is not None and done.next_actions == []
    assert [(e["from_state"], e["to_state"]) for e in _entries(db, "case.confirm_receipt")] == [
        ("replacement_shipped", "completed")
    ]
    assert ("replacement_shipped", "completed") in _told(db, case.number)
    with pytest.raises(Conflict, match="completed"):
        _act(db, case, who["lina"], CaseAction.CONFIRM_RECEIPT)


def test_issue_invoice_completes_the_request_with_the_invoice_as_evidence(
    db: Database, who: dict[str, Principal]
) -> None:
    case = _submit(db, who, "SO-INV", CaseKind.INVOICE, CaseReason.INVOICE_NEEDED)
    assert case.status == "approved"
    with pytest.raises(Forbidden):
        _act(db, case, who["lina"], CaseAction.ISSUE_INVOICE)
    with pytest.raises(Forbidden):
        _act(db, case, who["whouse"], CaseAction.ISSUE_INVOICE)

    done = _act(db, case, who["seller"], CaseAction.ISSUE_INVOICE, note="电子发票 No. 0012345")
    assert (done.status, done.resolution) == ("completed", "invoice")
    assert ("invoice", "电子发票 No. 0012345") in [(e.kind, e.text) for e in done.evidence]
    assert [(e["from_state"], e["to_state"]) for e in _entries(db, "case.issue_invoice")] == [("approved", "completed")]
    assert ("approved", "completed") in _told(db, case.number)
    with pytest.raises(Conflict, match="completed"):
        _act(db, case, who["seller"], CaseAction.ISSUE_INVOICE, note="again")


def test_no_one_can_record_a_coupon_there_is_no_wallet_for(db: Database, who: dict[str, Principal]) -> None:
    """A compensation case is paid as money; a coupon is issued by the wallet, never recorded by a case action."""
    case = _submit(
        db, who, "SO-CO", CaseKind.COMPENSATION, CaseReason.LATE_DELIVERY, compensation_amount=Decimal("20.00")
    )
    assert (
        case.status == "under_review"
        and "offer_coupon" not in cases.get_case(db, case.number, who["agent"]).next_actions
    )
    with pytest.raises(Conflict, match="offer_coupon"):
        _act(db, case, who["agent"], CaseAction.OFFER_COUPON, note="¥20 store coupon")
    assert _entries(db, "case.offer_coupon") == []
