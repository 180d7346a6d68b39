"""Proactive service: find the trouble before the customer does. Pure rules, no database.

Each detector looks at the facts of one order (its payment, lines and parcels) at a moment and
returns findings: a kind of trouble, its episode (the dedupe key: the same trouble seen twice is
one incident), when its first signal came, and when it is due (the moment it becomes an
incident). A finding due in the future tells the scan when to look at the order again, so the
scan reads only what is due. Thresholds are data (`DetectorRules`, per merchant where the
merchant's own promise matters: how fast it ships). Sources: docs/proactive.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

# A function that adds business time on the logistics calendar (working days, public holidays and
# make-up workdays 调休 honoured): given a start and a duration of open time, the moment it is over.
BusinessTime = Callable[[datetime, timedelta], datetime]


class IncidentKind(StrEnum):
    NOT_SHIPPED = "not_shipped"
    NOT_COLLECTED = "not_collected"
    STALLED = "stalled"
    LATE_RISK = "late_risk"
    CARRIER_EXCEPTION = "carrier_exception"
    OUT_OF_STOCK = "out_of_stock"
    PICKUP_UNCOLLECTED = "pickup_uncollected"
    PRESUMED_LOST = "presumed_lost"


class IncidentState(StrEnum):
    OPEN = "open"  # detected, the customer not told yet
    NOTIFIED = "notified"  # the customer has the notice with its answer
    RESOLVED = "resolved"  # the trouble is over (delivered, cancelled, moving again)


INCIDENT_TRANSITIONS: dict[IncidentState, frozenset[IncidentState]] = {
    IncidentState.OPEN: frozenset({IncidentState.NOTIFIED, IncidentState.RESOLVED}),
    IncidentState.NOTIFIED: frozenset({IncidentState.RESOLVED}),
    IncidentState.RESOLVED: frozenset(),
}


def can_move(current: IncidentState, target: IncidentState) -> bool:
    return target in INCIDENT_TRANSITIONS[current]


class ExceptionReason(StrEnum):
    """What went wrong at the carrier, normalised from the common vocabularies (docs/proactive.md)."""

    REFUSED = "refused"
    DAMAGED = "damaged"
    BAD_ADDRESS = "bad_address"
    RETURNED = "returned"
    CUSTOMS_HOLD = "customs_hold"
    FAILED_DELIVERY = "failed_delivery"


# Codes first (exact), then words in the scan's text. 快递100 疑难 (2xx) and states 4/6/14,
# 快递鸟 StateEx 4xx, 17TRACK sub-statuses, AfterShip Exception_0xx, Cainiao customs actions.
EXCEPTION_CODES: dict[str, ExceptionReason] = {
    "203": ExceptionReason.REFUSED,
    "14": ExceptionReason.REFUSED,
    "404": ExceptionReason.REFUSED,
    "Exception_Rejected": ExceptionReason.REFUSED,
    "DeliveryFailure_Rejected": ExceptionReason.REFUSED,
    "Exception_004": ExceptionReason.REFUSED,
    "209": ExceptionReason.DAMAGED,
    "Exception_Damage": ExceptionReason.DAMAGED,
    "Exception_Destroyed": ExceptionReason.DAMAGED,
    "Exception_009": ExceptionReason.DAMAGED,
    "207": ExceptionReason.BAD_ADDRESS,
    "DeliveryFailure_InvalidAddress": ExceptionReason.BAD_ADDRESS,
    "Exception_005": ExceptionReason.BAD_ADDRESS,
    "4": ExceptionReason.RETURNED,
    "6": ExceptionReason.RETURNED,
    "Exception_Returning": ExceptionReason.RETURNED,
    "Exception_Returned": ExceptionReason.RETURNED,
    "Exception_010": ExceptionReason.RETURNED,
    "Exception_011": ExceptionReason.RETURNED,
    "CC_IM_HOLD": ExceptionReason.CUSTOMS_HOLD,
    "CC_EX_HOLD": ExceptionReason.CUSTOMS_HOLD,
    "Exception_003": ExceptionReason.CUSTOMS_HOLD,
    "InTransit_CustomsRequiringInformation": ExceptionReason.CUSTOMS_HOLD,
    "204": ExceptionReason.FAILED_DELIVERY,
    "206": ExceptionReason.FAILED_DELIVERY,
    "405": ExceptionReason.FAILED_DELIVERY,
    "DeliveryFailure_NoBody": ExceptionReason.FAILED_DELIVERY,
    "DeliveryFailure_Security": ExceptionReason.FAILED_DELIVERY,
}
# Most specific first: "退回" in "拒收退回" is a return caused by a refusal: refused.
EXCEPTION_WORDS: tuple[tuple[ExceptionReason, tuple[str, ...]], ...] = (
    (ExceptionReason.REFUSED, ("拒收", "拒签", "refused", "rejected")),
    (ExceptionReason.DAMAGED, ("破损", "损坏", "损毁", "damaged", "destroyed")),
    (ExceptionReason.CUSTOMS_HOLD, ("海关", "清关", "扣关", "customs")),
    (
        ExceptionReason.BAD_ADDRESS,
        ("地址有误", "地址错误", "地址不详", "超区", "bad address", "wrong address", "invalid address", "address"),
    ),
    (ExceptionReason.RETURNED, ("退回", "退件", "返回寄件", "return to sender", "returned", "returning")),
)


def exception_reason(description: str, code: str = "") -> ExceptionReason:
    """What an exception scan means. An unknown code and text is a failed delivery attempt (the
    most common exception, and the one the customer can act on)."""
    known = EXCEPTION_CODES.get(code.strip())
    if known is not None:
        return known
    text = description.lower()
    for reason, words in EXCEPTION_WORDS:
        if any(word in text for word in words):
            return reason
    return ExceptionReason.FAILED_DELIVERY


# A person must act on these (a claim, a resend, a refund): they open a ticket.
NEEDS_A_PERSON_REASONS = frozenset({ExceptionReason.DAMAGED, ExceptionReason.RETURNED})

# A scan that says the parcel waits for the customer in a locker or at a station (快递柜, 驿站).
_PICKUP_POINT = re.compile(
    r"快递柜|丰巢|驿站|自提|待取|取件码|locker|pick-?up point|available for pick-?up", re.IGNORECASE
)


def at_pickup_point(description: str, place: str = "") -> bool:
    return bool(_PICKUP_POINT.search(description) or _PICKUP_POINT.search(place))


# --- facts -----------------------------------------------------------------------------------------
# Nodes, shipment and order statuses as the orders context writes them (its own words, as text).
MOVING = frozenset({"picked_up", "in_transit", "at_station", "out_for_delivery"})
UNSHIPPED_ORDER = frozenset({"paid", "fulfilling"})
OPEN_ORDER = frozenset({"created", "paid", "fulfilling", "shipped"})


@dataclass(frozen=True, slots=True)
class ScanFact:
    event_id: int  # the stored row's id: stable, and the dedupe key of an exception
    node: str
    occurred_at: datetime
    place: str = ""
    description: str = ""
    code: str = ""


@dataclass(frozen=True, slots=True)
class ParcelFact:
    shipment_id: int
    tracking_number: str
    status: str
    promised_at: datetime | None
    shipped_at: datetime | None  # when the shop says the label went out (or the first scan)
    last_event_at: datetime | None
    latest: ScanFact | None  # the latest scan by its own time


@dataclass(frozen=True, slots=True)
class OrderFact:
    order_id: int
    number: str
    customer_id: int
    merchant_code: str
    status: str
    paid_at: datetime | None
    international: bool
    parcels: tuple[ParcelFact, ...] = ()
    out_of_stock_lines: tuple[int, ...] = ()
    # When the latest change of this order reached us (the out-of-stock report's time).
    changed_at: datetime | None = None


# --- rules as data -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class DetectorRules:
    ship_within: timedelta = timedelta(hours=48)  # paid → shipped (WeChat: ≤ 48 h unless agreed)
    ship_warn_share: float = 0.8  # warn at 80 % of the window
    collect_within: timedelta = timedelta(hours=24)  # label → carrier acceptance (parcel)
    stall_domestic: timedelta = timedelta(hours=48)  # business hours without a new scan
    stall_international: timedelta = timedelta(days=5)  # business days × 24 h of business time
    pickup_within: timedelta = timedelta(hours=24)  # waiting in a locker / at a station
    lost_domestic: timedelta = timedelta(days=7)
    lost_international: timedelta = timedelta(days=10)


DEFAULT_RULES = DetectorRules()

# The rule fields an operator may set per merchant (detectors.yaml), in hours.
HOUR_FIELDS = ("ship_within", "collect_within", "stall_domestic", "stall_international", "pickup_within",
               "lost_domestic", "lost_international")  # fmt: skip


def rules_from_mapping(data: dict[str, object], base: DetectorRules = DEFAULT_RULES) -> DetectorRules:
    """`{ship_within_hours: 24, ship_warn_share: 0.8, …}` over `base`; ValueError names a bad entry."""
    changes: dict[str, object] = {}
    for key, value in data.items():
        name = key.removesuffix("_hours")
        if name in HOUR_FIELDS and key.endswith("_hours"):
            hours = float(str(value))
            if not 0 < hours <= 24 * 60:
                raise ValueError(f"{key}: give hours between 0 and 1440, not {value}")
            changes[name] = timedelta(hours=hours)
        elif key == "ship_warn_share":
            share = float(str(value))
            if not 0 < share <= 1:
                raise ValueError(f"ship_warn_share: give a share between 0 and 1, not {value}")
            changes[key] = share
        else:
            raise ValueError(f"unknown detector setting {key!r}; known: {', '.join(f + '_hours' for f in HOUR_FIELDS)}")
    return replace(base, **changes)  # type: ignore[arg-type]


# --- the ETA we can state, and the next checkpoint --------------------------------------------------------
# Typical time left to delivery from each node (domestic), and what comes next. Our estimate, said
# as such; international parcels take ETA_INTERNATIONAL_FACTOR times as long.
REMAINING: dict[str, timedelta] = {
    "": timedelta(hours=72),  # not collected yet
    "picked_up": timedelta(hours=60),
    "departed_hub": timedelta(hours=36),
    "arrived_hub": timedelta(hours=30),
    "arrived_station": timedelta(hours=12),
    "out_for_delivery": timedelta(hours=4),
    "exception": timedelta(hours=48),
}
ETA_INTERNATIONAL_FACTOR = 2
NEXT_CHECKPOINT: dict[str, str] = {
    "": "picked_up",
    "picked_up": "departed_hub",
    "departed_hub": "arrived_hub",
    "arrived_hub": "arrived_station",
    "arrived_station": "out_for_delivery",
    "out_for_delivery": "delivered",
    "exception": "out_for_delivery",
}


def estimate_eta(node: str, last_event_at: datetime | None, now: datetime, international: bool) -> datetime:
    """When the parcel should arrive from where it is: the typical time left from its node, counted
    from its last scan, and never in the past (a stalled parcel's estimate starts from now)."""
    left = REMAINING.get(node, REMAINING["picked_up"]) * (ETA_INTERNATIONAL_FACTOR if international else 1)
    start = max(last_event_at or now, now)
    return start + left


def next_checkpoint(node: str) -> str:
    return NEXT_CHECKPOINT.get(node, "delivered")


# --- findings ------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Finding:
    kind: IncidentKind
    episode: str
    first_signal_at: datetime
    due_at: datetime
    shipment_id: int | None = None
    detail: dict[str, str] = field(default_factory=dict)


def _parcel_node(parcel: ParcelFact) -> str:
    return parcel.latest.node if parcel.latest else ""


def not_shipped(order: OrderFact, rules: DetectorRules) -> list[Finding]:
    """Paid and nothing has left: warn at `ship_warn_share` of the ship window."""
    if order.status not in UNSHIPPED_ORDER or order.paid_at is None:
        return []
    if any(p.status != "pending" for p in order.parcels) or any(p.latest for p in order.parcels):
        return []
    window = rules.ship_within
    due = order.paid_at + window * rules.ship_warn_share
    return [
        Finding(
            IncidentKind.NOT_SHIPPED,
            f"not_shipped:{order.order_id}",
            order.paid_at,
            due,
            detail={"ship_by": (order.paid_at + window).isoformat()},
        )
    ]


def not_collected(order: OrderFact, rules: DetectorRules) -> list[Finding]:
    """A label the carrier has not accepted (no scan) `collect_within` after it was printed."""
    out = []
    for parcel in order.parcels:
        if parcel.status != "pending" or parcel.latest is not None or parcel.shipped_at is None:
            continue
        if order.status not in OPEN_ORDER:
            continue
        out.append(
            Finding(
                IncidentKind.NOT_COLLECTED,
                f"not_collected:{parcel.shipment_id}",
                parcel.shipped_at,
                parcel.shipped_at + rules.collect_within,
                parcel.shipment_id,
            )
        )
    return out


def stalled(order: OrderFact, rules: DetectorRules, business: BusinessTime) -> list[Finding]:
    """No new scan for the stall threshold in business time (working days, 调休 honoured). The
    episode is the last scan: a new scan ends it, and a later stall is another episode."""
    budget = rules.stall_international if order.international else rules.stall_domestic
    out = []
    for parcel in order.parcels:
        if parcel.status not in MOVING or parcel.last_event_at is None:
            continue
        if at_pickup_point(*_scan_words(parcel)):
            continue  # waiting for the customer, not stalled: pickup_uncollected watches it
        anchor = parcel.last_event_at
        out.append(
            Finding(
                IncidentKind.STALLED,
                f"stalled:{parcel.shipment_id}:{anchor.isoformat()}",
                anchor,
                business(anchor, budget),
                parcel.shipment_id,
                {"node": _parcel_node(parcel)},
            )
        )
    return out


def presumed_lost(order: OrderFact, rules: DetectorRules) -> list[Finding]:
    """No scan for 7 days (10 international), counted in calendar days."""
    budget = rules.lost_international if order.international else rules.lost_domestic
    out = []
    for parcel in order.parcels:
        if parcel.status not in MOVING | {"exception"} or parcel.last_event_at is None:
            continue
        anchor = parcel.last_event_at
        out.append(
            Finding(
                IncidentKind.PRESUMED_LOST,
                f"presumed_lost:{parcel.shipment_id}:{anchor.isoformat()}",
                anchor,
                anchor + budget,
                parcel.shipment_id,
                {"node": _parcel_node(parcel)},
            )
        )
    return out


def late_risk(order: OrderFact, now: datetime) -> list[Finding]:
    """The estimate from where the parcel is goes past the promise frozen when the order was
    confirmed, or the promise has passed without delivery. Once per parcel and promise."""
    out = []
    for parcel in order.parcels:
        if parcel.promised_at is None or parcel.status == "delivered" or order.status not in OPEN_ORDER:
            continue
        node = _parcel_node(parcel)
        left = REMAINING.get(node, REMAINING["picked_up"]) * (ETA_INTERNATIONAL_FACTOR if order.international else 1)
        # The estimate (max(last scan, now) + left) passes the promise from this moment on.
        due = max(parcel.promised_at - left, parcel.last_event_at or order.paid_at or parcel.promised_at - left)
        eta = estimate_eta(node, parcel.last_event_at, max(now, due), order.international)
        out.append(
            Finding(
                IncidentKind.LATE_RISK,
                f"late_risk:{parcel.shipment_id}:{parcel.promised_at.isoformat()}",
                due,
                due,
                parcel.shipment_id,
                {"promised_at": parcel.promised_at.isoformat(), "eta": eta.isoformat(), "node": node},
            )
        )
    return out


def carrier_exception(order: OrderFact) -> list[Finding]:
    """The latest scan is an exception: at once, one incident per exception scan."""
    out = []
    for parcel in order.parcels:
        scan = parcel.latest
        if scan is None or scan.node != "exception" or parcel.status == "delivered":
            continue
        reason = exception_reason(scan.description, scan.code)
        out.append(
            Finding(
                IncidentKind.CARRIER_EXCEPTION,
                f"carrier_exception:{parcel.shipment_id}:{scan.event_id}",
                scan.occurred_at,
                scan.occurred_at,
                parcel.shipment_id,
                {"reason": reason.value, "node": scan.node},
            )
        )
    return out


def pickup_uncollected(order: OrderFact, rules: DetectorRules) -> list[Finding]:
    """Waiting in a locker or at a station (快递柜, 驿站) for `pickup_within`."""
    out = []
    for parcel in order.parcels:
        scan = parcel.latest
        if scan is None or parcel.status == "delivered" or not at_pickup_point(scan.description, scan.place):
            continue
        out.append(
            Finding(
                IncidentKind.PICKUP_UNCOLLECTED,
                f"pickup_uncollected:{parcel.shipment_id}:{scan.event_id}",
                scan.occurred_at,
                scan.occurred_at + rules.pickup_within,
                parcel.shipment_id,
                {"place": scan.place, "node": scan.node},
            )
        )
    return out


def out_of_stock(order: OrderFact, now: datetime) -> list[Finding]:
    """A short pick reported on a line of an order still to ship: at once, once per line."""
    if order.status not in UNSHIPPED_ORDER | {"created"}:
        return []
    signal = order.changed_at or now
    return [
        Finding(
            IncidentKind.OUT_OF_STOCK,
            f"out_of_stock:{order.order_id}:{line_no}",
            signal,
            signal,
            detail={"line_no": str(line_no)},
        )
        for line_no in order.out_of_stock_lines
    ]


def _scan_words(parcel: ParcelFact) -> tuple[str, str]:
    return (parcel.latest.description, parcel.latest.place) if parcel.latest else ("", "")


def detect(order: OrderFact, rules: DetectorRules, now: datetime, business: BusinessTime) -> list[Finding]:
    """Every finding on this order, due or not, by every detector."""
    return [
        *not_shipped(order, rules),
        *not_collected(order, rules),
        *stalled(order, rules, business),
        *presumed_lost(order, rules),
        *late_risk(order, now),
        *carrier_exception(order),
        *pickup_uncollected(order, rules),
        *out_of_stock(order, now),
    ]


@dataclass(frozen=True, slots=True)
class Verdict:
    due: tuple[Finding, ...]  # incidents now (the store keeps one per episode)
    next_check_at: datetime | None  # when to look again; None: nothing left to watch
    live_episodes: frozenset[str]  # episodes still true: any other open incident of the order is over


def judge(order: OrderFact, rules: DetectorRules, now: datetime, business: BusinessTime) -> Verdict:
    findings = detect(order, rules, now, business)
    due = tuple(f for f in findings if f.due_at <= now)
    later = [f.due_at for f in findings if f.due_at > now]
    return Verdict(due, min(later, default=None), frozenset(f.episode for f in findings))


def resolved_episodes(open_episodes: Iterable[str], verdict: Verdict) -> list[str]:
    """Open incidents whose trouble is no longer seen (the parcel moved, was delivered, the order
    was cancelled)."""
    return [e for e in open_episodes if e not in verdict.live_episodes]


# --- what a person must do ------------------------------------------------------------------------------
def needs_a_person(kind: IncidentKind, detail: dict[str, str]) -> bool:
    """Presumed lost, damaged, returned to sender: a person files the claim or resends."""
    if kind is IncidentKind.PRESUMED_LOST:
        return True
    return kind is IncidentKind.CARRIER_EXCEPTION and detail.get("reason") in {r.value for r in NEEDS_A_PERSON_REASONS}


# --- the one-tap actions a notice may offer -------------------------------------------------------------
class Action(StrEnum):
    CHANGE_ADDRESS = "change_address"  # self-service, before the parcel leaves
    CANCEL = "cancel"  # before shipment: refunded at once; shipped: intercepted, refunded when back
    URGE = "urge"  # 催单: a task on the merchant's list
    TALK_TO_PERSON = "talk_to_person"  # the support form, with the order filled in


def actions_for(order_status: str, shipped: bool, kind: IncidentKind) -> tuple[Action, ...]:
    """Only what the self-service really does for this order now (cases.self_service's rules):
    the address changes only before the parcel leaves; cancelling works until delivery; urging
    while it is on its way to being delivered. Talking to a person always."""
    actions: list[Action] = []
    if order_status in UNSHIPPED_ORDER | {"created"} and not shipped:
        actions.append(Action.CHANGE_ADDRESS)
    if order_status in OPEN_ORDER:
        actions.append(Action.CANCEL)
    if order_status in {"paid", "fulfilling", "shipped"} and kind is not IncidentKind.OUT_OF_STOCK:
        actions.append(Action.URGE)
    actions.append(Action.TALK_TO_PERSON)
    return tuple(actions)


def first_due(findings: Sequence[Finding]) -> Finding | None:
    return min(findings, key=lambda f: f.due_at, default=None)
