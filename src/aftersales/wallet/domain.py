"""The wallet's rules: what a coupon is, its life (issued → used / expired / revoked), the business
fact each coupon is issued for (its idempotency key), and lateness against a frozen promise. Pure:
kit only, no database."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any


# Deliberately separate: this context's own vocabulary. Enums in other contexts share the StrEnum
# shape, not the meaning; each is imported from the context that owns it.
class EntryKind(StrEnum):
    COUPON = "coupon"  # 优惠券: money off a later order
    STORE_CREDIT = "store_credit"  # 余额: spendable like cash in this shop


class EntryStatus(StrEnum):
    ISSUED = "issued"
    USED = "used"
    EXPIRED = "expired"
    REVOKED = "revoked"


class SourceKind(StrEnum):
    RULE = "rule"  # a policy issued it (lateness compensation)
    PERSON = "person"  # an agent or supervisor issued it


class Trigger(StrEnum):
    """What asks for a coupon; the compensation policies' coupon.trigger."""

    LATE_DELIVERY = "late_delivery"
    AGENT_OFFER = "agent_offer"
    VIP_OFFER = "vip_offer"


# Who may move an entry where; expiry is also read from the clock (status_at), so an issued
# coupon past its expiry shows as expired before any sweep writes it.
TRANSITIONS: dict[EntryStatus, frozenset[EntryStatus]] = {
    EntryStatus.ISSUED: frozenset({EntryStatus.USED, EntryStatus.EXPIRED, EntryStatus.REVOKED}),
    EntryStatus.USED: frozenset(),
    EntryStatus.EXPIRED: frozenset(),
    EntryStatus.REVOKED: frozenset(),
}

MAX_VALUE = Decimal("10000")  # no single wallet entry is worth more, whatever a policy says
MAX_REASON = 300
CURRENCY = re.compile(r"^[A-Z]{3}$")


class WalletRuleError(ValueError):
    """A request the wallet's rules refuse; the message says what to change."""


def can_move(current: str, target: EntryStatus) -> bool:
    try:
        return target in TRANSITIONS[EntryStatus(current)]
    except ValueError:
        return False


def status_at(status: str, expires_at: datetime, now: datetime) -> EntryStatus:
    """The status a person sees now: an issued entry past its expiry is expired."""
    current = EntryStatus(status)
    if current is EntryStatus.ISSUED and expires_at <= now:
        return EntryStatus.EXPIRED
    return current


def expiry(issued_at: datetime, valid_days: int | None, default_days: int = 30) -> datetime:
    days = valid_days if valid_days is not None else default_days
    if not 1 <= days <= 366:
        raise WalletRuleError("a coupon lasts between 1 and 366 days")
    return issued_at + timedelta(days=days)


def check_value(value: Decimal, currency: str) -> Decimal:
    """A positive amount of at most MAX_VALUE, in cents, in a three-letter currency."""
    if not CURRENCY.match(currency):
        raise WalletRuleError(f"currency {currency!r}: use a three-letter code such as CNY")
    if not value.is_finite() or value <= 0:
        raise WalletRuleError("a coupon is worth more than 0")
    if value > MAX_VALUE:
        raise WalletRuleError(f"a coupon is worth at most {MAX_VALUE}")
    if value != value.quantize(Decimal("0.01")):
        raise WalletRuleError("give the amount in yuan and fen (at most two decimals)")
    return value


def within_limit(value: Decimal, limit: Decimal | None) -> bool:
    """An offer by a person stays within the policies' coupon_max; no limit set means no offer."""
    return limit is not None and value <= limit


# --- business facts: one coupon per fact ---------------------------------------------------------
def lateness_key(order_number: str) -> str:
    """Lateness compensation is paid once per order (one delivery incident per order)."""
    return f"late:{order_number}"


def agent_offer_key(fact_kind: str, fact_ref: str) -> str:
    """An agent's goodwill coupon: once per ticket (or order) it is offered on."""
    if fact_kind not in ("ticket", "order", "case"):
        raise WalletRuleError("an offer is made on a ticket, an order or a case")
    return f"offer:{fact_kind}:{fact_ref}"


def vip_offer_key(case_number: str) -> str:
    """The VIP members' extra coupon: once per after-sales case whose decision offered it."""
    return f"vip:case:{case_number}"


# --- lateness against the frozen promise -----------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Lateness:
    minutes: int  # whole minutes after the promise (0 when on time)
    days: int  # whole days after the promise

    @property
    def late(self) -> bool:
        return self.minutes > 0


def lateness(promised_at: datetime | None, delivered_at: datetime | None) -> Lateness | None:
    """How late a delivery came against its promise; None when either moment is unknown."""
    if promised_at is None or delivered_at is None:
        return None
    over = delivered_at - promised_at
    if over <= timedelta(0):
        return Lateness(0, 0)
    return Lateness(int(over.total_seconds() // 60), over.days)


def lateness_facts(
    late: Lateness,
    *,
    on_demand: bool,
    preorder: bool,
    force_majeure: bool,
    buyer_fault: bool,
    paid: Decimal,
    tier: str,
) -> dict[str, Any]:
    """The facts the compensation policies decide on, in the rules vocabulary."""
    return {
        "coupon.trigger": Trigger.LATE_DELIVERY.value,
        "order.minutes_late": late.minutes,
        "order.days_late": late.days,
        "order.on_demand": on_demand,
        "order.preorder": preorder,
        "order.force_majeure": force_majeure,
        "order.buyer_fault": buyer_fault,
        "order.total": paid,
        "customer.tier": tier,
    }


@dataclass(frozen=True, slots=True)
class ForceMajeurePeriod:
    region: str  # a part of the address region, e.g. 广东 or 深圳; "*" for everywhere
    starts_at: datetime
    ends_at: datetime


def in_force_majeure(
    periods: list[ForceMajeurePeriod], region: str, promised_at: datetime, delivered_at: datetime
) -> bool:
    """A delivery is excused when a declared period for its region overlaps the time it was late."""
    for period in periods:
        if period.region != "*" and period.region not in region:
            continue
        if period.starts_at < delivered_at and period.ends_at > promised_at:
            return True
    return False


def check_period(region: str, starts_at: datetime, ends_at: datetime) -> str:
    region = region.strip()
    if not region or len(region) > 100:
        raise WalletRuleError("name the region (e.g. 广东省 or 深圳), at most 100 characters, or * for everywhere")
    if ends_at <= starts_at:
        raise WalletRuleError("the period ends after it starts")
    if ends_at - starts_at > timedelta(days=31):
        raise WalletRuleError("declare at most 31 days at a time")
    return region
