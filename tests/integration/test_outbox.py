"""The outbox: messages leave only with their transaction, are delivered once, and failures back off."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy.exc import IntegrityError

from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.messaging import outbox

from .helpers import outbox_rows

TOPIC = "test.outbox_probe"
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


class Recorder:
    """A handler that records what it got and fails while told to."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, Any], str]] = []
        self.failing = False

    def __call__(self, payload: dict[str, Any], key: str) -> None:
        self.calls.append((payload, key))
        if self.failing:
            raise RuntimeError("downstream is down")


@pytest.fixture
def handler(monkeypatch: pytest.MonkeyPatch, no_outbox_kick: None) -> Iterator[Recorder]:
    """Subscribe a fresh recorder to the test topic; the registration is undone afterwards."""
    monkeypatch.setitem(outbox._handlers, TOPIC, [])
    recorder = Recorder()
    outbox.subscribe(TOPIC, recorder)
    with clock.frozen_at(NOW):
        yield recorder


def publish(db: Database, key: str, payload: dict[str, Any] | None = None, *, commit: bool = True) -> None:
    with db.write() as uow:
        outbox.publish(uow.session, TOPIC, payload or {"n": key}, idempotency_key=key)
        if commit:
            uow.commit()


def test_a_committed_message_is_delivered_exactly_once(db: Database, handler: Recorder) -> None:
    publish(db, "k1", {"order": "SO-1", "to": "paid"})
    assert outbox.pending_count(db) == 1
    assert outbox.drain(db) == 1
    assert handler.calls == [({"order": "SO-1", "to": "paid"}, "k1")]
    assert outbox.drain(db) == 0
    assert len(handler.calls) == 1
    [row] = outbox_rows(db, TOPIC)
    assert (row["delivered_at"], row["attempts"], row["last_error"]) == (NOW, 0, "")
    assert outbox.pending_count(db) == 0


def test_a_message_from_a_rolled_back_transaction_never_leaves(db: Database, handler: Recorder) -> None:
    publish(db, "k1", commit=False)
    assert outbox_rows(db) == []
    assert outbox.drain(db) == 0
    assert handler.calls == []


def test_messages_are_delivered_in_the_order_they_were_written(db: Database, handler: Recorder) -> None:
    for key in ("k1", "k2", "k3"):
        publish(db, key)
    assert outbox.drain(db) == 3
    assert [key for _, key in handler.calls] == ["k1", "k2", "k3"]


def test_drain_takes_at_most_one_batch(db: Database, handler: Recorder) -> None:
    for key in ("k1", "k2", "k3"):
        publish(db, key)
    assert outbox.drain(db, batch=2) == 2
    assert outbox.pending_count(db) == 1
    assert outbox.drain(db, batch=2) == 1


def test_the_idempotency_key_is_unique(db: Database, handler: Recorder) -> None:
    publish(db, "k1")
    with pytest.raises(IntegrityError):
        publish(db, "k1")
    assert len(outbox_rows(db)) == 1


def test_a_failing_handler_leaves_the_message_for_a_later_retry(db: Database, handler: Recorder) -> None:
    handler.failing = True
    publish(db, "k1")
    assert outbox.drain(db) == 0
    [row] = outbox_rows(db, TOPIC)
    assert row["delivered_at"] is None
    assert row["attempts"] == 1
    assert row["available_at"] == NOW + timedelta(seconds=2)
    assert "downstream is down" in row["last_error"]
    assert outbox.pending_count(db) == 1

    # Not due yet: nothing is tried.
    assert outbox.drain(db) == 0
    assert len(handler.calls) == 1
    assert outbox_rows(db, TOPIC)[0]["attempts"] == 1


def test_retries_back_off_exponentially(db: Database, handler: Recorder) -> None:
    handler.failing = True
    publish(db, "k1")
    outbox.drain(db)
    clock.advance(timedelta(seconds=2))
    outbox.drain(db)
    [row] = outbox_rows(db, TOPIC)
    assert row["attempts"] == 2
    assert row["available_at"] == NOW + timedelta(seconds=2) + timedelta(seconds=4)


def test_a_message_is_delivered_once_the_handler_recovers(db: Database, handler: Recorder) -> None:
    handler.failing = True
    publish(db, "k1")
    outbox.drain(db)
    handler.failing = False
    clock.advance(timedelta(seconds=3))
    assert outbox.drain(db) == 1
    [row] = outbox_rows(db, TOPIC)
    assert row["delivered_at"] == NOW + timedelta(seconds=3)
    assert row["attempts"] == 1
    assert [key for _, key in handler.calls] == ["k1", "k1"]
    assert outbox.drain(db) == 0


def test_one_failing_message_does_not_hold_back_the_others(db: Database, handler: Recorder) -> None:
    def picky(payload: dict[str, Any], key: str) -> None:
        if key == "bad":
            raise ValueError("cannot handle this one")

    outbox.subscribe(TOPIC, picky)
    for key in ("k1", "bad", "k2"):
        publish(db, key)
    failed_before = REGISTRY.get_sample_value("aftersales_scan_item_failures_total", {"scan": "outbox"}) or 0.0
    assert outbox.drain(db) == 2
    rows = {r["idempotency_key"]: r for r in outbox_rows(db, TOPIC)}
    assert rows["bad"]["delivered_at"] is None
    assert rows["bad"]["attempts"] == 1
    assert rows["k1"]["delivered_at"] == rows["k2"]["delivered_at"] == NOW
    # Counted in /metrics, labelled by the scan.
    assert REGISTRY.get_sample_value("aftersales_scan_item_failures_total", {"scan": "outbox"}) == failed_before + 1
