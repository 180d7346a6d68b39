"""Pure planning: from history counts to each skill group's need per 30-minute interval, set
against the roster. The service gathers the counts; every number on the page is computed here.

Lines (how a contact is staffed, docs/peak.md):
- phone: Erlang A, 80 % answered in 20 s, handling 300 s, patience 180 s;
- chat: Erlang A, 80 % in 30 s, handling 480 s, 3 chats at once (factor 2.5), patience 180 s;
- tickets (web, email, API): workload within the SLA's first-response target (60 business minutes);
- cases: workload within a day (1,440 business minutes), as the SLA's resolution targets.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

from aftersales.kit.errors import Invalid
from aftersales.scheduling import domain, forecasting
from aftersales.scheduling.forecasting import INTERVALS_PER_DAY

INTERVAL_SECONDS = domain.INTERVAL_MINUTES * 60
HISTORY_DAYS = 84  # 12 weeks of orders and contacts
ORDER_WEEKS = 4  # same weekdays averaged for orders not yet placed
# Until tickets have history, the forecast is one line for the whole desk.
ALL_GROUPS = "*"
CASES_GROUP = "cases"


# Deliberately separate: this context's own vocabulary. Enums in other contexts share the StrEnum
# shape, not the meaning; each is imported from the context that owns it.
class Line(StrEnum):
    PHONE = "phone"
    CHAT = "chat"
    TICKETS = "tickets"
    CASES = "cases"


# A small frozen dataclass like others on purpose: one line's handling time and service target.
@dataclass(frozen=True, slots=True)
class LineSettings:
    handle_seconds: float
    answer_within: float = 0.0
    target: float = 0.8
    patience: float | None = None
    chats: int | None = None
    deadline_seconds: float | None = None  # set: the workload method


LINES: dict[Line, LineSettings] = {
    Line.PHONE: LineSettings(300, 20, 0.8, patience=domain.PATIENCE_SECONDS),
    Line.CHAT: LineSettings(480, 30, 0.8, patience=domain.PATIENCE_SECONDS, chats=3),
    Line.TICKETS: LineSettings(600, deadline_seconds=60 * 60),
    Line.CASES: LineSettings(900, deadline_seconds=1440 * 60),
}


def line_of(channel: str) -> Line:
    return Line.PHONE if channel == "phone" else Line.CHAT if channel == "chat" else Line.TICKETS


def staff(line: Line, contacts: float) -> domain.Staffing:
    """Staffing for one line's contacts in one interval; forecasts are rounded to hundredths so a
    page of intervals reuses the same few answers."""
    return _staff(line, round(contacts, 2))


@lru_cache(maxsize=4096)
def _staff(line: Line, contacts: float) -> domain.Staffing:
    s = LINES[line]
    if s.deadline_seconds is not None:
        return domain.solve_workload(contacts, s.handle_seconds, s.deadline_seconds)
    return domain.solve(contacts, INTERVAL_SECONDS, s.handle_seconds, s.answer_within, s.target,
                        patience=s.patience, chats=s.chats)  # fmt: skip


def local_day_and_interval(at: datetime, zone: ZoneInfo) -> tuple[date, int]:
    local = at.astimezone(zone)
    return local.date(), (local.hour * 60 + local.minute) // domain.INTERVAL_MINUTES


def interval_start(day: date, interval: int, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(minutes=interval * domain.INTERVAL_MINUTES)


@dataclass(slots=True)
class History:
    """Counts per local day (and interval) in the tenant's time zone."""

    orders: dict[date, float] = field(default_factory=lambda: defaultdict(float))
    contacts: dict[date, list[float]] = field(default_factory=dict)  # all tickets per interval
    # (group, line) → tickets in the last 4 weeks, for each group's and line's share
    mix: dict[tuple[str, Line], float] = field(default_factory=lambda: defaultdict(float))
    cases: dict[date, float] = field(default_factory=lambda: defaultdict(float))


def build_history(
    zone: ZoneInfo,
    today: date,
    orders: Mapping[datetime, int],
    tickets: Iterable[tuple[datetime, str, str, int]],
    cases: Mapping[datetime, int],
) -> History:
    """Counts per 30-minute interval (keyed by the interval's start) into local days and intervals."""
    h = History()
    for at, n in orders.items():
        h.orders[at.astimezone(zone).date()] += n
    recent = today - timedelta(days=28)
    for at, group, channel, n in tickets:
        day, slot = local_day_and_interval(at, zone)
        h.contacts.setdefault(day, [0.0] * INTERVALS_PER_DAY)[slot] += n
        if day >= recent:
            h.mix[(group or ALL_GROUPS, line_of(channel))] += n
    for at, n in cases.items():
        h.cases[at.astimezone(zone).date()] += n
    return h


def expected_orders(orders: Mapping[date, float], day: date, today: date) -> float:
    """Orders of a day: counted when it has passed, else the mean of the same weekday over the last
    four weeks (today counts as not yet placed: half a day of orders would read as a slump)."""
    if day < today:
        return orders.get(day, 0.0)
    same = [orders.get(day - timedelta(days=7 * w), 0.0) for w in range(1, ORDER_WEEKS + 1)
            if day - timedelta(days=7 * w) < today]  # fmt: skip
    return math.fsum(same) / len(same) if same else 0.0


@dataclass(frozen=True, slots=True)
class IntervalNeed:
    start: datetime
    contacts: float
    required: int  # rostered heads the forecast needs
    rostered: int  # heads on the roster
    gap: int  # rostered − required; negative: short


@dataclass(frozen=True, slots=True)
class GroupPlan:
    key: str
    lines: tuple[Line, ...]
    intervals: tuple[IntervalNeed, ...]

    @property
    def short_intervals(self) -> int:
        return sum(1 for i in self.intervals if i.gap < 0)


@dataclass(frozen=True, slots=True)
class Plan:
    days: tuple[date, ...]
    groups: tuple[GroupPlan, ...]
    rates: forecasting.LagRates
    shape_from_history: bool
    wape_yesterday: float | None
    contacts_per_day: tuple[float, ...]


def _day_forecast(h: History, day: date, today: date, rates: forecasting.LagRates, uplift: float) -> list[float]:
    known = {d: expected_orders(h.orders, d, today) for d in (day - timedelta(days=k) for k in range(forecasting.LAGS))}
    total = forecasting.contacts_on(day, known, rates, uplift)
    history = {d: counts for d, counts in h.contacts.items() if d < today}
    return [total * share for share in forecasting.intraday_shape(history, day.weekday())]


def _cases_per_day(h: History, day: date, today: date) -> float:
    return expected_orders(h.cases, day, today) if any(h.cases.values()) else 0.0


def plan(
    h: History,
    today: date,
    days: int,
    roster: Mapping[tuple[str, date, int], int],
    zone: ZoneInfo,
    *,
    uplift: float = 0.0,
) -> Plan:
    daily_contacts = {d: math.fsum(c) for d, c in h.contacts.items() if d < today}
    rates = forecasting.fit_lag_rates(h.orders, daily_contacts, today)
    horizon = tuple(today + timedelta(days=i) for i in range(days))
    per_day = {d: _day_forecast(h, d, today, rates, uplift) for d in horizon}
    mix = dict(h.mix) or {(ALL_GROUPS, Line.CHAT): 1.0}
    mix_total = math.fsum(mix.values())
    by_group: dict[str, dict[Line, float]] = defaultdict(dict)
    for (group, line), count in sorted(mix.items()):
        by_group[group][line] = count / mix_total
    if any(h.cases.values()):
        by_group[CASES_GROUP][Line.CASES] = 1.0
    past = {x: c for x, c in h.contacts.items() if x < today}
    case_shapes = {d: forecasting.intraday_shape(past, d.weekday()) for d in horizon}
    groups = []
    for key, shares in sorted(by_group.items()):
        needs = []
        for d in horizon:
            shape = per_day[d]
            case_total = _cases_per_day(h, d, today)
            case_shape = case_shapes[d]
            for slot in range(INTERVALS_PER_DAY):
                contacts = {line: (case_total * case_shape[slot] if line is Line.CASES else shape[slot] * share)
                            for line, share in shares.items()}  # fmt: skip
                required = sum(staff(line, n).rostered for line, n in contacts.items())
                on_roster = roster.get((key, d, slot), 0)
                needs.append(IntervalNeed(interval_start(d, slot, zone), math.fsum(contacts.values()), required,
                                          on_roster, on_roster - required))  # fmt: skip
        groups.append(GroupPlan(key, tuple(shares), tuple(needs)))
    return Plan(horizon, tuple(groups), rates, any(d < today for d in h.contacts),
                _wape_yesterday(h, today, uplift), tuple(math.fsum(per_day[d]) for d in horizon))  # fmt: skip


def _wape_yesterday(h: History, today: date, uplift: float) -> float | None:
    """Yesterday's forecast, made without yesterday's counts, against what came in, per interval."""
    yesterday = today - timedelta(days=1)
    actual = h.contacts.get(yesterday)
    if actual is None:
        return None
    before = History(h.orders, {d: c for d, c in h.contacts.items() if d < yesterday}, h.mix, h.cases)
    daily = {d: math.fsum(c) for d, c in before.contacts.items()}
    rates = forecasting.fit_lag_rates(h.orders, daily, yesterday)
    return forecasting.wape(actual, _day_forecast(before, yesterday, yesterday, rates, uplift))


def roster_intervals(start: str, end: str) -> range:
    """Intervals from `start` up to `end` ("HH:MM" on the half hour; "24:00" ends the day)."""
    first, last = _interval_of(start), _interval_of(end)
    if last <= first:
        raise Invalid("The shift must end after it starts.", key="scheduling.error.shift_order")
    return range(first, last)


def _interval_of(text: str) -> int:
    hours, _, minutes = text.strip().partition(":")
    if not (hours.isdigit() and minutes.isdigit()) or int(minutes) not in (0, 30) or not 0 <= int(hours) <= 24:
        raise Invalid("Give times on the half hour, like 09:00 or 13:30.", key="scheduling.error.time")
    slot = int(hours) * 2 + int(minutes) // 30
    if slot > INTERVALS_PER_DAY:
        raise Invalid("Give times on the half hour, like 09:00 or 13:30.", key="scheduling.error.time")
    return slot


def chart_data(group: GroupPlan, labels: Sequence[str]) -> dict[str, object]:
    """What the page's chart draws for one group (static/js/staffing.js reads it)."""
    return {
        "labels": list(labels),
        "required": [i.required for i in group.intervals],
        "rostered": [i.rostered for i in group.intervals],
        "short": [i.gap < 0 for i in group.intervals],
    }
