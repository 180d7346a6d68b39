"""Business-time arithmetic: property tests across holidays, make-up workdays (调休), time zones,
closures and pauses, and the 2027 fallback past the chinese_calendar data."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftersales.sla.calendar import (
    CHINESE_LAST_YEAR,
    BusinessCalendar,
    CalendarError,
    DayKind,
    PublicDayKind,
    add_business_time,
    business_time_between,
    holiday_name,
    is_open,
    periods_from_text,
    uses_fallback,
    weekly_from_mapping,
)
from aftersales.sla.domain import ClockStatus, due_action, schedule

SH = ZoneInfo("Asia/Shanghai")
WORKDAY = [["09:00", "12:00"], ["13:30", "18:00"]]
PLATFORM = BusinessCalendar(
    key="platform",
    weekly=weekly_from_mapping(
        {"mon": WORKDAY, "tue": WORKDAY, "wed": WORKDAY, "thu": WORKDAY, "fri": WORKDAY, "sat": [["10:00", "16:00"]]}
    ),
)
# Weekdays only, so ordinary Saturdays are closed and make-up Saturdays stand out.
OFFICE = BusinessCalendar(
    key="office", weekly=weekly_from_mapping({d: WORKDAY for d in ("mon", "tue", "wed", "thu", "fri")})
)
NEW_YORK = BusinessCalendar(
    key="ny",
    zone="America/New_York",
    chinese_holidays=False,
    weekly=weekly_from_mapping(
        {d: [["00:30", "03:30"], ["08:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sun")}
    ),
)
WITH_CLOSURES = BusinessCalendar(
    key="closures",
    weekly=PLATFORM.weekly,
    closures=(
        (datetime(2025, 3, 3, 2, 0, tzinfo=UTC), datetime(2025, 3, 5, 4, 0, tzinfo=UTC)),
        (datetime(2026, 6, 1, 1, 15, tzinfo=UTC), datetime(2026, 6, 1, 3, 45, tzinfo=UTC)),
    ),
    public_days=((date(2027, 1, 1), PublicDayKind.HOLIDAY), (date(2027, 2, 6), PublicDayKind.WORKDAY)),
)
ALWAYS = BusinessCalendar(key="24x7", always_open=True, chinese_holidays=False)
CALENDARS = [PLATFORM, OFFICE, NEW_YORK, WITH_CLOSURES, ALWAYS]

moments = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC))
durations = st.integers(min_value=0, max_value=120 * 3600).map(lambda s: timedelta(seconds=s))
fine_durations = st.integers(min_value=1, max_value=10**11).map(lambda us: timedelta(microseconds=us))
calendars = st.sampled_from(CALENDARS)


def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0, zone: ZoneInfo = SH) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=zone)


# --- properties ---------------------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(calendar=calendars, start=moments, duration=durations)
def test_add_then_between_round_trips(calendar: BusinessCalendar, start: datetime, duration: timedelta) -> None:
    end = add_business_time(calendar, start, duration)
    assert end >= start
    assert business_time_between(calendar, start, end) == duration


@settings(max_examples=100, deadline=None)
@given(calendar=calendars, start=moments, duration=fine_durations)
def test_round_trip_holds_to_the_microsecond(calendar: BusinessCalendar, start: datetime, duration: timedelta) -> None:
    assert business_time_between(calendar, start, add_business_time(calendar, start, duration)) == duration


@settings(max_examples=150, deadline=None)
@given(calendar=calendars, start=moments, a=durations, b=durations)
def test_more_business_time_never_ends_earlier(
    calendar: BusinessCalendar, start: datetime, a: timedelta, b: timedelta
) -> None:
    short, long = sorted((a, b))
    assert add_business_time(calendar, start, short) <= add_business_time(calendar, start, long)


@settings(max_examples=150, deadline=None)
@given(calendar=calendars, a=moments, b=moments, duration=durations)
def test_a_later_start_never_ends_earlier(
    calendar: BusinessCalendar, a: datetime, b: datetime, duration: timedelta
) -> None:
    early, late = sorted((a, b))
    assert add_business_time(calendar, early, duration) <= add_business_time(calendar, late, duration)


@settings(max_examples=150, deadline=None)
@given(calendar=calendars, start=moments, duration=fine_durations)
def test_a_deadline_lands_in_open_time(calendar: BusinessCalendar, start: datetime, duration: timedelta) -> None:
    end = add_business_time(calendar, start, duration)
    # The last microsecond before the deadline was open: deadlines never land in a closed stretch.
    assert is_open(calendar, end - timedelta(microseconds=1))


@settings(max_examples=150, deadline=None)
@given(calendar=calendars, a=moments, b=moments, c=moments)
def test_between_adds_up_and_never_exceeds_wall_time(
    calendar: BusinessCalendar, a: datetime, b: datetime, c: datetime
) -> None:
    a, b, c = sorted((a, b, c))
    assert business_time_between(calendar, a, b) + business_time_between(calendar, b, c) == business_time_between(
        calendar, a, c
    )
    assert timedelta(0) <= business_time_between(calendar, a, c) <= c - a
    assert business_time_between(calendar, c, a) == -business_time_between(calendar, a, c)


@settings(max_examples=100, deadline=None)
@given(
    calendar=calendars,
    start=moments,
    target=st.integers(min_value=60, max_value=48 * 3600),
    pause_after=st.integers(min_value=0, max_value=48 * 3600),
    paused_for=st.integers(min_value=0, max_value=30 * 24 * 3600),
)
def test_a_pause_keeps_the_business_time_left(
    calendar: BusinessCalendar, start: datetime, target: int, pause_after: int, paused_for: int
) -> None:
    """Pause after some business time, resume later: the time counted before the pause plus the
    time counted after the resume up to the new deadline is exactly the target."""
    paused_at = add_business_time(calendar, start, timedelta(seconds=min(pause_after, target - 1)))
    used = int(business_time_between(calendar, start, paused_at).total_seconds())
    resumed_at = paused_at + timedelta(seconds=paused_for)
    plan = schedule(calendar, resumed_at, target, target * 8 // 10, used, warned=False, breached=False)
    after = business_time_between(calendar, resumed_at, plan.target_at)
    assert used + after.total_seconds() == target
    assert plan.next_check_at is not None and plan.next_check_at <= plan.target_at


# --- Chinese holidays and make-up workdays (2025) ----------------------------------------------
@pytest.mark.parametrize(
    ("day", "kind"),
    [
        (date(2025, 1, 26), DayKind.MAKEUP),  # Sunday worked before the Spring Festival
        (date(2025, 2, 8), DayKind.MAKEUP),  # Saturday worked after it
        (date(2025, 1, 28), DayKind.HOLIDAY),
        (date(2025, 2, 4), DayKind.HOLIDAY),
        (date(2025, 2, 5), DayKind.WORKDAY),
        (date(2025, 9, 28), DayKind.MAKEUP),  # Sunday worked before National Day
        (date(2025, 10, 1), DayKind.HOLIDAY),
        (date(2025, 10, 4), DayKind.HOLIDAY),  # a Saturday inside the holiday stays closed
        (date(2025, 10, 8), DayKind.HOLIDAY),
        (date(2025, 10, 11), DayKind.MAKEUP),  # Saturday worked after it
        (date(2025, 10, 12), DayKind.WEEKEND),
    ],
)
def test_2025_schedule(day: date, kind: DayKind) -> None:
    assert OFFICE.day_kind(day) is kind


def test_a_makeup_sunday_works_normal_workday_hours() -> None:
    assert is_open(OFFICE, local(2025, 1, 26, 9, 30))
    assert not is_open(OFFICE, local(2025, 1, 26, 12, 30))  # lunch, as on any workday
    assert not is_open(OFFICE, local(2025, 1, 19, 9, 30))  # an ordinary Sunday


def test_spring_festival_2025_closes_the_week_between_its_makeup_days() -> None:
    # Friday 24 Jan 17:00 + 2 h: 1 h on Friday, the make-up Sunday 26 Jan opens at 09:00.
    assert add_business_time(OFFICE, local(2025, 1, 24, 17), timedelta(hours=2)) == local(2025, 1, 26, 10)
    # Monday 27 Jan 17:00 + 2 h: 28 Jan–4 Feb are holidays; Wednesday 5 Feb 10:00.
    assert add_business_time(OFFICE, local(2025, 1, 27, 17), timedelta(hours=2)) == local(2025, 2, 5, 10)
    # The whole holiday counts for nothing.
    assert business_time_between(OFFICE, local(2025, 1, 28), local(2025, 2, 5)) == timedelta(0)


def test_national_day_2025() -> None:
    # Tuesday 30 Sep 17:00 + 4 h: 1 h that day, 1–8 Oct closed, 3 h on Thursday 9 Oct morning.
    assert add_business_time(PLATFORM, local(2025, 9, 30, 17), timedelta(hours=4)) == local(2025, 10, 9, 12)
    # The make-up Saturday 11 Oct works 09:00–18:00 (not the usual Saturday 10:00–16:00).
    assert business_time_between(PLATFORM, local(2025, 10, 11), local(2025, 10, 12)) == timedelta(hours=7, minutes=30)
    assert business_time_between(PLATFORM, local(2025, 10, 18), local(2025, 10, 19)) == timedelta(hours=6)
    assert holiday_name(date(2025, 10, 1)) == "National Day"


# --- time zones ---------------------------------------------------------------------------------
def test_deadlines_are_counted_in_the_calendars_zone() -> None:
    ny = ZoneInfo("America/New_York")
    # Friday 22:00 New York + 3 h: 2 h to midnight, Saturday closed, Sunday opens 00:30.
    assert add_business_time(NEW_YORK, local(2025, 3, 7, 22, zone=ny), timedelta(hours=3)) == local(
        2025, 3, 9, 1, 30, zone=ny
    )
    # On the day clocks spring forward (02:00 → 03:00) the 00:30–03:30 period lasts 2 h, not 3:
    # 19 h of wall-clock periods, 18 h of real time.
    day = business_time_between(NEW_YORK, local(2025, 3, 9, zone=ny), local(2025, 3, 10, zone=ny))
    assert day == timedelta(hours=18)
    # And on the day they fall back (02:00 → 01:00) it lasts 4 h: 20 h.
    day = business_time_between(NEW_YORK, local(2025, 11, 2, zone=ny), local(2025, 11, 3, zone=ny))
    assert day == timedelta(hours=20)


def test_a_start_given_in_another_zone_means_the_same_instant() -> None:
    start_paris = datetime(2025, 6, 3, 3, 0, tzinfo=ZoneInfo("Europe/Paris"))  # 09:00 in Shanghai
    assert add_business_time(OFFICE, start_paris, timedelta(hours=1)) == local(2025, 6, 3, 10)


# --- the fallback past the package's data -------------------------------------------------------
def test_2027_uses_the_fallback_without_crashing() -> None:
    assert CHINESE_LAST_YEAR == 2026
    assert uses_fallback(date(2027, 1, 4)) and not uses_fallback(date(2026, 12, 31))
    assert holiday_name(date(2027, 1, 1)) is None
    # 31 Dec 2026 (Thursday) 17:00 + 3 h runs into 2027 on weekday rules: Friday 1 Jan 2027 is open.
    assert add_business_time(OFFICE, local(2026, 12, 31, 17), timedelta(hours=3)) == local(2027, 1, 1, 11)
    # An administrator entered 1 Jan 2027 as a holiday: the deadline moves to Monday 4 Jan.
    assert add_business_time(WITH_CLOSURES, local(2026, 12, 31, 17), timedelta(hours=3)) == local(2027, 1, 2, 12)
    assert WITH_CLOSURES.day_kind(date(2027, 2, 6)) is DayKind.MAKEUP


def test_entered_days_override_the_package() -> None:
    calendar = BusinessCalendar(
        key="x", weekly=OFFICE.weekly, public_days=((date(2025, 10, 8), PublicDayKind.WORKDAY),)
    )
    assert calendar.day_kind(date(2025, 10, 8)) is DayKind.WORKDAY
    assert is_open(calendar, local(2025, 10, 8, 10))


# --- closures, bounds and bad input ------------------------------------------------------------
def test_closures_are_cut_out() -> None:
    # 2026-06-01 09:15–11:45 Shanghai is closed: a 09:00 start with 1 h gets 15 min before the
    # closure, 15 min after it, and the last 30 min after lunch: 14:00.
    assert add_business_time(WITH_CLOSURES, local(2026, 6, 1, 9), timedelta(hours=1)) == local(2026, 6, 1, 14)
    assert not is_open(WITH_CLOSURES, local(2026, 6, 1, 10))


def test_a_calendar_without_open_time_is_refused() -> None:
    with pytest.raises(CalendarError, match="no open period"):
        BusinessCalendar(key="never")


def test_a_closed_stretch_longer_than_a_year_stops_instead_of_looping() -> None:
    closed = BusinessCalendar(
        key="shut",
        weekly=OFFICE.weekly,
        closures=((datetime(2025, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),),
    )
    with pytest.raises(CalendarError, match="no open time"):
        add_business_time(closed, datetime(2025, 2, 1, tzinfo=UTC), timedelta(hours=1))


def test_bad_periods_and_zones_say_what_to_fix() -> None:
    with pytest.raises(CalendarError, match="overlap"):
        weekly_from_mapping({"mon": [["09:00", "12:00"], ["11:00", "13:00"]]})
    with pytest.raises(CalendarError, match="HH:MM"):
        periods_from_text("mon", "9am-5pm")
    with pytest.raises(CalendarError, match="time zone"):
        BusinessCalendar(key="x", zone="Mars/Olympus", weekly=OFFICE.weekly)
    assert periods_from_text("mon", "9:00-12:00，13:30–18:00") == [["09:00", "12:00"], ["13:30", "18:00"]]
    assert periods_from_text("sun", "00:00-24:00") == [["00:00", "24:00"]]


def test_the_sweep_decision_warns_then_breaches_once() -> None:
    target, warn = local(2025, 6, 3, 12), local(2025, 6, 3, 11)
    early = due_action(local(2025, 6, 3, 10), target, warn, False, ClockStatus.RUNNING)
    assert (early.warn, early.breach, early.next_check_at) == (False, False, warn)
    warned = due_action(local(2025, 6, 3, 11, 30), target, warn, False, ClockStatus.RUNNING)
    assert (warned.warn, warned.breach, warned.next_check_at) == (True, False, target)
    late = due_action(local(2025, 6, 3, 13), target, warn, False, ClockStatus.RUNNING)
    assert (late.warn, late.breach, late.next_check_at) == (False, True, None)
