"""Executing and settling refunds: the worker step is safe to repeat and to resume after a crash at
any line, the gateway refunds once per key, confirmations settle once, failed refunds retry with a
new key within the cap."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.kit.errors import Conflict, NotFound
from aftersales.messaging import outbox
from aftersales.refunds import gateway as gateway_module
from aftersales.refunds import handlers, tasks
from aftersales.refunds import service as refunds
from aftersales.refunds.gateway import GatewayUnavailable, SimulatedGateway, use_gateway

from ..factories import Factory
from .helpers import outbox_rows, timeline_rows
from .test_refunds_support import Recording, held_gateway, ledger, paid_order, refund_row, request

NOW = datetime(2026, 11, 5, 8, 0, tzinfo=UTC)


@pytest.fixture
def order_id(factory: Factory, no_outbox_kick: None) -> Iterator[int]:
    """A paid order of 400.00 (2 × 199.00 + 10.00 shipping − 8.00 discount); the outbox is drained by hand."""
    factory.catalogue()
    yield paid_order(factory.db, shipping="10.00", discount="8.00")


@pytest.fixture
def gateway(db: Database) -> Iterator[Recording]:
    """The simulator without its automatic confirmation, counting what reaches it; also the
    gateway the outbox handler uses."""
    recording = Recording(held_gateway(db))
    use_gateway(db, recording)
    yield recording
    use_gateway(db, None)


def test_a_refund_is_submitted_once_and_a_second_run_does_nothing(
    db: Database, order_id: int, gateway: Recording
) -> None:
    refund = request(db, order_id, "100.00", "k1")
    refunds.process_refund(db, refund.id, gateway)
    row = refund_row(db, refund.id)
    assert (row.status, row.attempts) == ("submitted", 0)
    assert row.gateway_ref.startswith("gwsim_") and row.submitted_at is not None
    refunds.process_refund(db, refund.id, gateway)
    assert gateway.calls == ["k1"]
    [entry] = ledger(db)
    assert (entry.idempotency_key, entry.amount, entry.status, entry.gateway_ref) == (
        "k1",
        Decimal("100.00"),
        "processing",
        row.gateway_ref,
    )


def test_the_confirmation_settles_once_and_tells_the_others(db: Database, order_id: int, gateway: Recording) -> None:
    refund = request(db, order_id, "100.00", "k1", case_id=None)
    refunds.process_refund(db, refund.id, gateway)
    ref = refund_row(db, refund.id).gateway_ref
    tasks.confirm_gateway_refund(ref)
    tasks.confirm_gateway_refund(ref)
    refunds.settle(db, ref, True)
    row = refund_row(db, refund.id)
    assert row.status == "succeeded" and row.settled_at is not None
    [message] = outbox_rows(db, "refund.settled")
    assert message["payload"] == {
        "refund_id": refund.id,
        "case_id": None,
        "customer_id": message["payload"]["customer_id"],
        "order_number": "SO-R1",
        "status": "succeeded",
        "amount": "100.00",
        "currency": "CNY",
        "occurred_at": row.settled_at.replace(tzinfo=UTC).isoformat(),  # the customer's notice is dated by it
    }
    assert message["idempotency_key"] == f"refund-settled:{refund.id}"
    actions = [r["action"] for r in timeline_rows(db, "order") if r["action"].startswith("refund.")]
    assert actions == ["refund.requested", "refund.submitted", "refund.succeeded"]
    assert [e.status for e in ledger(db)] == ["succeeded"]


def test_a_contradicting_or_unknown_confirmation_is_refused(db: Database, order_id: int, gateway: Recording) -> None:
    refund = request(db, order_id, "100.00", "k1")
    refunds.process_refund(db, refund.id, gateway)
    ref = refund_row(db, refund.id).gateway_ref
    refunds.settle(db, ref, True)
    with pytest.raises(Conflict, match="already succeeded"):
        refunds.settle(db, ref, False)
    with pytest.raises(NotFound):
        refunds.settle(db, "gwsim_unknown", True)
    assert refund_row(db, refund.id).status == "succeeded"


def test_a_transient_gateway_error_is_recorded_and_raised_for_a_later_retry(
    db: Database, order_id: int, gateway: Recording
) -> None:
    refund = request(db, order_id, "100.00", "k1")
    gateway.down = True
    with clock.frozen_at(NOW), pytest.raises(GatewayUnavailable):
        refunds.process_refund(db, refund.id, gateway)
    row = refund_row(db, refund.id)
    assert (row.status, row.attempts, row.next_attempt_at) == ("requested", 1, NOW + timedelta(seconds=2))
    assert "connection refused" in row.last_error
    assert ledger(db) == []
    gateway.down = False
    refunds.process_refund(db, refund.id, gateway)
    assert refund_row(db, refund.id).status == "submitted"
    assert [e.idempotency_key for e in ledger(db)] == ["k1"]


def test_a_lost_answer_then_a_retry_reaches_the_gateway_once(db: Database, order_id: int) -> None:
    # failure rate 1 and a first draw ≥ 0.5: the gateway takes the refund and the answer is lost
    seed = next(s for s in range(100) if random.Random(s).random() >= 0.5)
    flaky = held_gateway(db, failure_rate=1.0, seed=seed)
    refund = request(db, order_id, "100.00", "k1")
    with pytest.raises(GatewayUnavailable, match="answer was lost"):
        refunds.process_refund(db, refund.id, flaky)
    assert refund_row(db, refund.id).status == "requested"
    [taken] = ledger(db)
    flaky.failure_rate = 0.0
    refunds.process_refund(db, refund.id, flaky)
    row = refund_row(db, refund.id)
    assert (row.status, row.gateway_ref) == ("submitted", taken.gateway_ref)
    assert len(ledger(db)) == 1


def test_a_worker_dying_between_the_gateway_and_our_write_resumes_without_a_second_refund(
    db: Database, order_id: int, gateway: Recording, monkeypatch: pytest.MonkeyPatch
) -> None:
    refund = request(db, order_id, "100.00", "k1")

    def die(*_args: object, **_kwargs: object) -> bool:
        raise KeyboardInterrupt("worker killed")

    with monkeypatch.context() as patch:
        patch.setattr(refunds, "_note_ack", die)
        with pytest.raises(KeyboardInterrupt):
            refunds.process_refund(db, refund.id, gateway)
    assert refund_row(db, refund.id).status == "requested"
    refunds.process_refund(db, refund.id, gateway)
    row = refund_row(db, refund.id)
    assert row.status == "submitted"
    assert gateway.calls == ["k1", "k1"]
    assert [(e.idempotency_key, e.gateway_ref) for e in ledger(db)] == [("k1", row.gateway_ref)]


def test_a_confirmation_that_overtakes_the_acknowledgement_still_settles(db: Database, order_id: int) -> None:
    fast = SimulatedGateway(db, confirm_delay=0, scheduler=tasks.schedule_confirmation)
    refund = request(db, order_id, "100.00", "k1")
    refunds.process_refund(db, refund.id, fast)
    row = refund_row(db, refund.id)
    assert row.status == "succeeded" and row.gateway_ref == ledger(db)[0].gateway_ref
    assert len(outbox_rows(db, "refund.settled")) == 1
    actions = [r["action"] for r in timeline_rows(db, "order") if r["action"].startswith("refund.")]
    assert actions == ["refund.requested", "refund.succeeded"]


def test_a_declined_refund_is_retried_with_a_new_key_once(db: Database, order_id: int, gateway: Recording) -> None:
    failed = request(db, order_id, "100.99", "k1")  # .99: the simulator's bank declines it
    refunds.process_refund(db, failed.id, gateway)
    tasks.confirm_gateway_refund(refund_row(db, failed.id).gateway_ref)
    assert refund_row(db, failed.id).status == "failed"
    assert outbox_rows(db, "refund.settled")[0]["payload"]["status"] == "failed"
    with db.read() as uow:
        assert refunds.refundable_amount(uow.session, order_id) == Decimal("400.00")

    retry = refunds.retry_refund(db, failed.id)
    assert (retry.idempotency_key, retry.status, retry.amount) == ("k1:retry1", "requested", Decimal("100.99"))
    assert refunds.retry_refund(db, failed.id) == retry
    with pytest.raises(Conflict, match="only a failed refund"):
        refunds.retry_refund(db, retry.id)
    refunds.process_refund(db, retry.id, gateway)
    assert [e.idempotency_key for e in ledger(db)] == ["k1", "k1:retry1"]
    with pytest.raises(NotFound):
        refunds.retry_refund(db, 987654)


def test_a_retry_still_respects_the_cap(db: Database, order_id: int, gateway: Recording) -> None:
    failed = request(db, order_id, "100.99", "k1")
    refunds.process_refund(db, failed.id, gateway)
    tasks.confirm_gateway_refund(refund_row(db, failed.id).gateway_ref)
    request(db, order_id, "300.00", "k2")  # the declined 100.99 no longer counts, so this fits
    with pytest.raises(Conflict, match=r"at most 100\.00 CNY more"):
        refunds.retry_refund(db, failed.id)


def test_the_same_key_with_another_amount_is_rejected_by_the_gateway(
    db: Database, order_id: int, gateway: Recording
) -> None:
    gateway.inner.submit("k1", "PAY-SO-R1", Decimal("1.00"), "CNY")  # someone reused our key
    refund = request(db, order_id, "100.00", "k1")
    refunds.process_refund(db, refund.id, gateway)
    row = refund_row(db, refund.id)
    assert row.status == "failed" and "cannot now mean 100.00 CNY" in row.last_error
    assert outbox_rows(db, "refund.settled")[0]["payload"]["status"] == "failed"


def test_a_lost_confirmation_is_found_by_the_reconciliation(db: Database, order_id: int, gateway: Recording) -> None:
    with clock.frozen_at(NOW):
        refund = request(db, order_id, "100.00", "k1")
        refunds.process_refund(db, refund.id, gateway)
        assert refunds.reconcile(db, gateway, older_than=timedelta(seconds=60)) == 0
        clock.advance(timedelta(seconds=61))
        assert refunds.reconcile(db, gateway, older_than=timedelta(seconds=60)) == 1
        assert refunds.reconcile(db, gateway, older_than=timedelta(seconds=60)) == 0
    assert refund_row(db, refund.id).status == "succeeded"
    assert [e.status for e in ledger(db)] == ["succeeded"]


def test_the_outbox_handler_executes_requested_refunds(
    db: Database, order_id: int, gateway: Recording, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Registered for this test only: other tests in this process see the outbox as they left it.
    monkeypatch.setattr(handlers, "_registered", False)
    monkeypatch.setattr(gateway_module, "_scheduler", gateway_module._scheduler)
    monkeypatch.setitem(outbox._handlers, "refund.requested", [])
    handlers.register()
    handlers.register()  # idempotent: still one subscription
    assert [h.handler for h in outbox._handlers["refund.requested"]] == [handlers.handle_refund_requested]  # type: ignore[attr-defined]
    outbox.drain(db)  # the order's own messages
    refund = request(db, order_id, "100.00", "k1")
    gateway.down = True
    assert outbox.drain(db) == 0
    assert outbox_rows(db, "refund.requested")[0]["attempts"] == 1
    gateway.down = False
    with clock.frozen_at(clock.now() + timedelta(seconds=3)):
        assert outbox.drain(db) == 1
    assert refund_row(db, refund.id).status == "submitted"
    assert gateway.calls == ["k1", "k1"]


def test_two_workers_on_the_same_refund_reach_the_gateway_with_one_refund(
    db: Database, order_id: int, gateway: Recording
) -> None:
    refund = request(db, order_id, "100.00", "k1")
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def work() -> None:
        barrier.wait()
        try:
            refunds.process_refund(db, refund.id, gateway)
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert refund_row(db, refund.id).status == "submitted"
    assert [e.idempotency_key for e in ledger(db)] == ["k1"]


class _BrokenFor:
    """A gateway whose query API breaks on one refund's key (a malformed answer, a bug)."""

    def __init__(self, inner: Recording, broken_key: str) -> None:
        self.inner, self.broken_key = inner, broken_key

    def submit(self, idempotency_key: str, payment_reference: str, amount: Decimal, currency: str) -> object:
        return self.inner.submit(idempotency_key, payment_reference, amount, currency)

    def lookup(self, idempotency_key: str) -> object:
        if idempotency_key == self.broken_key:
            raise ValueError("gateway answered something we cannot read")
        return self.inner.lookup(idempotency_key)


def test_one_refund_the_reconciliation_cannot_read_holds_up_no_other(
    db: Database, order_id: int, gateway: Recording
) -> None:
    from prometheus_client import REGISTRY

    def failures() -> float:
        return REGISTRY.get_sample_value("aftersales_scan_item_failures_total", {"scan": "refund_reconcile"}) or 0.0

    before = failures()
    with clock.frozen_at(NOW):
        first = request(db, order_id, "10.00", "k1")
        second = request(db, order_id, "20.00", "k2")
        refunds.process_refund(db, first.id, gateway)
        refunds.process_refund(db, second.id, gateway)
        broken = _BrokenFor(gateway, refund_row(db, first.id).idempotency_key)
        clock.advance(timedelta(seconds=61))
        assert refunds.reconcile(db, broken, older_than=timedelta(seconds=60)) == 1  # type: ignore[arg-type]
        assert refund_row(db, second.id).status == "succeeded"
        assert refund_row(db, first.id).status == "submitted"
        assert failures() == before + 1
        # Backed off: the next run a moment later leaves it alone; after the delay it is tried again.
        assert refunds.reconcile(db, broken, older_than=timedelta(seconds=60)) == 0  # type: ignore[arg-type]
        assert failures() == before + 1
        clock.advance(timedelta(minutes=2))
        assert refunds.reconcile(db, gateway, older_than=timedelta(seconds=60)) == 1
    assert refund_row(db, first.id).status == "succeeded"
