"""Small builders and read-backs shared by the integration tests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.kit.access import Principal, Role
from aftersales.messaging.models import OutboxMessage
from aftersales.orders import service as orders
from aftersales.orders.domain import LogisticsNode
from aftersales.orders.models import LogisticsEvent
from aftersales.orders.schemas import LogisticsEventIn, OrderIn
from aftersales.timeline.models import TimelineEvent

from ..factories import FEED, T0, Factory

ADMIN = Principal(user_id=0, username="root", role=Role.ADMIN, display_name="root")
CARRIER = "SF"


def scan(
    event_id: str, tracking: str, node: LogisticsNode | str, minutes: int, place: str = "", carrier: str = CARRIER
) -> LogisticsEventIn:
    """A carrier scan `minutes` after the factories' T0."""
    return LogisticsEventIn(
        event_id=event_id,
        carrier=carrier,
        tracking_number=tracking,
        node=LogisticsNode(node),
        occurred_at=T0 + timedelta(minutes=minutes),
        place=place,
    )


def shipment(tracking: str, *, rider: str | None = None, carrier: str = CARRIER) -> dict[str, Any]:
    data: dict[str, Any] = {"carrier": carrier, "tracking_number": tracking}
    if rider:
        data["rider"] = rider
    return data


def timeline_rows(db: Database, subject_type: str | None = None) -> list[dict[str, Any]]:
    """Timeline entries as plain dicts, oldest first."""
    stmt = select(TimelineEvent).order_by(TimelineEvent.id)
    if subject_type:
        stmt = stmt.where(TimelineEvent.subject_type == subject_type)
    with db.read() as uow:
        return [
            {
                "subject_type": row.subject_type,
                "subject_id": row.subject_id,
                "action": row.action,
                "actor_kind": row.actor_kind,
                "actor_name": row.actor_name,
                "actor_user_id": row.actor_user_id,
                "from_state": row.from_state,
                "to_state": row.to_state,
                "reason": row.reason,
            }
            for row in uow.session.scalars(stmt)
        ]


STATUS_ACTIONS = ("order.created", "order.status_changed")


def status_entries(db: Database) -> list[dict[str, Any]]:
    """The order's status history: its creation and every status change (not other revisions)."""
    return [row for row in timeline_rows(db, "order") if row["action"] in STATUS_ACTIONS]


def outbox_rows(db: Database, topic: str | None = None) -> list[dict[str, Any]]:
    stmt = select(OutboxMessage).order_by(OutboxMessage.id)
    if topic:
        stmt = stmt.where(OutboxMessage.topic == topic)
    with db.read() as uow:
        return [
            {
                "topic": m.topic,
                "payload": m.payload,
                "idempotency_key": m.idempotency_key,
                "available_at": m.available_at,
                "delivered_at": m.delivered_at,
                "attempts": m.attempts,
                "last_error": m.last_error,
            }
            for m in uow.session.scalars(stmt)
        ]


def count_logistics_events(db: Database) -> int:
    with db.read() as uow:
        return uow.session.scalar(select(func.count(LogisticsEvent.id))) or 0


def delivered_order(shop: Factory, db: Database, number: str, days_ago: int = 2, **payload_args: Any) -> None:
    """An order paid, shipped and delivered `days_ago` days ago, through the real feeds."""
    now = clock.now()
    payload = shop.order_payload(
        number,
        status="paid",
        updated_at=now - timedelta(days=days_ago + 2),
        shipments=[{"carrier": "SF", "tracking_number": f"T{number}"}],
        **payload_args,
    )
    payload["placed_at"] = payload["paid_at"] = (now - timedelta(days=days_ago + 3)).isoformat()
    payload["payments"] = [
        {
            "reference": f"P{number}",
            "method": "alipay",
            "amount": "398.00",
            "paid_at": (now - timedelta(days=days_ago + 3)).isoformat(),
        }
    ]
    orders.upsert_order(db, OrderIn.model_validate(payload), FEED)
    orders.record_logistics_event(
        db,
        LogisticsEventIn(
            event_id=f"E{number}",
            carrier="SF",
            tracking_number=f"T{number}",
            node="delivered",
            occurred_at=now - timedelta(days=days_ago),
        ),
        FEED,
    )
