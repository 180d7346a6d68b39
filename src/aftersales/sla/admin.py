"""Use cases of the SLA admin pages: the shipped defaults, the policy matrix, calendars, the public
days administrators enter (the State Council's schedule past the package's data), closures."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.kit.access import Principal, Role
from aftersales.kit.clock import ensure_utc
from aftersales.kit.errors import Conflict, Forbidden, Invalid, NotFound
from aftersales.kit.vocabulary import Priority, TicketType
from aftersales.sla import reference, service
from aftersales.sla.calendar import (
    WEEKDAYS,
    CalendarError,
    PublicDayKind,
    add_business_time,
    chinese_data_years,
    periods_from_text,
    uses_fallback,
    weekly_from_mapping,
    weekly_to_mapping,
)
from aftersales.sla.domain import Metric, SlaRuleError, check_target
from aftersales.sla.models import SlaCalendar, SlaPolicy, SlaPublicDay
from aftersales.sla.repository import SlaRepository
from aftersales.sla.schemas import CalendarOut, ClosureOut, PolicyIn, PolicyOut, PublicDayOut, YearCoverage

DEFAULTS_PATH = service.DEFAULTS_PATH
MAX_CLOSURES = 200


def _who(by: Principal) -> str:
    return (by.display_name or by.username)[:120]


def _admin(by: Principal) -> None:
    if not by.has(Role.ADMIN):
        raise Forbidden("Only administrators may change SLA settings.")


# --- shipped defaults ---------------------------------------------------------------------------
def read_defaults(path: Path | None = None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Calendars and policy cells of the defaults file, checked; CalendarError/SlaRuleError say what is wrong."""
    data = yaml.safe_load((path or DEFAULTS_PATH).read_text(encoding="utf-8"))
    calendars: list[dict[str, Any]] = []
    for entry in data.get("calendars", []):
        weekly = weekly_to_mapping(weekly_from_mapping(entry.get("weekly") or {}))
        calendars.append(
            {
                "key": str(entry["key"]),
                "name_zh": str(entry.get("name_zh", entry["key"])),
                "name_en": str(entry.get("name_en", entry["key"])),
                "time_zone": str(entry.get("time_zone", "Asia/Shanghai")),
                "always_open": bool(entry.get("always_open", False)),
                "chinese_holidays": bool(entry.get("chinese_holidays", True)),
                "weekly": weekly,
            }
        )
    for entry in calendars:  # a calendar that cannot count time must not ship
        reference.calendar_of(SlaCalendar(closures=[], **entry), ())
    base = data.get("policy_defaults", {})
    cells: list[dict[str, Any]] = []
    for ticket_type in TicketType:
        for priority in Priority:
            cell = (data.get("policies", {}).get(ticket_type.value) or {}).get(priority.value)
            if not cell:
                raise SlaRuleError(f"the defaults have no cell for {ticket_type.value} × {priority.value}")
            for metric in Metric:
                if metric.value not in cell:
                    continue
                minutes = int(cell[metric.value])
                warn_percent = int(cell.get("warn_percent", base.get("warn_percent", 80)))
                check_target(minutes, warn_percent)
                row: dict[str, Any] = {
                    "ticket_type": ticket_type.value,
                    "priority": priority.value,
                    "metric": metric.value,
                    "target_minutes": minutes,
                    "warn_percent": warn_percent,
                    "business_hours": bool(cell.get("business_hours", base.get("business_hours", True))),
                    "calendar_key": str(cell.get("calendar", base.get("calendar", "platform"))),
                }
                cells.append(row)
    return calendars, cells


def load_defaults(db: Database, path: Path | None = None) -> int:
    calendars, cells = read_defaults(path)
    try:
        return _insert_missing(db, calendars, cells)
    except IntegrityError:
        # Another process loaded the same rows at the same moment; the second pass skips them.
        return _insert_missing(db, calendars, cells)


def _insert_missing(db: Database, calendars: list[dict[str, Any]], cells: list[dict[str, Any]]) -> int:
    with db.write() as uow:
        repo = SlaRepository(uow.session)
        now, added = clock.now(), 0
        keys = repo.calendar_keys()
        for entry in calendars:
            if entry["key"] not in keys:
                repo.add(SlaCalendar(**entry, closures=[], updated_at=now, updated_by="system"))
                added += 1
        present = repo.policy_cells()
        for cell in cells:
            if (cell["ticket_type"], cell["priority"], cell["metric"]) not in present:
                repo.add(SlaPolicy(**cell, updated_at=now, updated_by="system"))
                added += 1
        uow.commit()
        return added


# --- the policy matrix --------------------------------------------------------------------------
def list_policies(db: Database) -> list[PolicyOut]:
    with db.read() as uow:
        return [PolicyOut.model_validate(p) for p in SlaRepository(uow.session).policies()]


def update_policy(db: Database, policy_id: int, data: PolicyIn, by: Principal) -> PolicyOut:
    """An administrator's edit of one cell; `data.version` is the one the editor started from."""
    _admin(by)
    try:
        check_target(data.target_minutes, data.warn_percent)
    except SlaRuleError as exc:
        raise Invalid(str(exc).capitalize() + ".") from exc
    with db.write() as uow:
        repo = SlaRepository(uow.session)
        policy = repo.policy(policy_id)
        if policy is None:
            raise NotFound(f"No SLA policy {policy_id}.")
        if data.calendar_key not in repo.calendar_keys():
            raise Invalid(f"There is no calendar '{data.calendar_key}'; pick one of the calendars below.")
        if data.version is not None and policy.version != data.version:
            raise Conflict(
                f"This target ({policy.ticket_type} × {policy.priority}, {policy.metric}) was changed by "
                f"{policy.updated_by} while you were editing it (you edited version {data.version}, it is now "
                f"version {policy.version}). Reload the page and make your change again."
            )
        policy.target_minutes = data.target_minutes
        policy.warn_percent = data.warn_percent
        policy.business_hours = data.business_hours
        policy.calendar_key = data.calendar_key
        policy.updated_at = clock.now()
        policy.updated_by = _who(by)
        try:
            uow.commit()
        except StaleDataError as exc:
            raise Conflict("Someone else changed this target at the same time. Reload the page and try again.") from exc
        return PolicyOut.model_validate(policy)


# --- calendars ----------------------------------------------------------------------------------
# Field by field on purpose: CalendarOut's own fields; look-alikes elsewhere build others'.
def _calendar_out(row: SlaCalendar) -> CalendarOut:
    return CalendarOut(
        key=row.key,
        name_zh=row.name_zh,
        name_en=row.name_en,
        time_zone=row.time_zone,
        always_open=row.always_open,
        chinese_holidays=row.chinese_holidays,
        weekly={day: list(row.weekly.get(day, [])) for day in WEEKDAYS},
        closures=[ClosureOut(**c) for c in row.closures or []],
        version=row.version,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


def list_calendars(db: Database) -> list[CalendarOut]:
    with db.read() as uow:
        return [_calendar_out(row) for row in SlaRepository(uow.session).calendars()]


def _in_zone(moment: datetime, zone: str) -> datetime:
    """A time an administrator typed without a zone means the calendar's local time."""
    if moment.tzinfo is not None:
        return moment
    try:
        return moment.replace(tzinfo=ZoneInfo(zone))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise Invalid(f"The calendar's time zone {zone!r} is unknown; fix it first.") from exc


def _calendar_row(repo: SlaRepository, key: str) -> SlaCalendar:
    row = repo.calendar(key)
    if row is None:
        raise NotFound(f"No SLA calendar '{key}'.")
    return row


def _check_version(row: SlaCalendar, version: int | None) -> None:
    if version is not None and row.version != version:
        raise Conflict(
            f"Calendar '{row.key}' was changed by {row.updated_by} while you were editing it "
            f"(you edited version {version}, it is now version {row.version}). Reload the page and try again."
        )


def _save_calendar(uow: Any, row: SlaCalendar, by: Principal) -> CalendarOut:
    repo = SlaRepository(uow.session)
    try:  # never store a calendar that cannot count time
        reference.calendar_of(row, reference.public_days_of(repo.public_days()))
    except CalendarError as exc:
        raise Invalid(f"The calendar cannot be used: {exc}.") from exc
    row.updated_at = clock.now()
    row.updated_by = _who(by)
    # The stale-edit refusal is written out per editor on purpose: each names its own thing.
    try:
        uow.commit()
    except StaleDataError as exc:
        raise Conflict(
            f"Calendar '{row.key}' was changed by someone else at the same time. Reload and try again."
        ) from exc
    return _calendar_out(row)


def update_calendar(
    db: Database,
    key: str,
    *,
    periods: dict[str, str],
    time_zone: str,
    chinese_holidays: bool,
    always_open: bool,
    version: int | None,
    by: Principal,
) -> CalendarOut:
    """Weekly periods as the form writes them ({"mon": "09:00-12:00, 13:30-18:00"}), zone, flags."""
    _admin(by)
    try:
        weekly = {day: periods_from_text(day, periods.get(day, "")) for day in WEEKDAYS}
        weekly_from_mapping(weekly)
    except CalendarError as exc:
        raise Invalid(f"{exc}.") from exc
    with db.write() as uow:
        row = _calendar_row(SlaRepository(uow.session), key)
        _check_version(row, version)
        row.weekly = weekly
        row.time_zone = time_zone.strip()
        row.chinese_holidays = chinese_holidays
        row.always_open = always_open
        return _save_calendar(uow, row, by)


def add_closure(
    db: Database, key: str, start: datetime, end: datetime, note: str, version: int | None, by: Principal
) -> CalendarOut:
    """A closed stretch; times without a zone are read in the calendar's own time zone."""
    _admin(by)
    with db.write() as uow:
        row = _calendar_row(SlaRepository(uow.session), key)
        _check_version(row, version)
        start, end = _in_zone(start, row.time_zone), _in_zone(end, row.time_zone)
        if end <= start:
            raise Invalid("A closure must end after it starts.")
        if end - start > timedelta(days=60):
            raise Invalid("A closure may last at most 60 days; enter longer breaks as holidays.")
        if len(row.closures or []) >= MAX_CLOSURES:
            raise Invalid(f"A calendar holds at most {MAX_CLOSURES} closures; remove past ones first.")
        closure = {
            "start": ensure_utc(start).isoformat(),
            "end": ensure_utc(end).isoformat(),
            "note": note.strip()[:200],
        }
        row.closures = sorted([*(row.closures or []), closure], key=lambda c: c["start"])
        return _save_calendar(uow, row, by)


def remove_closure(db: Database, key: str, index: int, version: int | None, by: Principal) -> CalendarOut:
    _admin(by)
    with db.write() as uow:
        row = _calendar_row(SlaRepository(uow.session), key)
        _check_version(row, version)
        closures = list(row.closures or [])
        if not 0 <= index < len(closures):
            raise NotFound("That closure is no longer there; reload the page.")
        del closures[index]
        row.closures = closures
        return _save_calendar(uow, row, by)


# --- public days and the reach of the Chinese calendar data ------------------------------------
def list_public_days(db: Database) -> list[PublicDayOut]:
    with db.read() as uow:
        return [PublicDayOut.model_validate(d) for d in SlaRepository(uow.session).public_days()]


def set_public_day(db: Database, day: date, kind: str, name: str, by: Principal) -> PublicDayOut:
    """Enter (or change) a holiday or a make-up workday for every calendar that follows the
    Chinese public holidays."""
    _admin(by)
    try:
        checked = PublicDayKind(kind)
    except ValueError as exc:
        raise Invalid("Choose whether the day is a holiday or a make-up workday.") from exc
    if not 2000 <= day.year <= 2100:
        raise Invalid("Enter a date between 2000 and 2100.")
    with db.write() as uow:
        repo = SlaRepository(uow.session)
        row = repo.public_day(day)
        if row is None:
            row = SlaPublicDay(day=day)
            repo.add(row)
        row.kind, row.name = checked.value, name.strip()[:120]
        row.updated_at, row.updated_by = clock.now(), _who(by)
        try:
            uow.commit()
        except IntegrityError as exc:
            raise Conflict(f"{day} was entered by someone else at the same time. Reload the page.") from exc
        return PublicDayOut.model_validate(row)


def remove_public_day(db: Database, day: date, by: Principal) -> None:
    _admin(by)
    with db.write() as uow:
        repo = SlaRepository(uow.session)
        row = repo.public_day(day)
        if row is None:
            raise NotFound(f"No entered day {day}.")
        repo.delete(row)
        uow.commit()


def coverage(db: Database, today: date | None = None) -> list[YearCoverage]:
    """This year and the next: whether the package covers them and what administrators entered.
    A year it does not cover needs the State Council's schedule entered by hand."""
    today = today or clock.now().date()
    days = list_public_days(db)
    out = []
    for year in (today.year, today.year + 1):
        mine = [d for d in days if d.day.year == year]
        out.append(
            YearCoverage(
                year=year,
                covered=not uses_fallback(date(year, 6, 1)),
                entered_holidays=sum(1 for d in mine if d.kind == PublicDayKind.HOLIDAY),
                entered_workdays=sum(1 for d in mine if d.kind == PublicDayKind.WORKDAY),
            )
        )
    return out


def data_years() -> tuple[int, int]:
    return chinese_data_years()


def preview_deadline(db: Database, key: str, start: datetime, minutes: int) -> datetime:
    """When a clock started at `start` with `minutes` of business time on this calendar is due
    (a start without a zone is the calendar's local time)."""
    if not 1 <= minutes <= 60 * 24 * 60:
        raise Invalid("Give between 1 minute and 60 days of business time.")
    with db.read() as uow:
        repo = SlaRepository(uow.session)
        row = _calendar_row(repo, key)
        start = _in_zone(start, row.time_zone)
        try:
            calendar = reference.calendar_of(row, reference.public_days_of(repo.public_days()))
            return add_business_time(calendar, start, timedelta(minutes=minutes))
        except CalendarError as exc:
            raise Invalid(f"The calendar cannot be used: {exc}.") from exc
