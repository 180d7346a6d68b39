"""The warning agrees with the countdown the desk shows: a clock warns only when the wall-clock time
left to its deadline is inside its warning window (the target's last 100 - warn_percent %), also on
a calendar that closes overnight, where 80 % of the business budget can be spent half a day early."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from aftersales.sla.calendar import BusinessCalendar, add_business_time, weekly_from_mapping
from aftersales.sla.domain import schedule

SH = ZoneInfo("Asia/Shanghai")
WORKDAY = [["09:00", "12:00"], ["13:30", "18:00"]]
PLATFORM = BusinessCalendar(
    key="platform",
    weekly=weekly_from_mapping(
        {"mon": WORKDAY, "tue": WORKDAY, "wed": WORKDAY, "thu": WORKDAY, "fri": WORKDAY, "sat": [["10:00", "16:00"]]}
    ),
)
MONDAY = datetime(2025, 6, 9, tzinfo=SH)  # an ordinary week


def test_a_clock_whose_budget_runs_out_overnight_warns_in_the_morning_not_the_evening_before() -> None:
    start = MONDAY.replace(hour=17)
    # 70 minutes: 60 on Monday evening, 10 on Tuesday morning. 80 % is spent at 17:56 on Monday,
    # when the deadline is still 15 hours away; the warning waits until 14 minutes are left.
    plan = schedule(PLATFORM, start, 70 * 60, 56 * 60, 0, warned=False, breached=False)
    assert plan.target_at == datetime(2025, 6, 10, 9, 10, tzinfo=SH)
    assert plan.warn_at == datetime(2025, 6, 10, 8, 56, tzinfo=SH)
    assert plan.next_check_at == plan.warn_at


def test_while_the_desk_is_open_the_warning_is_the_business_time_share() -> None:
    plan = schedule(PLATFORM, MONDAY.replace(hour=9), 30 * 60, 24 * 60, 0, warned=False, breached=False)
    assert plan.warn_at == MONDAY.replace(hour=9, minute=24)


@settings(max_examples=300, deadline=None)
@given(
    offset=st.integers(min_value=0, max_value=7 * 24 * 60),
    minutes=st.integers(min_value=1, max_value=3 * 24 * 60),
    percent=st.integers(min_value=5, max_value=99),
    used_share=st.floats(min_value=0, max_value=1),
)
def test_the_warning_never_comes_before_the_window_nor_before_the_budget_share(
    offset: int, minutes: int, percent: int, used_share: float
) -> None:
    start = MONDAY + timedelta(minutes=offset)
    target, warn = minutes * 60, minutes * 60 * percent // 100
    used = int(target * used_share)
    plan = schedule(PLATFORM, start, target, warn, used, warned=False, breached=False)
    if warn >= target:
        return
    assert plan.warn_at is not None
    assert plan.target_at - plan.warn_at <= timedelta(seconds=target - warn)
    assert plan.warn_at >= add_business_time(PLATFORM, start, timedelta(seconds=max(warn - used, 0)))
    assert plan.warn_at <= plan.target_at
