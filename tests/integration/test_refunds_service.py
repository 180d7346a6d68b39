"""Requesting refunds: the request, its outbox message and the cap live in the caller's transaction;
replays return the first request; the order's refundable amount is never exceeded."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from decimal import Decimal

import pytest

from aftersales.db.uow import Database
from aftersales.kit.errors import Conflict, Invalid, NotFound
from aftersales.refunds import service as refunds

from ..factories import Factory
from .helpers import outbox_rows, timeline_rows
from .test_refunds_support import paid_order, request


@pytest.fixture
def order_id(factory: Factory, no_outbox_kick: None) -> Iterator[int]:
    """A paid order of 2 × 199.00 + 10.00 shipping − 8.00 discount = 400.00; nothing drains the outbox."""
    factory.catalogue()
    yield paid_order(factory.db, shipping="10.00", discount="8.00")


def test_a_request_writes_the_refund_and_its_outbox_message_together(db: Database, order_id: int) -> None:
    refund = request(db, order_id, "100.00", "case:1:refund:1")
    assert (refund.status, refund.amount, refund.currency) == ("requested", Decimal("100.00"), "CNY")
    assert refund.payment_reference == "PAY-SO-R1"
    assert (refund.order_number, refund.attempts, refund.gateway_ref) == ("SO-R1", 0, "")
    [message] = outbox_rows(db, "refund.requested")
    assert message["payload"] == {"refund_id": refund.id}
    assert message["idempotency_key"] == "refund-requested:case:1:refund:1"
    [entry] = [row for row in timeline_rows(db, "order") if row["action"].startswith("refund.")]
    assert (entry["action"], entry["to_state"], entry["subject_id"]) == ("refund.requested", "requested", order_id)


def test_a_rolled_back_request_leaves_no_refund_and_no_message(db: Database, order_id: int) -> None:
    with db.write() as uow:
        refunds.request_refund(
            uow.session,
            order_id=order_id,
            order_number="SO-R1",
            case_id=None,
            amount=Decimal("100.00"),
            currency="CNY",
            reason="the case transition failed after this",
            idempotency_key="k1",
        )
        # no commit: the caller's transaction failed
    assert refunds.refunds_for_order(db, order_id) == []
    assert outbox_rows(db, "refund.requested") == []


def test_the_same_key_returns_the_first_request_unchanged(db: Database, order_id: int) -> None:
    first = request(db, order_id, "100.00", "k1")
    again = request(db, order_id, "100.00", "k1")
    assert again == first
    assert len(refunds.refunds_for_order(db, order_id)) == 1
    assert len(outbox_rows(db, "refund.requested")) == 1


def test_the_same_key_for_a_different_refund_is_refused(db: Database, order_id: int) -> None:
    request(db, order_id, "100.00", "k1")
    with pytest.raises(Conflict, match=r"already belongs to a refund of 100\.00 CNY"):
        request(db, order_id, "50.00", "k1")


def test_partial_refunds_up_to_the_payable_total_then_a_clear_refusal(db: Database, order_id: int) -> None:
    request(db, order_id, "150.00", "k1")
    request(db, order_id, "200.00", "k2")
    with db.read() as uow:
        assert refunds.refundable_amount(uow.session, order_id) == Decimal("50.00")
    with pytest.raises(Conflict) as refused:
        request(db, order_id, "50.01", "k3")
    assert "at most 50.00 CNY more" in refused.value.message
    assert "400.00 CNY" in refused.value.message
    assert "350.00 CNY is already refunded" in refused.value.message
    request(db, order_id, "50.00", "k3")
    with db.read() as uow:
        assert refunds.refundable_amount(uow.session, order_id) == Decimal("0.00")


@pytest.mark.parametrize(
    ("amount", "error", "words"),
    [
        ("0.00", Conflict, "more than 0.00"),
        ("-5.00", Conflict, "more than 0.00"),
        ("400.01", Conflict, "at most 400.00 CNY"),
        ("1.005", Invalid, "decimal places"),
    ],
)
def test_bad_amounts_are_refused(db: Database, order_id: int, amount: str, error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=words):
        request(db, order_id, amount, "k1")
    assert refunds.refunds_for_order(db, order_id) == []


def test_a_refund_in_another_currency_is_refused(db: Database, order_id: int) -> None:
    with db.write() as uow, pytest.raises(Conflict, match="paid in CNY"):
        refunds.request_refund(
            uow.session,
            order_id=order_id,
            order_number="SO-R1",
            case_id=None,
            amount=Decimal("1.00"),
            currency="USD",
            reason="",
            idempotency_key="k1",
        )


def test_an_order_without_a_payment_cannot_be_refunded(db: Database, factory: Factory, order_id: int) -> None:
    unpaid = paid_order(db, "SO-R2", paid=False)
    with pytest.raises(Conflict, match="has no payment"):
        request(db, unpaid, "1.00", "k1", number="SO-R2")


def test_an_unknown_order_or_a_wrong_number_is_refused(db: Database, order_id: int) -> None:
    with pytest.raises(NotFound):
        request(db, order_id + 1000, "1.00", "k1")
    with pytest.raises(Conflict, match="is SO-R1, not SO-X"):
        request(db, order_id, "1.00", "k1", number="SO-X")


def test_refunds_are_listed_by_order_and_by_case(db: Database, factory: Factory, order_id: int) -> None:
    first = request(db, order_id, "10.00", "k1")
    second = request(db, order_id, "20.00", "k2")
    assert [r.id for r in refunds.refunds_for_order(db, order_id)] == [first.id, second.id]
    assert [r.id for r in refunds.refunds_for_order_number(db, "SO-R1")] == [first.id, second.id]
    assert refunds.refunds_for_order_number(db, "SO-NONE") == []
    with db.read() as uow:
        assert refunds.refunds_for_case(uow.session, 12345) == []


def test_two_refunds_of_one_order_at_once_never_exceed_it(db: Database, order_id: int) -> None:
    """Two requests of 300.00 on a 400.00 order at the same moment: one is accepted, one refused."""
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def ask(key: str) -> None:
        barrier.wait()
        try:
            request(db, order_id, "300.00", key)
            outcomes.append("accepted")
        except Conflict:
            outcomes.append("refused")

    threads = [threading.Thread(target=ask, args=(key,)) for key in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["accepted", "refused"]
    assert sum(r.amount for r in refunds.refunds_for_order(db, order_id)) == Decimal("300.00")
