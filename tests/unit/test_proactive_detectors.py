"""Each detector of proactive service, driven by time: silent before its threshold, firing at it,
with one episode per trouble (tests/unit: pure rules, no database)."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta

import pytest

from aftersales.proactive import domain
from aftersales.proactive.domain import (
    DEFAULT_RULES,
    Action,
    ExceptionReason,
    IncidentKind,
    OrderFact,
    ParcelFact,
    ScanFact,
)
from aftersales.sla.calendar import add_business_time
from aftersales.sla.service import LOGISTICS_CALENDAR

BUSINESS = functools.partial(add_business_time, LOGISTICS_CALENDAR)
# Monday 2026-11-02 10:00 Beijing time.
MON = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
H = timedelta(hours=1)


def parcel(status: str = "in_transit", *, node: str = "departed_hub", last: datetime | None = MON,
           promised: datetime | None = None, description: str = "", place: str = "杭州转运中心",
           shipped: datetime | None = None, event_id: int = 7) -> ParcelFact:  # fmt: skip
    scan = ScanFact(event_id, node, last, place, description) if last is not None else None
    return ParcelFact(1, "SF1", status, promised, shipped or last, last, scan)


def order(*parcels: ParcelFact, status: str = "shipped", paid: datetime | None = MON - 2 * H,
          international: bool = False, out_of_stock: tuple[int, ...] = (),
          changed: datetime | None = None) -> OrderFact:  # fmt: skip
    return OrderFact(1, "SO-1", 9, "selfop", status, paid, international, tuple(parcels), out_of_stock, changed)


def kinds_at(fact: OrderFact, now: datetime) -> list[IncidentKind]:
    return sorted(f.kind for f in domain.judge(fact, DEFAULT_RULES, now, BUSINESS).due)


# --- not shipped ----------------------------------------------------------------------------------
def test_not_shipped_warns_at_80_percent_of_48_hours() -> None:
    fact = order(status="paid", paid=MON)
    assert kinds_at(fact, MON + timedelta(hours=38, minutes=23)) == []
    assert kinds_at(fact, MON + timedelta(hours=38, minutes=24)) == [IncidentKind.NOT_SHIPPED]
    [finding] = domain.not_shipped(fact, DEFAULT_RULES)
    assert finding.detail["ship_by"] == (MON + 48 * H).isoformat()


def test_not_shipped_is_silent_once_a_parcel_moves_and_follows_a_merchant_window() -> None:
    moving = order(parcel(), status="paid", paid=MON)
    assert domain.not_shipped(moving, DEFAULT_RULES) == []
    fast = domain.rules_from_mapping({"ship_within_hours": 24})
    [finding] = domain.not_shipped(order(status="paid", paid=MON), fast)
    assert finding.due_at == MON + timedelta(hours=24 * 0.8)


def test_a_bad_rule_names_its_key() -> None:
    with pytest.raises(ValueError, match="ship_within_hours"):
        domain.rules_from_mapping({"ship_within_hours": -3})
    with pytest.raises(ValueError, match="unknown detector setting"):
        domain.rules_from_mapping({"stall_hours": 3})


# --- not collected --------------------------------------------------------------------------------
def test_not_collected_after_24_hours_without_a_carrier_scan() -> None:
    label = ParcelFact(1, "SF1", "pending", None, MON, None, None)
    fact = order(label, status="shipped")
    assert kinds_at(fact, MON + 23 * H) == []
    assert kinds_at(fact, MON + 24 * H) == [IncidentKind.NOT_COLLECTED]


# --- stalled, in business time ----------------------------------------------------------------------
def test_stalled_counts_48_business_hours_skipping_the_weekend() -> None:
    friday = datetime(2026, 11, 6, 10, 0, tzinfo=UTC)  # Friday 18:00 in Shanghai
    fact = order(parcel(last=friday))
    # Friday 18:00 local → the rest of Friday (6 h), all of Monday (24 h), 18 h of Tuesday.
    due = datetime(2026, 11, 10, 10, 0, tzinfo=UTC)  # Tuesday 18:00 local: 6 + 24 + 18 = 48
    assert kinds_at(fact, due - timedelta(minutes=1)) == []
    assert IncidentKind.STALLED in kinds_at(fact, due)


def test_stalled_honours_national_day_and_its_make_up_workday() -> None:
    # 2026: 10-01..10-07 are holidays; Saturday 10-10 is a make-up workday (调休).
    before = datetime(2026, 9, 29, 16, 0, tzinfo=UTC)  # 30 Sep 00:00 local, a workday
    [finding] = domain.stalled(order(parcel(last=before)), DEFAULT_RULES, BUSINESS)
    local = finding.due_at.astimezone(LOGISTICS_CALENDAR.tz)
    # 30 Sep (24 h), then nothing until Thursday 8 Oct (24 h more) → 9 Oct 00:00 local.
    assert local.date().isoformat() == "2026-10-09" and local.hour == 0


def test_international_parcels_stall_after_five_business_days() -> None:
    fact = order(parcel(last=MON), international=True)
    [finding] = domain.stalled(fact, DEFAULT_RULES, BUSINESS)
    assert finding.due_at == BUSINESS(MON, timedelta(days=5))
    assert finding.due_at - MON == timedelta(days=7)  # Monday 10:00 → next Monday 10:00


def test_a_new_scan_starts_a_new_stall_episode() -> None:
    first = domain.stalled(order(parcel(last=MON)), DEFAULT_RULES, BUSINESS)[0]
    later = domain.stalled(order(parcel(last=MON + 5 * H)), DEFAULT_RULES, BUSINESS)[0]
    assert first.episode != later.episode
    again = domain.stalled(order(parcel(last=MON)), DEFAULT_RULES, BUSINESS)[0]
    assert again.episode == first.episode


# --- presumed lost ---------------------------------------------------------------------------------
def test_presumed_lost_after_7_days_domestic_and_10_international() -> None:
    assert IncidentKind.PRESUMED_LOST not in kinds_at(order(parcel()), MON + timedelta(days=7) - H)
    assert IncidentKind.PRESUMED_LOST in kinds_at(order(parcel()), MON + timedelta(days=7))
    intl = order(parcel(), international=True)
    assert IncidentKind.PRESUMED_LOST not in kinds_at(intl, MON + timedelta(days=9))
    assert IncidentKind.PRESUMED_LOST in kinds_at(intl, MON + timedelta(days=10))


# --- late risk --------------------------------------------------------------------------------------
def test_late_risk_when_the_estimate_passes_the_frozen_promise() -> None:
    promised = MON + 40 * H  # from departed_hub the estimate is 36 h after the last scan
    fact = order(parcel(promised=promised))
    assert IncidentKind.LATE_RISK not in kinds_at(fact, MON + 3 * H)
    assert IncidentKind.LATE_RISK in kinds_at(fact, MON + 4 * H)
    [finding] = domain.late_risk(fact, MON + 4 * H)
    assert finding.detail["promised_at"] == promised.isoformat()


def test_late_risk_at_once_when_the_promise_has_passed() -> None:
    fact = order(parcel(node="out_for_delivery", last=MON, promised=MON - H, status="out_for_delivery"))
    assert IncidentKind.LATE_RISK in kinds_at(fact, MON)


def test_no_late_risk_for_a_delivered_parcel() -> None:
    fact = order(parcel(status="delivered", node="delivered", promised=MON - H), status="delivered")
    assert kinds_at(fact, MON + timedelta(days=30)) == []


# --- carrier exceptions ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("description", "code", "reason"),
    [
        ("配送未成功：收件人拒收", "", ExceptionReason.REFUSED),
        ("包裹破损，已联系寄件人", "", ExceptionReason.DAMAGED),
        ("配送未成功：地址有误", "", ExceptionReason.BAD_ADDRESS),
        ("快件已退回寄件人", "", ExceptionReason.RETURNED),
        ("海关查验中", "", ExceptionReason.CUSTOMS_HOLD),
        ("配送未成功：收件人不在", "", ExceptionReason.FAILED_DELIVERY),
        ("", "209", ExceptionReason.DAMAGED),
        ("", "Exception_Returned", ExceptionReason.RETURNED),
        ("", "DeliveryFailure_InvalidAddress", ExceptionReason.BAD_ADDRESS),
        ("Parcel refused by recipient", "", ExceptionReason.REFUSED),
    ],
)
def test_exception_reasons_from_codes_and_words(description: str, code: str, reason: ExceptionReason) -> None:
    assert domain.exception_reason(description, code) is reason


def test_a_carrier_exception_fires_at_once_and_damage_needs_a_person() -> None:
    fact = order(parcel(status="exception", node="exception", description="包裹破损"))
    due = domain.judge(fact, DEFAULT_RULES, MON, BUSINESS).due
    [exc] = [f for f in due if f.kind is IncidentKind.CARRIER_EXCEPTION]
    assert exc.first_signal_at == exc.due_at == MON
    assert domain.needs_a_person(exc.kind, exc.detail)
    refused = order(parcel(status="exception", node="exception", description="拒收"))
    [r] = domain.carrier_exception(refused)
    assert not domain.needs_a_person(r.kind, r.detail)


# --- out of stock, pickup point ---------------------------------------------------------------------
def test_out_of_stock_fires_at_once_per_line() -> None:
    fact = order(status="paid", out_of_stock=(1, 2), changed=MON)
    found = domain.out_of_stock(fact, MON)
    assert [(f.kind, f.due_at) for f in found] == [(IncidentKind.OUT_OF_STOCK, MON)] * 2
    assert len({f.episode for f in found}) == 2
    assert domain.out_of_stock(order(status="cancelled", out_of_stock=(1,)), MON) == []


def test_a_parcel_in_a_locker_is_uncollected_after_24_hours_and_not_stalled() -> None:
    fact = order(parcel(status="at_station", node="arrived_station", description="已放入丰巢快递柜，取件码 1234"))
    assert kinds_at(fact, MON + 23 * H) == []
    assert kinds_at(fact, MON + 24 * H) == [IncidentKind.PICKUP_UNCOLLECTED]
    assert domain.stalled(fact, DEFAULT_RULES, BUSINESS) == []


# --- what the scan keeps -------------------------------------------------------------------------------
def test_the_next_check_is_the_earliest_finding_still_to_come() -> None:
    verdict = domain.judge(order(parcel()), DEFAULT_RULES, MON + H, BUSINESS)
    assert verdict.due == ()
    assert verdict.next_check_at == BUSINESS(MON, timedelta(hours=48))


def test_a_delivered_order_leaves_nothing_to_watch_and_resolves_what_was_open() -> None:
    done = order(parcel(status="delivered", node="delivered"), status="delivered")
    verdict = domain.judge(done, DEFAULT_RULES, MON, BUSINESS)
    assert verdict.next_check_at is None
    assert domain.resolved_episodes(["stalled:1:x"], verdict) == ["stalled:1:x"]


def test_actions_offer_only_what_self_service_does() -> None:
    assert domain.actions_for("paid", False, IncidentKind.NOT_SHIPPED) == (
        Action.CHANGE_ADDRESS, Action.CANCEL, Action.URGE, Action.TALK_TO_PERSON,
    )  # fmt: skip
    assert domain.actions_for("shipped", True, IncidentKind.STALLED) == (
        Action.CANCEL, Action.URGE, Action.TALK_TO_PERSON,
    )  # fmt: skip
    assert domain.actions_for("delivered", True, IncidentKind.STALLED) == (Action.TALK_TO_PERSON,)


def test_incident_states_move_forward_only() -> None:
    assert domain.can_move(domain.IncidentState.OPEN, domain.IncidentState.NOTIFIED)
    assert not domain.can_move(domain.IncidentState.RESOLVED, domain.IncidentState.OPEN)
