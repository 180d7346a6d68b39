"""Typed events, one path per fact: every event class has one topic, is built (so published) in
one module of its own context, and no context writes an untyped message to the outbox."""

from __future__ import annotations

import ast
import json
from dataclasses import FrozenInstanceError, dataclass, fields
from typing import Any, ClassVar

import pytest

from aftersales.kit import events
from aftersales.kit.events import DomainEvent, StoredEvent, event_type, payload_key

from .event_sources import SRC, all_event_types, events_modules, publishers, raw_outbox_publishes

# The payload keys the outbox has always stored for each topic: rows written before the events
# were typed must still be read, and consumers outside (webhooks) rely on them.
STORED_SHAPES = {
    "order.status_changed": {"order", "order_id", "customer_id", "from", "to", "occurred_at"},
    "case.status_changed": {
        "case_id", "case_number", "customer_id", "merchant_id", "order_number", "kind", "from", "to", "occurred_at",
        "amount", "shipping_share", "currency",
    },
    "refund.requested": {"refund_id"},
    "refund.settled": {
        "refund_id", "case_id", "customer_id", "order_number", "status", "amount", "currency", "occurred_at",
    },
    "sla.warning": {"subject_id", "metric", "target_at", "clock_id"},
    "sla.breached": {"subject_id", "metric", "target_at", "clock_id"},
    "routing.assigned": {"kind", "ref", "user_id", "group_key", "reason", "by_user_id", "from_user_id", "note"},
    "tickets.solved": {"ticket_number", "conversation_id", "occurred_at"},
    "tickets.public_reply": {
        "ticket_number", "conversation_id", "message_id", "author_name", "body", "channel", "occurred_at",
        "author_user_id", "first", "customer_id", "order_number",
    },
    "tickets.opened": {
        "ticket_number", "ticket_id", "channel", "customer_id", "order_number", "occurred_at", "conversation_id",
    },
    "tickets.reopened": {"ticket_number", "ticket_id", "occurred_at"},
    "sla.met": {
        "subject_id", "metric", "cause", "clock_id", "started_at", "occurred_at", "elapsed_seconds", "target_seconds",
        "late",
    },
    "cases.self_service_done": {"order_id", "customer_id", "merchant_id", "action", "occurred_at"},
    "dispute.status_changed": {
        "dispute_id", "dispute_number", "case_number", "order_number", "customer_id", "merchant_id", "action",
        "from", "to", "occurred_at",
    },
    "dispute.ruled": {
        "dispute_id", "dispute_number", "order_number", "merchant_id", "liability", "outcome", "amount", "currency",
        "occurred_at",
    },
    "dispute.appeal_decided": {"dispute_id", "dispute_number", "merchant_id", "result", "occurred_at"},
    "wallet.coupon_issued": {
        "customer_id", "code", "amount", "currency", "trigger", "order_number", "expires_at", "occurred_at",
    },
    "survey.sent": {
        "survey_id", "customer_id", "subject_type", "subject_ref", "order_number", "survey_link", "expires_at",
        "occurred_at",
    },
    "csat.submitted": {
        "survey_id", "subject_type", "ticket_number", "case_number", "order_number", "customer_id", "merchant_id",
        "channel", "agent_ids", "result", "speed", "attitude", "reason_tags", "comment", "sent_at", "answered_at",
    },
}  # fmt: skip


def _sample(cls: type[DomainEvent]) -> DomainEvent:
    values: dict[str, Any] = {}
    for n, f in enumerate(fields(cls)):  # type: ignore[arg-type]
        values[f.name] = n + 7 if str(f.type).startswith("int") else f"v{n}"
    return cls(**values)


def test_every_topic_has_one_event_class_in_its_context() -> None:
    types = all_event_types()
    assert set(types) == set(STORED_SHAPES)
    for topic, cls in types.items():
        assert cls.__module__ == f"aftersales.{cls.__module__.split('.')[1]}.events", topic
        assert event_type(topic) is cls


def test_every_event_has_exactly_one_publisher_in_its_own_context() -> None:
    found = publishers()
    for topic, where in found.items():
        context = all_event_types()[topic].__module__.split(".")[1]
        assert len(where) == 1, f"{topic} is built in {sorted(where)}: one publisher per fact"
        [module] = where
        assert module.startswith(f"{context}/"), f"{topic} is published outside its context, in {module}"


def test_contexts_publish_only_typed_events() -> None:
    assert raw_outbox_publishes() == []


def test_events_modules_import_only_kit() -> None:
    for path in events_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        ours = [
            node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("aftersales.")
        ]
        assert all(m.startswith("aftersales.kit.") for m in ours), f"{path.relative_to(SRC)} imports {ours}"


@pytest.mark.parametrize("topic", sorted(STORED_SHAPES))
def test_an_event_survives_the_outbox_and_keeps_the_stored_shape(topic: str) -> None:
    cls = all_event_types()[topic]
    event = _sample(cls)
    stored = json.loads(json.dumps(event.payload()))  # what the JSON column gives back
    assert set(stored) == STORED_SHAPES[topic]
    assert cls.from_payload(stored) == event
    with pytest.raises(FrozenInstanceError):
        setattr(event, fields(cls)[0].name, 1)  # type: ignore[arg-type]


def test_reading_rows_back_is_lenient_only_where_it_is_safe() -> None:
    from aftersales.orders.events import OrderStatusChanged

    old = {"order": "SO-1", "order_id": "12", "from": None, "to": "paid", "later": "ignored"}
    event = OrderStatusChanged.from_payload(old)  # no customer_id: an optional field is None
    assert event == OrderStatusChanged("SO-1", 12, None, None, "paid")
    with pytest.raises(ValueError, match="without 'order_id'"):
        OrderStatusChanged.from_payload({"order": "SO-1", "to": "paid"})


def test_a_topic_belongs_to_one_class(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events, "_BY_TOPIC", dict(events._BY_TOPIC))  # leave the real ones as they were

    @dataclass(frozen=True, slots=True)
    class Once(DomainEvent):
        topic: ClassVar[str] = "test.once"
        to_status: str = payload_key("to")

    assert Once("x").payload() == {"to": "x"}
    with pytest.raises(TypeError, match=r"two events claim the topic 'test\.once'"):

        @dataclass(frozen=True, slots=True)
        class Twice(DomainEvent):
            topic: ClassVar[str] = "test.once"


def test_a_stored_event_keeps_its_fields_as_they_were() -> None:
    fields_ = {"order": "SO-1", "to": "shipped"}
    assert StoredEvent("order.status_changed", fields_).payload() == fields_
