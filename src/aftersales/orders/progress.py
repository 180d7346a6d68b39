"""A shipment's state after its scans change: status, node, place and times derived from all its
events, a timeline line when the status moves, and the order moved along (shipped, delivered)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from aftersales.kit import clock
from aftersales.orders import domain
from aftersales.orders.domain import LogisticsNode, NodeEvent, OrderStatus, ShipmentStatus
from aftersales.orders.models import Order, Shipment
from aftersales.orders.recording import record_status
from aftersales.orders.repository import OrdersRepository
from aftersales.timeline import service as timeline
from aftersales.timeline.domain import Actor, Entry, SubjectType


def refresh_shipment(session: Session, repo: OrdersRepository, order: Order, shipment: Shipment, actor: Actor) -> None:
    events = [NodeEvent(LogisticsNode(e.node), e.occurred_at, e.place) for e in shipment.events]
    status, latest = domain.shipment_state(events)
    before = shipment.status
    shipment.status = status.value
    shipment.current_node = latest.node.value if latest else None
    shipment.current_place = latest.place if latest else ""
    shipment.last_event_at = max((e.occurred_at for e in events), default=None)
    if status is ShipmentStatus.DELIVERED and latest is not None:
        shipment.delivered_at = latest.occurred_at
    moving = [e for e in events if e.node is not LogisticsNode.INFO_RECEIVED]  # label data is not the parcel
    if moving:
        # The earliest scan, whatever order the scans arrived in.
        first_scan = min(e.occurred_at for e in moving)
        shipment.shipped_at = min(first_scan, shipment.shipped_at) if shipment.shipped_at else first_scan
    if before != shipment.status:
        # Same Entry shape as other contexts' timeline lines on purpose: each records its own subject.
        timeline.record(
            session,
            Entry(
                subject_type=SubjectType.SHIPMENT,
                subject_id=shipment.id,
                action="shipment.status_changed",
                actor=actor,
                occurred_at=shipment.last_event_at or clock.now(),
                from_state=before,
                to_state=shipment.status,
                reason=f"{shipment.carrier} {shipment.tracking_number}: {shipment.current_place}".strip(),
                evidence={"tracking_number": shipment.tracking_number, "node": shipment.current_node},
            ),
        )
    statuses = [ShipmentStatus(s.status) for s in repo.shipments_of_order(order.id)]
    previous = OrderStatus(order.status)
    target = domain.order_status_after_shipments(previous, statuses)
    if target is not previous:
        order.status = target.value
        order.updated_at = clock.now()
        if target is OrderStatus.DELIVERED:
            order.delivered_at = max(s.delivered_at for s in repo.shipments_of_order(order.id) if s.delivered_at)
        session.flush()
        record_status(session, order, previous, actor, "logistics update", shipment.last_event_at or clock.now())
