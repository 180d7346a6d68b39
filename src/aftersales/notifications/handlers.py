"""Reactions of the notifications context to other contexts' events (delivered by the outbox).

Each handler writes the customer's notice once per event key, then tries to send its email at
once; when the relay is away the email stays queued for the periodic sender (notifications.tasks).
Handlers run outside any transaction and may run again for the same event: notify() is idempotent
by the event's key, and an email that was already sent is never sent again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import structlog

from aftersales.db.uow import configured_database
from aftersales.kit import clock, topics
from aftersales.kit.events import StoredEvent
from aftersales.messaging.outbox import on_topic
from aftersales.notifications import service
from aftersales.notifications.domain import Topic, event_time, template_for
from aftersales.notifications.settings import notification_settings

log = structlog.get_logger(__name__)
_registered = False
# After the relay could not be reached, handlers stop trying to send at once for a while, so a
# backlog of events is not held up by one connection timeout each; the periodic sender goes on.
PAUSE_AFTER_UNREACHABLE = 60.0
_paused_until = 0.0
_held = False


def _deliver(topic: str, event: StoredEvent, key: str) -> None:
    payload = event.payload()
    if template_for(topic, payload) is None:
        return  # not worth a message; skip before touching the database
    customer_id = payload.get("customer_id")
    if customer_id is None or not str(customer_id).isdigit():
        log.warning("notifications.no_customer_in_event", topic=topic, key=key)
        return
    db = configured_database()
    settings = notification_settings()
    result = service.notify(db, int(customer_id), topic, payload, key, settings=settings)
    if result is None or result.email_id is None or _held or time.monotonic() < _paused_until:
        return
    try:
        report = service.send_due_emails(db, settings, limit=1, ids=[result.email_id])
    except Exception as exc:  # the email stays queued; the periodic sender tries again
        log.warning("notifications.send_now_failed", email_id=result.email_id, error=repr(exc))
        return
    if report.unreachable:
        _pause()


@contextmanager
def emails_held() -> Iterator[None]:
    """Write notices but leave their emails to the periodic sender meanwhile: seeding a shop's
    past must not try the relay once per historical event."""
    global _held
    _held = True
    try:
        yield
    finally:
        _held = False


def _pause() -> None:
    global _paused_until
    _paused_until = time.monotonic() + PAUSE_AFTER_UNREACHABLE


def on_case_status_changed(event: StoredEvent, key: str) -> None:
    _deliver(Topic.CASE_STATUS_CHANGED, event, key)


def on_order_status_changed(event: StoredEvent, key: str) -> None:
    _deliver(Topic.ORDER_STATUS_CHANGED, event, key)


def on_refund_settled(event: StoredEvent, key: str) -> None:
    _deliver(Topic.REFUND_SETTLED, event, key)


def on_dispute_status_changed(event: StoredEvent, key: str) -> None:
    _deliver(Topic.DISPUTE_STATUS_CHANGED, event, key)


def on_agent_public_reply(event: StoredEvent, key: str) -> None:
    """An agent wrote to the buyer: the governor hears of it (tickets sit above notifications, so
    the fact comes as their event, read as stored)."""
    fields = event.fields
    customer_id = fields.get("customer_id")
    if customer_id is None or not str(customer_id).isdigit():
        return
    at = event_time(dict(fields), clock.now())
    service.agent_contacted(configured_database(), int(customer_id), str(fields.get("order_number") or ""), at, key)


def on_survey_sent(event: StoredEvent, key: str) -> None:
    _deliver(Topic.SURVEY_SENT, event, key)


def register() -> None:
    """Subscribe to the topics customers hear about; calling it again changes nothing."""
    global _registered
    if not _registered:
        on_topic(Topic.CASE_STATUS_CHANGED.value, on_case_status_changed)
        on_topic(Topic.ORDER_STATUS_CHANGED.value, on_order_status_changed)
        on_topic(Topic.REFUND_SETTLED.value, on_refund_settled)
        on_topic(Topic.DISPUTE_STATUS_CHANGED.value, on_dispute_status_changed)
        on_topic(topics.TICKET_PUBLIC_REPLY, on_agent_public_reply)
        on_topic(Topic.SURVEY_SENT.value, on_survey_sent)
        _registered = True
