"""Planning from counts: groups and lines from the tickets' mix, the roster against the need,
yesterday's WAPE, shift times."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from aftersales.kit.errors import Invalid
from aftersales.scheduling import planning
from aftersales.scheduling.planning import Line

ZONE = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 12, 7)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE).astimezone(UTC)


def _history() -> planning.History:
    orders = {_at(TODAY - timedelta(days=d), 12): 50 for d in range(1, 15)}
    tickets = []
    for d in range(1, 15):
        day = TODAY - timedelta(days=d)
        tickets += [(_at(day, 10), "tier1-general", "phone", 3), (_at(day, 20, 30), "tier1-returns", "web", 1)]
    return planning.build_history(ZONE, TODAY, orders, tickets, {_at(TODAY - timedelta(days=7), 9): 1})


def test_groups_and_lines_come_from_the_tickets_mix() -> None:
    h = _history()
    plan = planning.plan(h, TODAY, 2, {}, ZONE)
    keys = [g.key for g in plan.groups]
    assert keys == ["cases", "tier1-general", "tier1-returns"]
    general = next(g for g in plan.groups if g.key == "tier1-general")
    assert general.lines == (Line.PHONE,) and len(general.intervals) == 96
    # contacts land where the same weekdays had them: 10:00 and 20:30 local
    busy = {i.start.astimezone(ZONE).strftime("%H:%M") for i in general.intervals if i.contacts > 0}
    assert busy == {"10:00", "20:30"}
    # fallback: 0.08 per order, three quarters of the tickets are this group's phone line
    assert not plan.rates.fitted
    assert sum(i.contacts for i in general.intervals[:48]) == pytest.approx(plan.contacts_per_day[0] * 0.75)


def test_the_roster_sets_the_gap_per_interval() -> None:
    h = _history()
    ten = 20  # 10:00 local
    roster = {("tier1-general", TODAY, ten): 1}
    general = next(g for g in planning.plan(h, TODAY, 1, roster, ZONE).groups if g.key == "tier1-general")
    slot = general.intervals[ten]
    assert slot.required >= 1 and slot.rostered == 1 and slot.gap == 1 - slot.required
    assert general.short_intervals == sum(1 for i in general.intervals if i.required > i.rostered)
    chart = planning.chart_data(general, [str(n) for n in range(48)])
    assert chart["short"][ten] == (slot.gap < 0)


def test_yesterdays_wape_compares_its_forecast_with_what_came_in() -> None:
    plan = planning.plan(_history(), TODAY, 1, {}, ZONE)
    assert plan.wape_yesterday is not None and plan.wape_yesterday >= 0
    empty = planning.plan(planning.History(), TODAY, 1, {}, ZONE)
    assert empty.wape_yesterday is None and empty.groups[0].key == planning.ALL_GROUPS


def test_shift_times_are_on_the_half_hour() -> None:
    assert planning.roster_intervals("09:00", "12:30") == range(18, 25)
    assert planning.roster_intervals("00:00", "24:00") == range(0, 48)
    for start, end in [("09:15", "10:00"), ("10:00", "09:00"), ("9", "10:00"), ("23:00", "24:30")]:
        with pytest.raises(Invalid):
            planning.roster_intervals(start, end)
