"""Use cases of scheduling: the staffing plan for the next days and the supervisors' roster.

History comes through the other contexts' services (orders placed, tickets and cases opened);
scheduling never reads their tables. The arithmetic is in domain.py, forecasting.py, planning.py.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from aftersales.cases import service as cases
from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.kit.access import Principal
from aftersales.kit.errors import Invalid
from aftersales.orders import service as orders
from aftersales.routing import service as routing
from aftersales.scheduling import planning
from aftersales.scheduling.repository import SchedulingRepository
from aftersales.scheduling.schemas import RosterIn
from aftersales.tickets import service as tickets

MAX_DAYS = 7
# How far ahead (and back, to correct a day just past) a roster may be entered.
ROSTER_DAYS_AHEAD = 28


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone)


def history(db: Database, zone: ZoneInfo, today: date) -> planning.History:
    since = _local_midnight(today - timedelta(days=planning.HISTORY_DAYS), zone)
    until = _local_midnight(today + timedelta(days=1), zone)
    step = planning.INTERVAL_SECONDS
    return planning.build_history(
        zone,
        today,
        orders.placed_per_interval(db, since, until, step),
        tickets.arrivals_per_interval(db, since, until, step),
        cases.opened_per_interval(db, since, until, step),
    )


def roster(db: Database, first: date, last: date) -> dict[tuple[str, date, int], int]:
    with db.read() as uow:
        rows = SchedulingRepository(uow.session).roster_between(first, last)
        return {(r.group_key, r.day, r.interval): r.agents for r in rows}


def staffing_plan(db: Database, zone: ZoneInfo, days: int = 3, *, uplift: float = 0.0) -> planning.Plan:
    if not 1 <= days <= MAX_DAYS:
        raise Invalid(f"Forecast 1 to {MAX_DAYS} days ahead.", key="scheduling.error.days", most=MAX_DAYS)
    if not 0 <= uplift <= 20:
        raise Invalid("An event uplift is a share between 0 and 20 (0.5 = 50 % more).", key="scheduling.error.uplift")
    today = clock.now().astimezone(zone).date()
    return planning.plan(history(db, zone, today), today, days,
                         roster(db, today, today + timedelta(days=days - 1)), zone, uplift=uplift)  # fmt: skip


def group_keys(db: Database) -> list[str]:
    return [g.key for g in routing.group_options(db)]


def set_roster(db: Database, zone: ZoneInfo, data: RosterIn, by: Principal) -> int:
    """Put `agents` on the roster for every interval of the shift; returns the intervals set."""
    intervals = planning.roster_intervals(data.start, data.end)
    today = clock.now().astimezone(zone).date()
    if not -1 <= (data.day - today).days <= ROSTER_DAYS_AHEAD:
        raise Invalid(f"Enter a roster from yesterday up to {ROSTER_DAYS_AHEAD} days ahead.",
                      key="scheduling.error.roster_day", days=ROSTER_DAYS_AHEAD)  # fmt: skip
    if data.group_key not in {*group_keys(db), planning.ALL_GROUPS, planning.CASES_GROUP}:
        raise Invalid("Choose one of the skill groups.", key="scheduling.error.group")
    with db.write() as uow:
        SchedulingRepository(uow.session).set_slots(data.group_key, data.day, intervals, data.agents, by.user_id,
                                                    clock.now())  # fmt: skip
        uow.commit()
    return len(intervals)
