"""Each KPI formula on small hand-computed data (docs/analytics.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aftersales.analytics import domain
from aftersales.analytics.domain import Contact, Dims, DimType, Resolution

T0 = datetime(2026, 11, 11, 10, 0, tzinfo=UTC)


def test_histogram_buckets_are_powers_of_two() -> None:
    assert [domain.bucket_of(v) for v in (0, 0.5, 1, 1.9, 2, 3, 4, 1000)] == [0, 0, 1, 1, 2, 2, 3, 10]
    assert domain.bucket_of(10**12) == domain.BUCKETS - 1
    assert domain.bucket_bounds(3) == (4.0, 8.0)


def test_quantiles_from_the_histogram_stay_within_their_bucket() -> None:
    values = [30, 60, 60, 90, 120, 300, 600, 600, 900, 3600]
    hist = domain.empty_histogram()
    for v in values:
        hist[domain.bucket_of(v)] += 1
    p50, p90 = domain.quantile(hist, 0.5), domain.quantile(hist, 0.9)
    exact50, exact90 = domain.exact_quantile(values, 0.5), domain.exact_quantile(values, 0.9)
    assert exact50 == 120 and exact90 == 900
    assert p50 is not None and p90 is not None
    # Within the bucket of the exact value: [64, 128] and [512, 1024].
    assert 64 <= p50 <= 128 and 512 <= p90 <= 1024
    assert domain.quantile(domain.empty_histogram(), 0.5) is None
    with pytest.raises(ValueError):
        domain.quantile(hist, 1.0)


def test_merged_histograms_add_up() -> None:
    a, b = domain.empty_histogram(), domain.empty_histogram()
    a[3], b[3], b[5] = 2, 1, 4
    assert domain.merged([a, b])[3] == 3 and domain.merged([a, b])[5] == 4


def test_sla_percent_is_met_over_met_and_breached() -> None:
    assert domain.sla_percent(9, 1) == pytest.approx(0.9)
    assert domain.sla_percent(0, 0) is None
    assert domain.sla_percent(0, 3) == 0


def test_one_touch_reopen_and_fcr() -> None:
    assert domain.one_touch_percent(3, 4) == pytest.approx(0.75)
    assert domain.reopen_percent(1, 4) == pytest.approx(0.25)
    # 10 resolved, 1 reopened, 2 repeat contacts: 7 of 10 settled at the first contact.
    assert domain.fcr_percent(10, 1, 2) == pytest.approx(0.7)
    assert domain.fcr_percent(1, 1, 1) == 0
    assert domain.fcr_percent(0, 0, 0) is None


def test_fcr_on_raw_facts_uses_the_seven_day_window() -> None:
    resolutions = [
        Resolution("T1", 1, "SO-1", T0),  # reopened on day 2: not FCR
        Resolution("T2", 2, "SO-2", T0),  # same customer and order writes again on day 6: not FCR
        Resolution("T3", 3, "SO-3", T0),  # writes again on day 8: outside the window, FCR
        Resolution("T4", 4, "SO-4", T0),  # writes about another order: FCR
    ]
    reopens = {"T1": [T0 + timedelta(days=2)]}
    contacts = [
        Contact("T5", 2, "SO-2", T0 + timedelta(days=6)),
        Contact("T6", 3, "SO-3", T0 + timedelta(days=8)),
        Contact("T7", 4, "SO-9", T0 + timedelta(days=1)),
        Contact("T4", 4, "SO-4", T0 - timedelta(days=1)),  # the ticket itself, before its resolution
    ]
    assert domain.first_contact_resolved(resolutions, reopens, contacts) == pytest.approx(0.5)
    assert domain.first_contact_resolved([], {}, []) is None


def test_deflection_contacts_per_order_and_productivity() -> None:
    # 30 bot resolved + 10 self-service out of 40 deflected + 60 tickets = 100 contacts.
    assert domain.deflection_percent(30, 10, 60) == pytest.approx(0.4)
    assert domain.deflection_percent(0, 0, 0) is None
    assert domain.contacts_per_order(25, 1000) == pytest.approx(0.025)
    assert domain.solved_per_productive_hour(42, 7.5) == pytest.approx(5.6)
    assert domain.solved_per_productive_hour(3, 0) is None


def test_backlog_by_age_bands() -> None:
    # < 4 h, 4–24 h, 1–3 d, 3–7 d, ≥ 7 d
    assert domain.backlog_by_age([0.5, 3.9, 4, 23, 24, 71, 72, 200]) == [2, 2, 2, 1, 1]


def test_dimensions_and_regions() -> None:
    assert Dims().rollup_keys() == [(DimType.ALL, "")]
    keys = Dims(agent_id=7, channel="chat", merchant_id=3, province="浙江省").rollup_keys()
    assert keys == [(DimType.ALL, ""), (DimType.AGENT, "7"), (DimType.CHANNEL, "chat"), (DimType.MERCHANT, "3"),
                    (DimType.PROVINCE, "浙江省")]  # fmt: skip
    assert domain.province_city("浙江省 杭州市 西湖区") == ("浙江省", "杭州市")
    assert domain.province_city("上海市 浦东新区") == ("上海市", "上海市")
    assert domain.province_city("") == ("", "")
