"""The wallet's pure rules and the shipped compensation policies, without a database: lateness
against a frozen promise, the 5 % coupon clamped to ¥3–20, Meituan's on-demand tiers, the
exclusions, the limits of agents' offers, and a coupon's life."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from aftersales.rules import domain as rules
from aftersales.rules.loading import COMPENSATION_PATH, read_policy_file
from aftersales.wallet import domain
from aftersales.wallet.domain import EntryStatus, ForceMajeurePeriod, WalletRuleError

PROMISE = datetime(2026, 11, 1, 14, 0, tzinfo=UTC)
POLICIES = [
    rules.PolicyRule(s.key, s.priority, s.definition.get("when", {}), s.definition["then"])
    for s in read_policy_file(COMPENSATION_PATH)
    if s.enabled
]


def decide_late(
    delay: timedelta,
    paid: str = "398.00",
    *,
    on_demand: bool = False,
    preorder: bool = False,
    force_majeure: bool = False,
    buyer_fault: bool = False,
) -> tuple[Decimal | None, rules.Decision]:
    late = domain.lateness(PROMISE, PROMISE + delay)
    assert late is not None
    facts = domain.lateness_facts(
        late,
        on_demand=on_demand,
        preorder=preorder,
        force_majeure=force_majeure,
        buyer_fault=buyer_fault,
        paid=Decimal(paid),
        tier="regular",
    )
    decision = rules.decide(POLICIES, facts)
    return rules.coupon_value(Decimal(paid), decision), decision


def test_lateness_counts_whole_minutes_and_days_after_the_promise() -> None:
    assert domain.lateness(PROMISE, PROMISE - timedelta(hours=3)) == domain.Lateness(0, 0)
    assert domain.lateness(PROMISE, PROMISE + timedelta(minutes=9, seconds=59)) == domain.Lateness(9, 0)
    assert domain.lateness(PROMISE, PROMISE + timedelta(days=1, minutes=1)) == domain.Lateness(1441, 1)
    assert domain.lateness(None, PROMISE) is None
    assert domain.lateness(PROMISE, None) is None


@pytest.mark.parametrize(
    ("paid", "expected"),
    [
        ("398.00", Decimal("19.90")),  # 5 % of what was paid
        ("59.90", Decimal("3.00")),  # 2.995 is raised to the ¥3 floor
        ("40.00", Decimal("3.00")),
        ("1000.00", Decimal("20.00")),  # 50 is capped at ¥20
        ("400.00", Decimal("20.00")),  # exactly the cap
        ("100.10", Decimal("5.01")),  # 5.005 rounds half up to the fen
    ],
)
def test_a_parcel_a_day_late_earns_five_percent_clamped_to_3_and_20(paid: str, expected: Decimal) -> None:
    value, decision = decide_late(timedelta(days=1, minutes=5), paid)
    assert value == expected
    assert decision.coupon_policy == "late_parcel_one_day"
    assert decision.coupon_valid_days == 30


def test_a_parcel_less_than_a_day_late_earns_nothing_and_says_why() -> None:
    value, decision = decide_late(timedelta(hours=23, minutes=59))
    assert value is None
    assert not decision.eligible
    assert "not late enough" in decision.reason("en")


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (9, None),
        (10, Decimal("4")),
        (19, Decimal("4")),
        (20, Decimal("6")),
        (29, Decimal("6")),
        (30, Decimal("13")),
        (600, Decimal("13")),
    ],
)
def test_on_demand_delivery_follows_meituans_tiers(minutes: int, expected: Decimal | None) -> None:
    value, _ = decide_late(timedelta(minutes=minutes), "30.00", on_demand=True)
    assert value == expected


@pytest.mark.parametrize(
    ("exclusion", "policy"),
    [
        ({"preorder": True}, "late_none_preorder"),
        ({"force_majeure": True}, "late_none_force_majeure"),
        ({"buyer_fault": True}, "late_none_buyer_fault"),
    ],
)
def test_pre_orders_force_majeure_and_the_buyers_fault_earn_nothing(exclusion: dict[str, Any], policy: str) -> None:
    value, decision = decide_late(timedelta(days=3), **exclusion)
    assert value is None
    assert decision.policy_keys == [policy]
    assert decision.reason("zh") and decision.reason("en")
    # The on-demand tiers are excluded alike.
    value, _ = decide_late(timedelta(minutes=45), "30.00", on_demand=True, **exclusion)
    assert value is None


def test_agents_offers_are_limited_by_tier_and_vip_coupons_have_a_fixed_value() -> None:
    regular = rules.decide(POLICIES, {"coupon.trigger": "agent_offer", "customer.tier": "regular"})
    vip = rules.decide(POLICIES, {"coupon.trigger": "agent_offer", "customer.tier": "svip"})
    assert (regular.coupon_max, vip.coupon_max) == (Decimal(20), Decimal(50))
    assert domain.within_limit(Decimal("20.00"), regular.coupon_max)
    assert not domain.within_limit(Decimal("20.01"), regular.coupon_max)
    assert not domain.within_limit(Decimal("1"), None)
    offer = rules.decide(POLICIES, {"coupon.trigger": "vip_offer", "customer.tier": "vip"})
    assert rules.coupon_value(Decimal("398"), offer) == Decimal("10.00")
    not_vip = rules.decide(POLICIES, {"coupon.trigger": "vip_offer", "customer.tier": "regular"})
    assert rules.coupon_value(Decimal("398"), not_vip) is None


def test_coupon_outcomes_are_checked_when_a_policy_is_loaded() -> None:
    for bad, field in (
        ({"coupon_share_of_paid": 1.5}, "coupon_share_of_paid"),
        ({"coupon_amount": 0}, "coupon_amount"),
        ({"coupon_amount": True}, "coupon_amount"),
        ({"coupon_valid_days": 0}, "coupon_valid_days"),
        ({"coupon_valid_days": 2.5}, "coupon_valid_days"),
        ({"coupon_min": 30, "coupon_max": 20}, "coupon_min"),
    ):
        with pytest.raises(rules.PolicyError, match=field):
            rules.validate_outcome(bad)
    with pytest.raises(rules.PolicyError, match=r"coupon\.trigger"):
        rules.validate_condition({"attr": "coupon.trigger", "op": "eq", "value": "birthday"})


def test_each_business_fact_has_its_own_key() -> None:
    assert domain.lateness_key("SO-1") == "late:SO-1"
    assert domain.agent_offer_key("ticket", "T1") != domain.agent_offer_key("order", "T1")
    assert domain.vip_offer_key("AS1") == "vip:case:AS1"
    with pytest.raises(WalletRuleError):
        domain.agent_offer_key("chat", "1")


def test_an_issued_coupon_past_its_expiry_reads_expired_and_closed_ones_stay_closed() -> None:
    now = PROMISE
    assert domain.status_at("issued", now + timedelta(seconds=1), now) is EntryStatus.ISSUED
    assert domain.status_at("issued", now, now) is EntryStatus.EXPIRED
    assert domain.status_at("used", now - timedelta(days=9), now) is EntryStatus.USED
    assert domain.can_move("issued", EntryStatus.REVOKED)
    assert not domain.can_move("used", EntryStatus.ISSUED)
    assert not domain.can_move("nonsense", EntryStatus.USED)
    assert domain.expiry(now, 30) == now + timedelta(days=30)
    with pytest.raises(WalletRuleError):
        domain.expiry(now, 0)


@pytest.mark.parametrize("value", ["0", "-1", "10000.01", "1.001", "NaN"])
def test_values_are_positive_cents_within_the_ceiling(value: str) -> None:
    with pytest.raises(WalletRuleError):
        domain.check_value(Decimal(value), "CNY")


def test_a_currency_is_three_capital_letters() -> None:
    assert domain.check_value(Decimal("12.50"), "CNY") == Decimal("12.50")
    with pytest.raises(WalletRuleError):
        domain.check_value(Decimal("1"), "rmb")


def test_force_majeure_covers_its_region_and_the_late_time_only() -> None:
    storm = ForceMajeurePeriod("广东", PROMISE - timedelta(days=1), PROMISE + timedelta(hours=6))
    everywhere = ForceMajeurePeriod("*", PROMISE + timedelta(days=5), PROMISE + timedelta(days=6))
    delivered = PROMISE + timedelta(days=2)
    assert domain.in_force_majeure([storm], "广东省 深圳市", PROMISE, delivered)
    assert not domain.in_force_majeure([storm], "上海市 浦东新区", PROMISE, delivered)
    assert not domain.in_force_majeure([everywhere], "上海市", PROMISE, delivered)
    assert domain.in_force_majeure([everywhere], "上海市", PROMISE, PROMISE + timedelta(days=5, hours=1))
    with pytest.raises(WalletRuleError):
        domain.check_period("广东", PROMISE, PROMISE)
    with pytest.raises(WalletRuleError):
        domain.check_period(" ", PROMISE, PROMISE + timedelta(days=1))
    with pytest.raises(WalletRuleError):
        domain.check_period("广东", PROMISE, PROMISE + timedelta(days=40))


def test_the_customer_is_told_of_a_coupon_in_their_language_with_a_link_to_the_wallet() -> None:
    from aftersales.notifications import domain as notices
    from aftersales.notifications.domain import Topic

    late = {"trigger": "late_delivery", "amount": "19.90", "currency": "CNY", "order_number": "SO-1", "code": "CPN1"}
    zh = notices.compose(Topic.COUPON_ISSUED, late, "zh-CN")
    en = notices.compose(Topic.COUPON_ISSUED, late, "en")
    assert zh is not None and en is not None
    assert zh.template == en.template == "wallet.late_compensation"
    assert zh.link == en.link == "/wallet"
    assert "SO-1" in zh.subject and "¥19.90" in zh.subject and "无需申请" in zh.body
    assert "¥19.90" in en.subject and "no claim needed" in en.body and "已" not in en.body
    offered = notices.compose(Topic.COUPON_ISSUED, {**late, "trigger": "agent_offer", "amount": "8"}, "en")
    assert offered is not None and offered.template == "wallet.coupon_issued" and "¥8.00" in offered.subject
