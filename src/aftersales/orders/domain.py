"""Order and shipment lifecycles as transition tables, and the pure rules around them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from aftersales.kit.money import allocate


class MerchantKind(StrEnum):
    SELF_OPERATED = "self_operated"  # 自营
    POP = "pop"  # marketplace merchant


class CustomerTier(StrEnum):
    REGULAR = "regular"
    VIP = "vip"
    SVIP = "svip"


class OrderStatus(StrEnum):
    CREATED = "created"  # placed, awaiting payment
    PAID = "paid"
    FULFILLING = "fulfilling"  # picked and packed in the warehouse
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    COMPLETED = "completed"  # receipt confirmed or auto-confirmed
    CANCELLED = "cancelled"


# Forward moves may skip steps: an order feed can lag and report "shipped" straight after "paid".
_FORWARD = [
    OrderStatus.CREATED,
    OrderStatus.PAID,
    OrderStatus.FULFILLING,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.COMPLETED,
]
ORDER_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    status: frozenset(_FORWARD[i + 1 :])
    | (
        frozenset({OrderStatus.CANCELLED})
        if status in (OrderStatus.CREATED, OrderStatus.PAID, OrderStatus.FULFILLING)
        else frozenset()
    )
    for i, status in enumerate(_FORWARD)
}
ORDER_TRANSITIONS[OrderStatus.CANCELLED] = frozenset()


def can_move_order(current: OrderStatus, target: OrderStatus) -> bool:
    return target == current or target in ORDER_TRANSITIONS[current]


def resolve_reported_status(current: OrderStatus, reported: OrderStatus) -> OrderStatus | None:
    """The status to keep when the shop reports one. Logistics may have moved the order past
    what a lagging feed says (it says "paid", the parcel is already delivered): keep ours.
    None means the move is impossible (a cancelled order cannot be paid, a delivered one
    cannot be cancelled)."""
    if can_move_order(current, reported):
        return reported
    if current in _FORWARD and reported in _FORWARD and _FORWARD.index(reported) < _FORWARD.index(current):
        return current
    return None


class ShipmentStatus(StrEnum):
    PENDING = "pending"  # label printed, not yet collected
    PICKED_UP = "picked_up"
    IN_TRANSIT = "in_transit"
    AT_STATION = "at_station"  # arrived at the last-mile delivery station
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"  # damaged, lost, refused, address problem


class LogisticsNode(StrEnum):
    """What a carrier reports; each node moves the shipment to one status."""

    PICKED_UP = "picked_up"
    DEPARTED_HUB = "departed_hub"
    ARRIVED_HUB = "arrived_hub"
    ARRIVED_STATION = "arrived_station"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"


NODE_STATUS: dict[LogisticsNode, ShipmentStatus] = {
    LogisticsNode.PICKED_UP: ShipmentStatus.PICKED_UP,
    LogisticsNode.DEPARTED_HUB: ShipmentStatus.IN_TRANSIT,
    LogisticsNode.ARRIVED_HUB: ShipmentStatus.IN_TRANSIT,
    LogisticsNode.ARRIVED_STATION: ShipmentStatus.AT_STATION,
    LogisticsNode.OUT_FOR_DELIVERY: ShipmentStatus.OUT_FOR_DELIVERY,
    LogisticsNode.DELIVERED: ShipmentStatus.DELIVERED,
    LogisticsNode.EXCEPTION: ShipmentStatus.EXCEPTION,
}
# Order of nodes along the way, to break ties between events stamped with the same time.
NODE_RANK = {node: rank for rank, node in enumerate(LogisticsNode)}


@dataclass(frozen=True, slots=True)
class NodeEvent:
    node: LogisticsNode
    occurred_at: datetime
    place: str = ""


def shipment_state(events: Iterable[NodeEvent]) -> tuple[ShipmentStatus, NodeEvent | None]:
    """The shipment's status from its events, whatever order they arrived in.

    The latest event by time decides; delivery is final once reported, because carriers
    sometimes send late scans of earlier hubs after the parcel was signed for.
    """
    ordered = sorted(events, key=lambda e: (e.occurred_at, NODE_RANK[e.node], e.place))
    if not ordered:
        return ShipmentStatus.PENDING, None
    delivered = [e for e in ordered if e.node is LogisticsNode.DELIVERED]
    if delivered:
        return ShipmentStatus.DELIVERED, delivered[-1]
    return NODE_STATUS[ordered[-1].node], ordered[-1]


def order_status_after_shipments(current: OrderStatus, statuses: list[ShipmentStatus]) -> OrderStatus:
    """What logistics tells us about the order: moving shipments mean shipped, all delivered
    means delivered. Never moves an order backwards or out of a final state."""
    if not statuses or current in (OrderStatus.CANCELLED, OrderStatus.COMPLETED):
        return current
    if all(s is ShipmentStatus.DELIVERED for s in statuses):
        target = OrderStatus.DELIVERED
    elif any(s is not ShipmentStatus.PENDING for s in statuses):
        target = OrderStatus.SHIPPED
    else:
        return current
    return target if target in ORDER_TRANSITIONS[current] else current


@dataclass(frozen=True, slots=True)
class Lateness:
    late: bool
    overdue: timedelta


def lateness(promised_at: datetime | None, delivered_at: datetime | None, now: datetime) -> Lateness:
    """Late when the promise has passed without delivery, or delivery came after it."""
    if promised_at is None:
        return Lateness(False, timedelta(0))
    reference = delivered_at or now
    overdue = reference - promised_at
    return Lateness(overdue > timedelta(0), max(overdue, timedelta(0)))


def version_is_newer(incoming: tuple[int, datetime], stored: tuple[int, datetime] | None) -> bool:
    """An order update applies only when its (version, update time) is past what we hold:
    replays and older versions change nothing."""
    return stored is None or incoming > stored


def check_currency_consistent(order_currency: str, line_currencies: Iterable[str]) -> str | None:
    for currency in line_currencies:
        if currency != order_currency:
            return f"line currency {currency} differs from the order currency {order_currency}"
    return None


@dataclass(frozen=True, slots=True)
class LineShare:
    """One line's part of what the buyer paid for the order."""

    goods: Decimal  # unit price × quantity
    discount: Decimal  # its share of the order-level discount
    shipping: Decimal  # its share of the shipping fee

    @property
    def paid(self) -> Decimal:
        return self.goods - self.discount + self.shipping


def paid_shares(
    line_totals: Sequence[Decimal], shipping_fee: Decimal, discount_total: Decimal, currency: str
) -> list[LineShare]:
    """What each line was paid, as help promises: the order's discount and its shipping shared out
    over the lines in proportion to their value (largest remainder, to the minor unit), so the
    lines add up exactly to the payable total and no line's discount exceeds the line. A discount
    larger than the goods (shipping waived too) takes the rest off the shipping."""
    goods = sum(line_totals, Decimal(0))
    on_goods = min(discount_total, goods)
    shipping_left = max(shipping_fee - (discount_total - on_goods), Decimal(0))
    discounts = allocate(on_goods, line_totals, currency)
    shipping = allocate(shipping_left, line_totals, currency)
    return [LineShare(t, d, s) for t, d, s in zip(line_totals, discounts, shipping, strict=True)]


def captured_shares(paid: Sequence[Decimal], captured: Decimal, currency: str) -> list[Decimal]:
    """What the payments captured on each line: the lines' paid shares when the order is paid in
    full (the normal case), else the captured sum shared out in proportion to them."""
    payable = sum(paid, Decimal(0))
    if captured >= payable:
        return list(paid)
    return allocate(max(captured, Decimal(0)), paid, currency)


# --- the platform's own riders --------------------------------------------------------------------
class DeliveryMark(StrEnum):
    """What a rider reports from the road; each becomes a logistics node, as a carrier's scan would."""

    PICKED_UP = "picked_up"  # the rider has the parcel and sets off to the customer
    DELIVERED = "delivered"
    FAILED = "failed"  # an attempt that did not reach the customer, with a reason and a photo


MARK_NODE: dict[DeliveryMark, LogisticsNode] = {
    DeliveryMark.PICKED_UP: LogisticsNode.OUT_FOR_DELIVERY,
    DeliveryMark.DELIVERED: LogisticsNode.DELIVERED,
    DeliveryMark.FAILED: LogisticsNode.EXCEPTION,
}


class FailureReason(StrEnum):
    NOT_HOME = "not_home"
    UNREACHABLE = "unreachable"  # phone not answered
    WRONG_ADDRESS = "wrong_address"
    REFUSED = "refused"
    OTHER = "other"


# How a failed attempt reads in the logistics trail (stored text, like a carrier's description).
FAILURE_TEXT: dict[FailureReason, str] = {
    FailureReason.NOT_HOME: "配送未成功：收件人不在",
    FailureReason.UNREACHABLE: "配送未成功：电话无人接听",
    FailureReason.WRONG_ADDRESS: "配送未成功：地址有误",
    FailureReason.REFUSED: "配送未成功：收件人拒收",
    FailureReason.OTHER: "配送未成功",
}

# Shipments on a rider's list: on their way, not yet delivered (a pending label is not shipped yet).
RIDER_OPEN = frozenset(
    {
        ShipmentStatus.PICKED_UP,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.AT_STATION,
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.EXCEPTION,
    }
)


def marks_allowed(status: ShipmentStatus) -> tuple[DeliveryMark, ...]:
    """What a rider may report next: pick the parcel up, then delivered or failed; after a failed
    attempt, pick it up again for the next try. Nothing once delivered or before it has shipped."""
    if status not in RIDER_OPEN:
        return ()
    if status is ShipmentStatus.OUT_FOR_DELIVERY:
        return (DeliveryMark.DELIVERED, DeliveryMark.FAILED)
    return (DeliveryMark.PICKED_UP,)
