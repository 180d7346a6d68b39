"""What the demo shop's orders went through, kept while seeding so that cases and tickets are
opened on orders whose story fits them: after delivery, about the goods really bought."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from aftersales.orders.domain import LogisticsNode, OrderStatus
from aftersales.orders.schemas import CustomerIn, LogisticsEventIn, OrderIn

from .catalogue import PRODUCTS

# sku code → (product name, category code)
_SKUS = {code: (name, category) for _m, category, name, _b, skus in PRODUCTS for code, _s, _p in skus}


@dataclass(frozen=True, slots=True)
class Line:
    line_no: int
    sku: str
    product: str
    category: str
    quantity: int


@dataclass(frozen=True, slots=True)
class OrderFacts:
    number: str
    merchant: str
    customer: CustomerIn
    status: OrderStatus
    placed_at: datetime
    lines: tuple[Line, ...]
    first_scan_at: datetime | None
    last_node: LogisticsNode | None
    last_scan_at: datetime | None

    @classmethod
    def of(cls, revisions: list[OrderIn], events: list[LogisticsEventIn]) -> OrderFacts:
        last = revisions[-1]
        lines = tuple(Line(line.line_no, line.sku, *_SKUS[line.sku], quantity=line.quantity) for line in last.lines)
        scan = max(events, key=lambda e: e.occurred_at, default=None)
        first = min(events, key=lambda e: e.occurred_at, default=None)
        # Field by field on purpose: this record's own fields; look-alikes elsewhere build others'.
        return cls(
            number=last.number,
            merchant=last.merchant_code,
            customer=last.customer,
            status=last.status,
            placed_at=last.placed_at,
            lines=lines,
            first_scan_at=first.occurred_at if first else None,
            last_node=scan.node if scan else None,
            last_scan_at=scan.occurred_at if scan else None,
        )

    @property
    def delivered_at(self) -> datetime | None:
        return self.last_scan_at if self.last_node is LogisticsNode.DELIVERED else None

    @property
    def in_transit(self) -> bool:
        return self.last_node is not None and self.last_node is not LogisticsNode.DELIVERED

    def on_the_way_at(self, moment: datetime) -> bool:
        """Picked up by the carrier and not yet delivered at that moment."""
        if self.first_scan_at is None or self.first_scan_at >= moment:
            return False
        return self.delivered_at is None or self.delivered_at > moment

    @property
    def categories(self) -> set[str]:
        return {line.category for line in self.lines}

    @property
    def first_product(self) -> str:
        return self.lines[0].product


@dataclass(slots=True)
class History:
    now: datetime
    orders: list[OrderFacts] = field(default_factory=list)
    # order number → the number of the case opened on it while seeding
    cases: dict[str, str] = field(default_factory=dict)
    # case number → its status when seeding ended, and when it last moved
    case_status: dict[str, str] = field(default_factory=dict)
    case_moved_at: dict[str, datetime] = field(default_factory=dict)

    def add(self, facts: OrderFacts) -> None:
        self.orders.append(facts)

    def delivered(self) -> list[OrderFacts]:
        return [o for o in self.orders if o.delivered_at is not None]

    def in_transit(self) -> list[OrderFacts]:
        return [o for o in self.orders if o.in_transit]
