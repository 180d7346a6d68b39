"""Metric names, dimensions, the log-bucket histogram and the KPI formulas (docs/analytics.md).

Pure rules: no database, no clock. Every KPI is a function of counts, sums and histograms that the
daily rollups hold, so a dashboard never reads a live table and the unit tests compute each formula
on small hand-made numbers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Metric(StrEnum):
    TICKET_CREATED = "ticket_created"
    FIRST_REPLY = "first_reply"  # value: arrival (or reopen) → first public agent reply
    REPLY = "reply"
    RESOLVED = "resolved"  # value: resolution time, pending excluded in business time
    ONE_TOUCH = "one_touch"  # a resolution with at most one agent reply
    REOPENED = "reopened"  # value: time since the resolution it undid
    REPEAT_CONTACT = "repeat_contact"  # a new ticket of the same customer and order within the FCR window
    SLA_MET = "sla_met"
    SLA_BREACHED = "sla_breached"
    BOT_HANDOFF = "bot_handoff"
    BOT_RESOLVED = "bot_resolved"
    SELF_SERVICE_DONE = "self_service_done"
    CASE_OPENED = "case_opened"
    CASE_CLOSED = "case_closed"  # value: submitted → final status
    REFUND_PAID = "refund_paid"  # value: the amount in cents (not a time)
    ORDER_PLACED = "order_placed"
    DELIVERY_DONE = "delivery_done"  # value: paid → delivered
    CSAT_SUBMITTED = "csat_submitted"  # heard from surveys when that context publishes it


class DimType(StrEnum):
    ALL = "all"
    AGENT = "agent"
    TEAM = "team"
    CHANNEL = "channel"
    MERCHANT = "merchant"
    CATEGORY = "category"
    REASON = "reason"
    CARRIER = "carrier"
    PROVINCE = "province"
    CITY = "city"


# The dimensions a dashboard groups by (the rest are kept on each event for root cause).
DASHBOARD_DIMS = (DimType.ALL, DimType.AGENT, DimType.TEAM, DimType.CHANNEL, DimType.MERCHANT)
FCR_WINDOW = timedelta(days=7)
BUCKETS = 24  # bucket 0: < 1 s; bucket i: [2^(i-1), 2^i) seconds; the last one is open above (≈ 48 days)
TIME_METRICS = frozenset(
    {Metric.FIRST_REPLY, Metric.RESOLVED, Metric.REOPENED, Metric.CASE_CLOSED, Metric.DELIVERY_DONE}
)


@dataclass(frozen=True, slots=True)
class Dims:
    """What a metric event is filed under; empty text or None: not known for this fact."""

    agent_id: int | None = None
    team: str = ""
    channel: str = ""
    merchant_id: int | None = None
    category: str = ""
    reason_tag: str = ""
    carrier: str = ""
    province: str = ""
    city: str = ""

    def rollup_keys(self) -> list[tuple[DimType, str]]:
        """(dimension, id) pairs a rollup row is kept for; "all" always."""
        pairs: list[tuple[DimType, str]] = [(DimType.ALL, "")]
        values = {
            DimType.AGENT: "" if self.agent_id is None else str(self.agent_id),
            DimType.TEAM: self.team,
            DimType.CHANNEL: self.channel,
            DimType.MERCHANT: "" if self.merchant_id is None else str(self.merchant_id),
            DimType.CATEGORY: self.category,
            DimType.REASON: self.reason_tag,
            DimType.CARRIER: self.carrier,
            DimType.PROVINCE: self.province,
            DimType.CITY: self.city,
        }
        pairs.extend((kind, value) for kind, value in values.items() if value)
        return pairs


def province_city(region: str) -> tuple[str, str]:
    """'浙江省 杭州市 西湖区' → ('浙江省', '杭州市'); a municipality ('上海市 浦东新区') is its own city."""
    parts = region.split()
    if not parts:
        return "", ""
    province = parts[0]
    if province.endswith("市") or len(parts) == 1:
        return province, province
    return province, parts[1]


# --- histogram --------------------------------------------------------------------------------
def bucket_of(seconds: float) -> int:
    if seconds < 1:
        return 0
    return min(BUCKETS - 1, math.floor(math.log2(seconds)) + 1)


def bucket_bounds(index: int) -> tuple[float, float]:
    if index == 0:
        return 0.0, 1.0
    return float(2 ** (index - 1)), float(2**index)


def empty_histogram() -> list[int]:
    return [0] * BUCKETS


def merged(histograms: Iterable[Sequence[int]]) -> list[int]:
    total = empty_histogram()
    for histogram in histograms:
        for i, n in enumerate(histogram[:BUCKETS]):
            total[i] += int(n)
    return total


def quantile(histogram: Sequence[int], q: float) -> float | None:
    """The q-quantile (0 < q < 1) of the values a histogram counted, interpolated inside its bucket
    (at most a factor 2 off by construction; exact at bucket bounds). None when it counted nothing."""
    if not 0 < q < 1:
        raise ValueError("a quantile lies strictly between 0 and 1")
    total = sum(histogram)
    if total == 0:
        return None
    rank = q * total
    seen = 0
    for index, n in enumerate(histogram):
        if n and seen + n >= rank:
            low, high = bucket_bounds(index)
            return low + (high - low) * (rank - seen) / n
        seen += n
    return bucket_bounds(len(histogram) - 1)[1]


def exact_quantile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank quantile of raw values (the reference the histogram approximates)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


# --- KPIs ---------------------------------------------------------------------------------------
def ratio(numerator: float, denominator: float) -> float | None:
    """numerator ÷ denominator, None when there is nothing to divide by (a dashboard shows '—')."""
    return None if denominator <= 0 else numerator / denominator


def sla_percent(met: int, breached: int) -> float | None:
    """SLA % = met ÷ (met + breached)."""
    return ratio(met, met + breached)


def one_touch_percent(one_touch: int, resolved: int) -> float | None:
    """Share of resolutions with at most one agent reply."""
    return ratio(one_touch, resolved)


def reopen_percent(reopened: int, resolved: int) -> float | None:
    return ratio(reopened, resolved)


def fcr_percent(resolved: int, reopened: int, repeat_contacts: int) -> float | None:
    """FCR from rollups: resolutions not followed by a reopen or by a new contact of the same
    customer about the same order within 7 days (each failure counted once on the resolved ticket)."""
    if resolved <= 0:
        return None
    return max(resolved - reopened - repeat_contacts, 0) / resolved


def deflection_percent(bot_resolved: int, self_service_done: int, tickets: int) -> float | None:
    """(bot resolved + self-service done) ÷ contacts, where contacts = tickets + the deflected ones."""
    deflected = bot_resolved + self_service_done
    return ratio(deflected, deflected + tickets)


def contacts_per_order(contacts: int, orders: int) -> float | None:
    return ratio(contacts, orders)


def solved_per_productive_hour(resolved: int, productive_hours: float) -> float | None:
    return ratio(resolved, productive_hours)


@dataclass(frozen=True, slots=True)
class Resolution:
    ticket: str
    customer_id: int | None
    order_number: str
    resolved_at: datetime


@dataclass(frozen=True, slots=True)
class Contact:
    ticket: str
    customer_id: int | None
    order_number: str
    at: datetime


def first_contact_resolved(
    resolutions: Sequence[Resolution],
    reopens: Mapping[str, Sequence[datetime]],
    contacts: Sequence[Contact],
    window: timedelta = FCR_WINDOW,
) -> float | None:
    """FCR on raw facts: the share of resolutions with no reopen of that ticket and no new ticket of
    the same customer about the same order (other than itself) within `window` after it."""
    if not resolutions:
        return None
    kept = 0
    for r in resolutions:
        reopened = any(r.resolved_at < at <= r.resolved_at + window for at in reopens.get(r.ticket, ()))
        again = r.customer_id is not None and any(
            c.ticket != r.ticket
            and c.customer_id == r.customer_id
            and c.order_number == r.order_number
            and r.resolved_at < c.at <= r.resolved_at + window
            for c in contacts
        )
        kept += not (reopened or again)
    return kept / len(resolutions)


AGE_BANDS_HOURS = (4, 24, 72, 168)  # backlog by age: < 4 h, 4–24 h, 1–3 d, 3–7 d, ≥ 7 d


def backlog_by_age(ages_hours: Iterable[float], bands: Sequence[int] = AGE_BANDS_HOURS) -> list[int]:
    """How many open tickets fall in each age band (len(bands) + 1 counts)."""
    counts = [0] * (len(bands) + 1)
    for age in ages_hours:
        index = next((i for i, limit in enumerate(bands) if age < limit), len(bands))
        counts[index] += 1
    return counts
