"""How the orders context writes its facts on the timeline: a note, or a status change (which is
also published as an event for other contexts)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from aftersales.kit import clock
from aftersales.messaging.outbox import publish_event
from aftersales.orders.domain import OrderStatus
from aftersales.orders.events import OrderStatusChanged
from aftersales.orders.models import Order
from aftersales.timeline import service as timeline
from aftersales.timeline.domain import Actor, Entry, SubjectType


# The one way to note a fact on an order's timeline (cases' urges too); a keyword signature on purpose.
def record_note(
    session: Session,
    order_id: int,
    action: str,
    actor: Actor,
    reason: str,
    *,
    occurred_at: datetime | None = None,
    evidence: dict[str, object] | None = None,
    customer_visible: bool = True,
) -> None:
    """A fact about an order that is not a status change (address changed, a line out of stock)."""
    timeline.record(
        session,
        Entry(
            subject_type=SubjectType.ORDER,
            subject_id=order_id,
            action=action,
            actor=actor,
            occurred_at=occurred_at or clock.now(),
            reason=reason,
            evidence=dict(evidence or {}),
            customer_visible=customer_visible,
        ),
    )


# A keyword signature like record_note's on purpose: a status change carries its own states.
def record_status(
    session: Session,
    order: Order,
    previous: OrderStatus | None,
    actor: Actor,
    reason: str,
    occurred_at: datetime,
) -> None:
    # Same Entry shape as other contexts' timeline lines on purpose: each records its own subject.
    timeline.record(
        session,
        Entry(
            subject_type=SubjectType.ORDER,
            subject_id=order.id,
            action="order.created" if previous is None else "order.status_changed",
            actor=actor,
            occurred_at=occurred_at,
            from_state=previous.value if previous else None,
            to_state=order.status,
            reason=reason,
        ),
    )
    # Field by field on purpose: OrderStatusChanged's own fields; look-alikes elsewhere build others'.
    publish_event(
        session,
        OrderStatusChanged(
            order=order.number,
            order_id=order.id,
            customer_id=order.customer_id,
            from_status=previous.value if previous else None,
            to_status=order.status,
            occurred_at=clock.ensure_utc(occurred_at).isoformat(),
        ),
        idempotency_key=f"order:{order.id}:status:{order.status}:{order.source_version}:{order.version}",
    )
