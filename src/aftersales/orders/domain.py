"""Order and shipment lifecycles as transition tables, and the pure rules around them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from aftersales.kit.money import allocate


# Deliberately separate: this context's own vocabulary. Enums in other contexts share the StrEnum
# shape, not the meaning; each is imported from the context that owns it.
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
    # What the shop reports of money given back on the platform (the refunds are on the order).
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


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
# Money given back on the platform: from a paid order up to its delivery. A completed order stays
# completed (its refunds are recorded on it and shown); a full refund may still be cancelled.
REFUND_STATES = frozenset({OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED})
for _paid in (OrderStatus.PAID, OrderStatus.FULFILLING, OrderStatus.SHIPPED, OrderStatus.DELIVERED):
    ORDER_TRANSITIONS[_paid] = ORDER_TRANSITIONS[_paid] | REFUND_STATES
ORDER_TRANSITIONS[OrderStatus.PARTIALLY_REFUNDED] = frozenset({OrderStatus.REFUNDED, OrderStatus.CANCELLED})
ORDER_TRANSITIONS[OrderStatus.REFUNDED] = frozenset({OrderStatus.CANCELLED})


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
    # A refund is later news than any progress a lagging feed reports; a refund reported on a
    # completed or cancelled order is kept as money on the order, not as its status.
    if (current in REFUND_STATES and reported in _FORWARD) or reported in REFUND_STATES:
        return current
    return None


def status_with_refunds(reported: OrderStatus, refunded: Decimal, payable: Decimal) -> OrderStatus:
    """The status an order's refunds give it when the shop's own status does not say (WooCommerce
    keeps "processing" after a partial refund): everything paid back is refunded, part of it is
    partially refunded. An unpaid, cancelled or completed order keeps the status reported."""
    if refunded <= 0 or reported in (OrderStatus.CREATED, OrderStatus.CANCELLED, OrderStatus.COMPLETED):
        return reported
    if reported is OrderStatus.REFUNDED or refunded >= payable:
        return OrderStatus.REFUNDED
    return OrderStatus.PARTIALLY_REFUNDED


def refunds_problem(refunded: Decimal, payable: Decimal) -> str | None:
    """Why the refunds recorded on an order cannot be right, naming the field; None when they can."""
    if refunded > payable:
        return f"refunds: {refunded} refunded in all is more than the order's payable total {payable}"
    return None


def payable_total(goods: Decimal, shipping: Decimal, discount: Decimal, tax: Decimal, taxes_included: bool) -> Decimal:
    """What the buyer pays: goods and shipping less the discount, plus the tax when prices are
    quoted without it (with taxes included, the tax is already inside the prices: shown, not added)."""
    return goods + shipping - discount + (Decimal(0) if taxes_included else tax)


class ShipmentStatus(StrEnum):
    PENDING = "pending"  # label printed, not yet collected
    INFO_RECEIVED = "info_received"  # the carrier has the label data, not yet the parcel
    PICKED_UP = "picked_up"
    IN_TRANSIT = "in_transit"
    AT_STATION = "at_station"  # arrived at the last-mile delivery station
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"  # damaged, lost, refused, address problem
    RETURNED = "returned"  # on its way back to, or back with, the sender


class LogisticsNode(StrEnum):
    """What a carrier reports; each node moves the shipment to one status. The order of the members
    is the order along the way (NODE_RANK)."""

    INFO_RECEIVED = "info_received"
    PICKED_UP = "picked_up"
    DEPARTED_HUB = "departed_hub"
    IN_TRANSIT = "in_transit"  # moving, without a hub named
    ARRIVED_HUB = "arrived_hub"
    ARRIVED_STATION = "arrived_station"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"
    RETURNED = "returned"


class ExceptionReason(StrEnum):
    """Why a scan is an exception, as carriers' vocabularies tell it."""

    REFUSED = "refused"
    DAMAGED = "damaged"
    BAD_ADDRESS = "bad_address"
    FAILED_DELIVERY = "failed_delivery"
    CUSTOMS_HOLD = "customs_hold"
    LOST = "lost"
    OTHER = "other"


NODE_STATUS: dict[LogisticsNode, ShipmentStatus] = {
    LogisticsNode.INFO_RECEIVED: ShipmentStatus.INFO_RECEIVED,
    LogisticsNode.PICKED_UP: ShipmentStatus.PICKED_UP,
    LogisticsNode.DEPARTED_HUB: ShipmentStatus.IN_TRANSIT,
    LogisticsNode.IN_TRANSIT: ShipmentStatus.IN_TRANSIT,
    LogisticsNode.ARRIVED_HUB: ShipmentStatus.IN_TRANSIT,
    LogisticsNode.ARRIVED_STATION: ShipmentStatus.AT_STATION,
    LogisticsNode.OUT_FOR_DELIVERY: ShipmentStatus.OUT_FOR_DELIVERY,
    LogisticsNode.DELIVERED: ShipmentStatus.DELIVERED,
    LogisticsNode.EXCEPTION: ShipmentStatus.EXCEPTION,
    LogisticsNode.RETURNED: ShipmentStatus.RETURNED,
}
# Before the carrier has the parcel: not shipped yet.
NOT_YET_MOVING = frozenset({ShipmentStatus.PENDING, ShipmentStatus.INFO_RECEIVED})
# Scans that say the parcel has left the sender; "info received" is only the label's data.
MOVING_NODES = frozenset(LogisticsNode) - {LogisticsNode.INFO_RECEIVED}
# Order of nodes along the way, to break ties between events stamped with the same time.
NODE_RANK = {node: rank for rank, node in enumerate(LogisticsNode)}


@dataclass(frozen=True, slots=True)
class NodeEvent:
    node: LogisticsNode
    occurred_at: datetime
    place: str = ""


def shipment_state(events: Iterable[NodeEvent]) -> tuple[ShipmentStatus, NodeEvent | None]:
    """The shipment's status from its events, whatever order they arrived in.

    The latest event by time decides; delivery (or the return to the sender) is final once
    reported, because carriers sometimes send late scans of earlier hubs after the parcel was signed
    for: the later of the two, when a returned parcel is delivered after all or a delivered one goes back.
    """
    ordered = sorted(events, key=lambda e: (e.occurred_at, NODE_RANK[e.node], e.place))
    if not ordered:
        return ShipmentStatus.PENDING, None
    final = [e for e in ordered if e.node in (LogisticsNode.DELIVERED, LogisticsNode.RETURNED)]
    if final:
        return NODE_STATUS[final[-1].node], final[-1]
    return NODE_STATUS[ordered[-1].node], ordered[-1]


def order_status_after_shipments(current: OrderStatus, statuses: list[ShipmentStatus]) -> OrderStatus:
    """What logistics tells us about the order: moving shipments mean shipped, all delivered
    means delivered. Never moves an order backwards or out of a final state."""
    if not statuses or current in (OrderStatus.CANCELLED, OrderStatus.COMPLETED) or current in REFUND_STATES:
        return current
    if all(s is ShipmentStatus.DELIVERED for s in statuses):
        target = OrderStatus.DELIVERED
    elif any(s not in NOT_YET_MOVING for s in statuses):
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
    tax: Decimal = Decimal(0)  # its share of a tax added on top of prices quoted without it

    @property
    def paid(self) -> Decimal:
        return self.goods - self.discount + self.shipping + self.tax


def paid_shares(
    line_totals: Sequence[Decimal],
    shipping_fee: Decimal,
    discount_total: Decimal,
    currency: str,
    *,
    tax_added: Decimal = Decimal(0),
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
    taxes = allocate(tax_added, line_totals, currency)
    return [LineShare(t, d, s, x) for t, d, s, x in zip(line_totals, discounts, shipping, taxes, strict=True)]


def captured_shares(paid: Sequence[Decimal], captured: Decimal, currency: str) -> list[Decimal]:
    """What the payments captured on each line: the lines' paid shares when the order is paid in
    full (the normal case), else the captured sum shared out in proportion to them."""
    payable = sum(paid, Decimal(0))
    if captured >= payable:
        return list(paid)
    return allocate(max(captured, Decimal(0)), paid, currency)


# Carriers' and shops' clocks differ a little; times within this of each other are not contradictions.
DEFAULT_CLOCK_SKEW = timedelta(minutes=5)


def shipped_from(events: Iterable[NodeEvent], stored_shipped_at: datetime | None) -> datetime | None:
    """When the parcel is known to have left: its pick-up scan, or the shipped time the shop sent.

    The stored shipped time is the earliest of the shop's and every scan's, so it is the shop's
    only when it is earlier than every scan. Other scans do not count: a late hub scan may be
    stamped after the delivery, so it says nothing about when the parcel left."""
    known = [e for e in events if e.node is not LogisticsNode.INFO_RECEIVED]  # label data is not the parcel
    pickups = [e.occurred_at for e in known if e.node is LogisticsNode.PICKED_UP]
    first_scan = min((e.occurred_at for e in known), default=None)
    if stored_shipped_at is not None and (first_scan is None or stored_shipped_at < first_scan):
        pickups.append(stored_shipped_at)
    return min(pickups, default=None)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def event_time_problem(
    event: NodeEvent, known: Iterable[NodeEvent], stored_shipped_at: datetime | None, now: datetime, skew: timedelta
) -> str | None:
    """Why a scan's time is impossible, naming the field; None when it is possible.

    Refused: a time in the future (past the allowed clock difference), a delivery before the
    parcel left, a pick-up after it was delivered. Everything else is accepted in any order."""
    scans = list(known)
    minutes = int(skew.total_seconds() // 60)
    if event.occurred_at > now + skew:
        return (
            f"occurred_at: {_utc(event.occurred_at)} is in the future (it is now {_utc(now)}, and clocks may "
            f"differ by {minutes} minutes at most); send the time the scan happened"
        )
    if event.node is LogisticsNode.DELIVERED:
        left = shipped_from(scans, stored_shipped_at)
        if left is not None and event.occurred_at < left - skew:
            return (
                f"occurred_at: the delivery at {_utc(event.occurred_at)} is before the parcel was shipped "
                f"at {_utc(left)}; check the delivery time"
            )
    if event.node is LogisticsNode.PICKED_UP:
        delivered = min((e.occurred_at for e in scans if e.node is LogisticsNode.DELIVERED), default=None)
        if delivered is not None and event.occurred_at > delivered + skew:
            return (
                f"occurred_at: the pick-up at {_utc(event.occurred_at)} is after the parcel was delivered "
                f"at {_utc(delivered)}; check the pick-up time"
            )
    return None


# A customer's identity: who notifications reach and who the desk believes it is talking to.
CUSTOMER_IDENTITY_FIELDS = ("name", "phone", "email", "tier")


def may_rewrite_customer(owner_merchant_id: int | None, writer_merchant_id: int | None) -> bool:
    """A platform-wide writer may correct any customer; a merchant's feed only the customers it
    created. Others' customers it may still attach its orders to, without changing who they are."""
    return writer_merchant_id is None or owner_merchant_id == writer_merchant_id


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


# --- order numbers as shops write them ------------------------------------------------------------
ORDER_NUMBER_MAX = 64
# Characters a number may not hold: they would end or split the page's address (/orders/<number>).
_NOT_IN_NUMBERS = frozenset('/\\#?%"<>`{}|^[]')


def order_number_problem(number: str) -> str | None:
    """Why a shop's order number cannot be ours as written, or None. Shops write numbers their
    own way (Magento "000000123", WooCommerce "WC-1001", "2024/0001" no): printable characters, no
    whitespace, none that would break the order's address, at most 64, starting with a letter or digit."""
    if not 1 <= len(number) <= ORDER_NUMBER_MAX:
        return f"must be 1 to {ORDER_NUMBER_MAX} characters long"
    if not number[0].isalnum():
        return "must start with a letter or a digit"
    for char in number:
        if char.isspace() or not char.isprintable():
            return f"must not contain whitespace or control characters (found {char!r})"
        if char in _NOT_IN_NUMBERS:
            return f"must not contain {char!r}"
    return None
