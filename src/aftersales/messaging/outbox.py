"""Writing to the outbox inside a unit of work, and draining it with registered handlers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, TypeVar

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.kit.events import DomainEvent, StoredEvent
from aftersales.messaging import scans
from aftersales.messaging.models import OutboxMessage

log = structlog.get_logger(__name__)

Handler = Callable[[dict[str, Any], str], None]
E = TypeVar("E", bound=DomainEvent)
_handlers: dict[str, list[Handler]] = {}
ALERT_AFTER_ATTEMPTS = 12
# Events that leave for systems outside (documented in docs/api.md, "Webhooks"). Every other
# published event must have a handler here (tests/unit/test_events_consumed.py): an event that
# nobody hears is a promise nobody keeps.
WEBHOOK_TOPICS: frozenset[str] = frozenset()
SCAN = "outbox"


def subscribe(topic: str, handler: Handler) -> None:
    _handlers.setdefault(topic, []).append(handler)


@dataclass(frozen=True, slots=True)
class EventHandler(Generic[E]):
    """Reads a stored payload back into its event class and hands it on with the message's key."""

    event: type[E]
    handler: Callable[[E, str], None]

    def __call__(self, payload: dict[str, Any], key: str) -> None:
        self.handler(self.event.from_payload(payload), key)


@dataclass(frozen=True, slots=True)
class StoredEventHandler:
    topic: str
    handler: Callable[[StoredEvent, str], None]

    def __call__(self, payload: dict[str, Any], key: str) -> None:
        self.handler(StoredEvent(self.topic, payload), key)


def on(event: type[E], handler: Callable[[E, str], None]) -> None:
    """Hand `handler` each published `event`, as its class."""
    subscribe(event.topic, EventHandler(event, handler))


def on_topic(topic: str, handler: Callable[[StoredEvent, str], None]) -> None:
    """For a consumer that may not import the publishing context (notifications tells customers
    of events of contexts above it): the event's fields as they were stored."""
    subscribe(topic, StoredEventHandler(topic, handler))


def subscribed_topics() -> list[str]:
    """Topics with at least one registered handler (after wiring.register_handlers())."""
    return sorted(topic for topic, handlers in _handlers.items() if handlers)


def publish_event(session: Session, event: DomainEvent, idempotency_key: str) -> None:
    """Queue a domain event in the caller's transaction; the one way contexts publish."""
    publish(session, event.topic, event.payload(), idempotency_key)


def publish(session: Session, topic: str, payload: dict[str, Any], idempotency_key: str) -> None:
    """Queue a message in the caller's transaction; it leaves only if that transaction commits.
    Contexts publish typed events (publish_event); this is the transport underneath."""
    now = clock.now()
    session.add(
        OutboxMessage(
            topic=topic,
            payload=payload,
            idempotency_key=idempotency_key,
            created_at=now,
            available_at=now,
            attempts=0,
            last_error="",
        )
    )


LEASE = timedelta(seconds=120)


def _claim(db: Database, batch: int) -> list[tuple[int, str, dict[str, Any], str]]:
    """Lease due messages so that several workers never run the same one at once; a worker that
    dies mid-way leaves its lease to expire and the message is delivered again (handlers are
    idempotent by the message's key)."""
    with db.write() as uow:
        stmt = (
            select(OutboxMessage)
            .where(OutboxMessage.delivered_at.is_(None), OutboxMessage.available_at <= clock.now())
            .order_by(OutboxMessage.id)
            .limit(batch)
        )
        if not db.is_sqlite:
            stmt = stmt.with_for_update(skip_locked=True)
        claimed = []
        for message in uow.session.scalars(stmt):
            message.available_at = clock.now() + LEASE
            claimed.append((message.id, message.topic, dict(message.payload), message.idempotency_key))
        uow.commit()
        return claimed


def drain(db: Database, batch: int = 100) -> int:
    """Deliver due messages, each handler outside any transaction of ours; a failing handler is
    retried later with backoff and never dropped. Returns the number delivered."""
    delivered = 0
    for message_id, topic, payload, key in _claim(db, batch):
        error: Exception | None = None
        try:
            for handler in _handlers.get(topic, []):
                handler(payload, key)
        except Exception as exc:  # a handler's failure must not lose the message
            error = exc
        try:
            delivered += _settle(db, message_id, topic, error)
        except Exception as exc:  # its lease runs out and it is delivered again; the rest go on
            log.error("outbox.settle_failed", topic=topic, id=message_id, error=repr(exc))
    return delivered


def _settle(db: Database, message_id: int, topic: str, error: Exception | None) -> int:
    """Write down a delivery (1) or a failure with its back-off (0)."""
    with db.write() as uow:
        message = uow.session.get(OutboxMessage, message_id)
        if message is None:
            return 0
        if error is None:
            message.delivered_at = clock.now()
            uow.commit()
            return 1
        message.attempts += 1
        message.last_error = repr(error)[:2000]
        wait = timedelta(seconds=min(2**message.attempts, 3600))
        message.available_at = clock.now() + wait
        attempts = message.attempts
        uow.commit()
    log.warning("outbox.handler_failed", topic=topic, id=message_id, error=repr(error))
    scans.item_failed(SCAN, message_id, error, attempts, wait)
    if attempts >= ALERT_AFTER_ATTEMPTS:
        # Never dropped: it keeps retrying hourly and the operator is alerted.
        log.error("outbox.stuck", topic=topic, id=message_id, attempts=attempts)
    return 0


def pending_count(db: Database) -> int:
    with db.read() as uow:
        rows = uow.session.scalars(select(OutboxMessage.id).where(OutboxMessage.delivered_at.is_(None)))
        return len(list(rows))
