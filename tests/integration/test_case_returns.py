"""The return leg as the people in it live it: the goods are received only once the customer has
sent them (a tracking number or a booked pickup), never on the seller's word alone."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aftersales.cases import service as cases
from aftersales.cases.domain import CaseAction, CaseKind, CaseReason
from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.kit.access import Principal
from aftersales.kit.errors import Conflict, Forbidden, Invalid

from .test_case_actions import _act, _submit, who

__all__ = ["who"]


def test_nothing_is_received_before_the_customer_sends_it(db: Database, who: dict[str, Principal]) -> None:
    case = _submit(db, who, "SO-RR", CaseKind.RETURN_REFUND, CaseReason.DEFECT)
    assert case.status == "awaiting_return"
    seen = _act(db, case, who["whouse"], CaseAction.ADD_EVIDENCE, note="waiting")
    assert "receive" not in seen.next_actions  # the page does not offer it yet
    for by in ("whouse", "seller", "agent"):
        with pytest.raises(Conflict, match="has not sent the goods back yet"):
            _act(db, case, who[by], CaseAction.RECEIVE)

    shipped = _act(db, case, who["lina"], CaseAction.SHIP_BACK, carrier="SF", tracking_number="SF1")
    assert shipped.status == "return_in_transit"
    assert "receive" in _act(db, case, who["whouse"], CaseAction.ADD_EVIDENCE, note="x").next_actions
    assert _act(db, case, who["whouse"], CaseAction.RECEIVE).status == "received"


def test_a_booked_pickup_lets_the_warehouse_receive(db: Database, who: dict[str, Principal]) -> None:
    case = _submit(db, who, "SO-RR", CaseKind.RETURN_REFUND, CaseReason.DEFECT)
    when = (clock.now() + timedelta(days=1)).replace(microsecond=0)
    booked = _act(db, case, who["lina"], CaseAction.BOOK_PICKUP, pickup_at=when)
    assert booked.status == "awaiting_return"
    assert "receive" in _act(db, case, who["whouse"], CaseAction.ADD_EVIDENCE, note="x").next_actions
    assert _act(db, case, who["whouse"], CaseAction.RECEIVE).status == "received"


def test_booking_a_pickup_books_the_courier_once_per_case(db: Database, who: dict[str, Principal]) -> None:
    case = _submit(db, who, "SO-RR", CaseKind.RETURN_REFUND, CaseReason.DEFECT)
    assert case.pickup_reference == ""
    when = (clock.now() + timedelta(days=1)).replace(microsecond=0)
    booked = _act(db, case, who["lina"], CaseAction.BOOK_PICKUP, pickup_at=when)
    assert booked.pickup_reference.startswith("PU-") and booked.pickup_at == when
    assert "book_pickup" not in booked.next_actions  # booked: the form is not offered again

    later = when + timedelta(hours=3)  # moved through the API: the same booking, at the new time
    moved = _act(db, case, who["agent"], CaseAction.BOOK_PICKUP, pickup_at=later)
    assert (moved.pickup_reference, moved.pickup_at) == (booked.pickup_reference, later)

    other = _submit(db, who, "SO-EX", CaseKind.EXCHANGE, CaseReason.DEFECT)
    theirs = _act(db, other, who["lina"], CaseAction.BOOK_PICKUP, pickup_at=when)
    assert theirs.pickup_reference not in ("", booked.pickup_reference)


def test_goods_that_fail_inspection_are_sent_back_to_the_customer(db: Database, who: dict[str, Principal]) -> None:
    case = _submit(db, who, "SO-RR", CaseKind.RETURN_REFUND, CaseReason.DEFECT)
    _act(db, case, who["lina"], CaseAction.SHIP_BACK, carrier="SF", tracking_number="SF1")
    _act(db, case, who["whouse"], CaseAction.RECEIVE)
    failed = _act(db, case, who["whouse"], CaseAction.INSPECT_FAIL, note="water damage, not a defect")
    assert failed.status == "inspection_failed" and "return_goods" in failed.next_actions
    seen = cases.get_case(db, case.number, who["lina"])
    assert seen.next_actions == ["add_evidence"]  # the customer waits for the parcel

    with pytest.raises(Invalid, match="tracking"):
        _act(db, case, who["whouse"], CaseAction.RETURN_GOODS)
    with pytest.raises(Forbidden):
        _act(db, case, who["lina"], CaseAction.RETURN_GOODS, carrier="SF", tracking_number="BACK1")
    back = _act(db, case, who["whouse"], CaseAction.RETURN_GOODS, carrier="SF", tracking_number="BACK1")
    assert back.status == "rejected"
    seen = cases.get_case(db, case.number, who["lina"])
    assert ("tracking", "SF BACK1") in [(e.kind, e.text) for e in seen.evidence]  # the customer can follow it
    assert [(e.from_state, e.to_state) for e in seen.timeline][-2:] == [
        ("received", "inspection_failed"),
        ("inspection_failed", "rejected"),
    ]
