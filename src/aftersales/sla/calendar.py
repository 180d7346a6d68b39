"""Business calendars and business-time arithmetic: periods per weekday in a time zone, Chinese
public holidays and make-up workdays (调休), days an administrator enters, and closures.

Pure: no database. Deadlines are computed on the calendar's local dates and returned in UTC.
chinese_calendar 1.11 knows 2004–2026 only; past its data a day follows the weekday rules plus the
days an administrator entered (the State Council publishes each year's schedule in November).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import chinese_calendar
from chinese_calendar import constants as _chinese_data

from aftersales.kit.clock import ensure_utc

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A calendar with no open time for this many consecutive days is broken, not just closed for a
# holiday: the longest Chinese holiday run is 8 days, so a year leaves room for long closures.
MAX_CLOSED_DAYS = 400
CHINESE_FIRST_YEAR = min(_chinese_data.holidays).year
CHINESE_LAST_YEAR = max(max(_chinese_data.holidays).year, max(_chinese_data.workdays).year)
_DAY = timedelta(days=1)
_ZERO = timedelta(0)


class CalendarError(ValueError):
    """A calendar that cannot be used as given; the message says what to change."""


# Deliberately separate: this context's own vocabulary. Enums in other contexts share the StrEnum
# shape, not the meaning; each is imported from the context that owns it.
class DayKind(StrEnum):
    WORKDAY = "workday"  # the weekday's own periods
    MAKEUP = "makeup"  # a weekend day worked in lieu (调休): the normal workday periods
    HOLIDAY = "holiday"  # a statutory or administrator-entered holiday: closed
    WEEKEND = "weekend"  # an ordinary Saturday or Sunday: that weekday's periods, often none


class PublicDayKind(StrEnum):
    HOLIDAY = "holiday"
    WORKDAY = "workday"


@dataclass(frozen=True, slots=True)
class Period:
    """Open from `start` to `end` on one local day; end == 24:00 is written as time(0) with `to_midnight`."""

    start: time
    end: time
    to_midnight: bool = False

    def __post_init__(self) -> None:
        if not self.to_midnight and self.end <= self.start:
            raise CalendarError(f"a period must end after it starts ({self.label()})")

    def label(self) -> str:
        return f"{self.start:%H:%M}–{'24:00' if self.to_midnight else f'{self.end:%H:%M}'}"

    @classmethod
    def parse(cls, start: str, end: str) -> Period:
        start, end = _padded(start), _padded(end)
        try:
            begin = time.fromisoformat(start)
            if end == "24:00":
                return cls(begin, time(0), to_midnight=True)
            return cls(begin, time.fromisoformat(end))
        except ValueError as exc:
            if isinstance(exc, CalendarError):
                raise
            raise CalendarError(f"'{start}–{end}' is not a period; write times as HH:MM, e.g. 09:00–12:00") from exc


def _padded(text: str) -> str:
    text = text.strip()
    return f"0{text}" if len(text) == 4 and text[1] == ":" else text


ALL_DAY = (Period(time(0), time(0), to_midnight=True),)


@dataclass(frozen=True)
class BusinessCalendar:
    """One team's open hours. `weekly` has seven tuples of periods, Monday first."""

    key: str
    zone: str = "Asia/Shanghai"
    weekly: tuple[tuple[Period, ...], ...] = ((),) * 7
    always_open: bool = False
    chinese_holidays: bool = True
    # Entered by administrators: they override the package, and carry the years past its data.
    public_days: tuple[tuple[date, PublicDayKind], ...] = ()
    # Closed datetime ranges (UTC): an office move, a system outage, a team day.
    closures: tuple[tuple[datetime, datetime], ...] = ()
    # Which weekday's periods a make-up Saturday or Sunday works (Monday by default).
    makeup_weekday: int = 0
    _tz: ZoneInfo = field(init=False, repr=False, compare=False)
    _public: dict[date, PublicDayKind] = field(init=False, repr=False, compare=False)
    _days: dict[date, tuple[tuple[datetime, datetime], ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            tz = ZoneInfo(self.zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise CalendarError(f"unknown time zone {self.zone!r}; use an IANA name like Asia/Shanghai") from exc
        if len(self.weekly) != 7:
            raise CalendarError("a calendar needs periods for seven weekdays, Monday first")
        if not 0 <= self.makeup_weekday <= 6:
            raise CalendarError("the make-up weekday must be 0 (Monday) to 6 (Sunday)")
        for day, periods in zip(WEEKDAYS, self.weekly, strict=True):
            _check_overlap(day, periods)
        for start, end in self.closures:
            if start.tzinfo is None or end.tzinfo is None or end <= start:
                raise CalendarError("a closure needs an aware start and an end after it")
        if (
            not self.always_open
            and not any(self.weekly)
            and not any(kind is PublicDayKind.WORKDAY for _, kind in self.public_days)
        ):
            raise CalendarError(f"calendar {self.key!r} has no open period on any weekday; add at least one period")
        object.__setattr__(self, "_tz", tz)
        object.__setattr__(self, "_public", dict(self.public_days))
        object.__setattr__(self, "_days", {})

    @property
    def tz(self) -> ZoneInfo:
        return self._tz

    # --- what kind of day -------------------------------------------------------------------
    def day_kind(self, day: date) -> DayKind:
        entered = self._public.get(day)
        if entered is PublicDayKind.HOLIDAY:
            return DayKind.HOLIDAY
        weekend = day.weekday() >= 5
        if entered is PublicDayKind.WORKDAY:
            return DayKind.MAKEUP if weekend else DayKind.WORKDAY
        if self.chinese_holidays and not uses_fallback(day):
            is_holiday, name = chinese_calendar.get_holiday_detail(day)
            if is_holiday and name is not None:
                return DayKind.HOLIDAY
            if not is_holiday and weekend:
                return DayKind.MAKEUP
        return DayKind.WEEKEND if weekend else DayKind.WORKDAY

    def periods_on(self, day: date) -> tuple[Period, ...]:
        if self.always_open:
            return ALL_DAY
        kind = self.day_kind(day)
        if kind is DayKind.HOLIDAY:
            return ()
        if kind is DayKind.MAKEUP:
            return self.weekly[self.makeup_weekday]
        return self.weekly[day.weekday()]

    def open_intervals(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The open intervals of one local date, in UTC, sorted, closures cut out (memoised)."""
        cached = self._days.get(day)
        if cached is not None:
            return cached
        intervals: list[tuple[datetime, datetime]] = []
        for period in sorted(self.periods_on(day), key=lambda p: p.start):
            start = datetime.combine(day, period.start, tzinfo=self._tz).astimezone(UTC)
            end_day = day + _DAY if period.to_midnight else day
            end = datetime.combine(end_day, period.end, tzinfo=self._tz).astimezone(UTC)
            if end > start:  # a period inside a daylight-saving gap can vanish
                intervals.append((start, end))
        result = tuple(_cut(intervals, self.closures)) if self.closures else tuple(intervals)
        if len(self._days) > 4096:
            self._days.clear()
        self._days[day] = result
        return result

    def local_date(self, at: datetime) -> date:
        return ensure_utc(at).astimezone(self._tz).date()


def _check_overlap(day: str, periods: tuple[Period, ...]) -> None:
    ordered = sorted(periods, key=lambda p: p.start)
    for before, after in pairwise(ordered):
        if before.to_midnight or after.start < before.end:
            raise CalendarError(f"{day}: periods {before.label()} and {after.label()} overlap")


def _cut(
    intervals: list[tuple[datetime, datetime]], closures: tuple[tuple[datetime, datetime], ...]
) -> list[tuple[datetime, datetime]]:
    for c_start, c_end in closures:
        kept: list[tuple[datetime, datetime]] = []
        for start, end in intervals:
            if c_end <= start or c_start >= end:
                kept.append((start, end))
                continue
            if start < c_start:
                kept.append((start, c_start))
            if c_end < end:
                kept.append((c_end, end))
        intervals = kept
    return intervals


# --- the Chinese calendar's reach ---------------------------------------------------------------
def chinese_data_years() -> tuple[int, int]:
    """First and last year the installed chinese_calendar package knows."""
    return CHINESE_FIRST_YEAR, CHINESE_LAST_YEAR


def uses_fallback(day: date) -> bool:
    """True when the package has no data for this date: weekday rules plus entered days apply."""
    return not CHINESE_FIRST_YEAR <= day.year <= CHINESE_LAST_YEAR


def holiday_name(day: date) -> str | None:
    """The package's holiday name ('National Day'…) or None; None past its data, never an error."""
    if uses_fallback(day):
        return None
    is_holiday, name = chinese_calendar.get_holiday_detail(day)
    return str(name) if is_holiday and name is not None else None


# --- arithmetic ---------------------------------------------------------------------------------
def _always(calendar: BusinessCalendar) -> bool:
    return calendar.always_open and not calendar.closures


def is_open(calendar: BusinessCalendar, at: datetime) -> bool:
    at = ensure_utc(at)
    if _always(calendar):
        return True
    return any(start <= at < end for start, end in calendar.open_intervals(calendar.local_date(at)))


def add_business_time(calendar: BusinessCalendar, start: datetime, duration: timedelta) -> datetime:
    """The UTC moment when `duration` of open time has passed after `start`.

    Skips whole closed days; raises CalendarError when the calendar has no open time for
    MAX_CLOSED_DAYS days in a row rather than looping for ever.
    """
    start = ensure_utc(start)
    if duration < _ZERO:
        raise CalendarError("a duration of business time cannot be negative")
    if _always(calendar):
        return start + duration
    if duration == _ZERO:
        return start
    remaining = duration
    day = calendar.local_date(start)
    closed_run = 0
    while True:
        intervals = calendar.open_intervals(day)
        opened = False
        for begin, end in intervals:
            if end <= start:
                continue
            opened = True
            begin = max(begin, start)
            span = end - begin
            if remaining <= span:
                return begin + remaining
            remaining -= span
        closed_run = 0 if opened else closed_run + 1
        if closed_run >= MAX_CLOSED_DAYS:
            raise CalendarError(
                f"calendar {calendar.key!r} has no open time for {MAX_CLOSED_DAYS} days after "
                f"{day - timedelta(days=MAX_CLOSED_DAYS):%Y-%m-%d}; check its periods, holidays and closures"
            )
        day += _DAY


def business_time_between(calendar: BusinessCalendar, a: datetime, b: datetime) -> timedelta:
    """Open time from a to b; negative when b is before a."""
    a, b = ensure_utc(a), ensure_utc(b)
    if b < a:
        return -business_time_between(calendar, b, a)
    if _always(calendar):
        return b - a
    total = _ZERO
    day, last = calendar.local_date(a), calendar.local_date(b)
    while day <= last:
        for begin, end in calendar.open_intervals(day):
            lo, hi = max(begin, a), min(end, b)
            if hi > lo:
                total += hi - lo
        day += _DAY
    return total


def weekly_from_mapping(mapping: dict[str, list[list[str]]]) -> tuple[tuple[Period, ...], ...]:
    """{"mon": [["09:00", "12:00"], …], …} → seven tuples of periods; CalendarError names the bad entry."""
    unknown = set(mapping) - set(WEEKDAYS)
    if unknown:
        raise CalendarError(f"unknown weekday {sorted(unknown)[0]!r}; use mon, tue, wed, thu, fri, sat, sun")
    week: list[tuple[Period, ...]] = []
    for name in WEEKDAYS:
        periods = []
        for pair in mapping.get(name) or []:
            if not isinstance(pair, list | tuple) or len(pair) != 2:
                raise CalendarError(f"{name}: write each period as [start, end], e.g. ['09:00', '12:00']")
            periods.append(Period.parse(str(pair[0]), str(pair[1])))
        _check_overlap(name, tuple(periods))
        week.append(tuple(sorted(periods, key=lambda p: p.start)))
    return tuple(week)


def weekly_to_mapping(weekly: tuple[tuple[Period, ...], ...]) -> dict[str, list[list[str]]]:
    return {
        name: [[f"{p.start:%H:%M}", "24:00" if p.to_midnight else f"{p.end:%H:%M}"] for p in periods]
        for name, periods in zip(WEEKDAYS, weekly, strict=True)
    }


def periods_from_text(day: str, text: str) -> list[list[str]]:
    """'09:00-12:00, 13:30-18:00' (an admin's form field) → [["09:00", "12:00"], ["13:30", "18:00"]]."""
    pairs: list[list[str]] = []
    for chunk in text.replace("，", ",").replace("–", "-").replace("~", "-").split(","):
        chunk = chunk.strip()
        if not chunk:
            continue
        start, sep, end = chunk.partition("-")
        if not sep:
            raise CalendarError(f"{day}: '{chunk}' is not a period; write it as 09:00-12:00")
        period = Period.parse(start, end)
        pairs.append([f"{period.start:%H:%M}", "24:00" if period.to_midnight else f"{period.end:%H:%M}"])
    return pairs
