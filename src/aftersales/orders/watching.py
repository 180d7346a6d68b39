"""The order as proactive service watches it: payment, lines out of stock, parcels and their latest
scan, read inside the caller's unit of work; and the stream of new scans for its intake."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from aftersales.orders.domain import NODE_RANK, LogisticsNode
from aftersales.orders.models import LogisticsEvent
from aftersales.orders.repository import OrdersRepository

# Orders whose parcels cross a border: their stall and loss thresholds are longer.
INTERNATIONAL_TAGS = frozenset({"international", "cross_border", "跨境"})


@dataclass(frozen=True, slots=True)
class ScanSeen:
    event_row_id: int
    node: str
    occurred_at: datetime
    place: str
    description: str


@dataclass(frozen=True, slots=True)
class ParcelSeen:
    shipment_id: int
    tracking_number: str
    status: str
    promised_at: datetime | None
    shipped_at: datetime | None
    last_event_at: datetime | None
    latest: ScanSeen | None


@dataclass(frozen=True, slots=True)
class OrderSeen:
    order_id: int
    number: str
    customer_id: int
    merchant_code: str
    status: str
    paid_at: datetime | None
    international: bool
    parcels: tuple[ParcelSeen, ...]
    out_of_stock_lines: tuple[int, ...]


def _latest(events: list[LogisticsEvent]) -> LogisticsEvent | None:
    def rank(e: LogisticsEvent) -> tuple[datetime, int, int]:
        node = LogisticsNode(e.node) if e.node in LogisticsNode.__members__.values() else None
        return (e.occurred_at, NODE_RANK[node] if node else -1, e.id)

    return max(events, key=rank, default=None)


def orders_seen_in(session: Session, order_ids: Collection[int]) -> list[OrderSeen]:
    repo = OrdersRepository(session)
    found = repo.orders_with_shipments(order_ids)
    by_shipment: dict[int, list[LogisticsEvent]] = {}
    for event in repo.events_of_shipments([s.id for o in found for s in o.shipments]):
        by_shipment.setdefault(event.shipment_id, []).append(event)
    out = []
    for order in found:
        parcels = []
        for s in order.shipments:
            latest = _latest(by_shipment.get(s.id, []))
            parcels.append(
                ParcelSeen(
                    shipment_id=s.id,
                    tracking_number=s.tracking_number,
                    status=s.status,
                    promised_at=s.promised_at,
                    shipped_at=s.shipped_at,
                    last_event_at=s.last_event_at,
                    latest=ScanSeen(latest.id, latest.node, latest.occurred_at, latest.place, latest.description)
                    if latest
                    else None,
                )
            )
        out.append(
            OrderSeen(
                order_id=order.id,
                number=order.number,
                customer_id=order.customer_id,
                merchant_code=order.merchant.code,
                status=order.status,
                paid_at=order.paid_at,
                international=bool(INTERNATIONAL_TAGS & set(order.tags or [])),
                parcels=tuple(parcels),
                out_of_stock_lines=tuple(line.line_no for line in order.lines if line.stock_status == "out_of_stock"),
            )
        )
    return out


def scans_since_in(session: Session, after_id: int, limit: int) -> list[tuple[int, int, datetime]]:
    """New scans after row `after_id`: (row id, order id, received at), oldest first."""
    return OrdersRepository(session).logistics_since(after_id, limit)
