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


# --- the policies in words (help articles) ---------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ParcelTerm:
    days_late: int
    share: Decimal
    minimum: Decimal | None
    maximum: Decimal | None
    valid_days: int | None


@dataclass(frozen=True, slots=True)
class LatenessTerms:
    parcel: ParcelTerm | None
    on_demand: tuple[tuple[int, Decimal], ...]  # (minutes late at least, coupon), lowest first


def _threshold(when: dict[str, Any], attr: str) -> int | None:
    parts = when.get("all", [when])
    for part in parts if isinstance(parts, list) else []:
        if isinstance(part, dict) and part.get("attr") == attr and part.get("op") == "gte":
            value = part.get("value")
            return int(value) if isinstance(value, int | float | Decimal) and not isinstance(value, bool) else None
    return None


def _is_late_delivery(when: dict[str, Any]) -> bool:
    parts = when.get("all", [when])
    return isinstance(parts, list) and any(
        isinstance(p, dict) and p.get("attr") == "coupon.trigger" and p.get("value") == Trigger.LATE_DELIVERY.value
        for p in parts
    )


def lateness_terms(policies: list[tuple[dict[str, Any], dict[str, Any]]]) -> LatenessTerms:
    """The enabled lateness policies (when, then), in walk order, read back as terms."""
    parcel: ParcelTerm | None = None
    tiers: dict[int, Decimal] = {}
    for when, then in policies:
        if not _is_late_delivery(when):
            continue
        days = _threshold(when, "order.days_late")
        minutes = _threshold(when, "order.minutes_late")
        if parcel is None and days is not None and "coupon_share_of_paid" in then:
            parcel = ParcelTerm(
                days_late=days,
                share=Decimal(str(then["coupon_share_of_paid"])),
                minimum=Decimal(str(then["coupon_min"])) if "coupon_min" in then else None,
                maximum=Decimal(str(then["coupon_max"])) if "coupon_max" in then else None,
                valid_days=then.get("coupon_valid_days"),
            )
        if minutes is not None and "coupon_amount" in then and minutes not in tiers:
            tiers[minutes] = Decimal(str(then["coupon_amount"]))
    return LatenessTerms(parcel=parcel, on_demand=tuple(sorted(tiers.items())))


def _yuan(value: Decimal) -> str:
    return f"¥{value.normalize():f}" if value == value.to_integral_value() else f"¥{value:.2f}"


def parcel_words(term: ParcelTerm | None) -> tuple[str, str]:
    if term is None:
        return ("目前包裹超时不自动赔付", "parcels that come late are not compensated automatically at the moment")
    percent = f"{(term.share * 100).normalize():f}%"
    low = _yuan(term.minimum) if term.minimum is not None else None
    high = _yuan(term.maximum) if term.maximum is not None else None
    span_zh = f"（最低 {low}，最高 {high}）" if low and high else ""
    span_en = f" (at least {low}, at most {high})" if low and high else ""
    valid_zh = f"，有效期 {term.valid_days} 天" if term.valid_days else ""
    valid_en = f", valid for {term.valid_days} days" if term.valid_days else ""
    return (
        f"包裹晚于承诺送达时间 {term.days_late} 天及以上，送达后自动发放"
        f"实付金额 {percent} 的优惠券{span_zh}{valid_zh}，每单一次",
        f"a parcel delivered {term.days_late} day{'s' if term.days_late != 1 else ''} or more after its promised "
        f"time earns, once delivered, a coupon of {percent} of what you paid{span_en}{valid_en}, once per order",
    )


def on_demand_words(tiers: tuple[tuple[int, Decimal], ...]) -> tuple[str, str]:
    if not tiers:
        return (
            "目前即时配送超时不自动赔付",
            "late on-demand deliveries are not compensated automatically at the moment",
        )
    zh = "、".join(f"超时 {m} 分钟及以上 {_yuan(v)}" for m, v in tiers)
    en = ", ".join(f"{_yuan(v)} from {m} minutes late" for m, v in tiers)
    return (
        f"即时配送（同城急送）按超时时长发放优惠券：{zh}",
        f"on-demand (same-city express) deliveries earn a coupon by how late they came: {en}",
    )
