"""The SLA's reference data as the clocks read it: the policy matrix and the calendars (with the
public days), loaded once per process and kept until an administrator changes any of them
(aftersales.db.refcache counts the changes, across processes).

Values here are shared between threads and requests: immutable (frozen dataclasses, tuples); the
dicts are never changed once built.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import structlog
from sqlalchemy.orm import Session

from aftersales.db import refcache
from aftersales.kit.clock import ensure_utc
from aftersales.sla.calendar import BusinessCalendar, CalendarError, PublicDayKind
from aftersales.sla.calendar import weekly_from_mapping as _weekly
from aftersales.sla.domain import ALWAYS_OPEN_KEY
from aftersales.sla.models import SlaCalendar, SlaPublicDay
from aftersales.sla.repository import SlaRepository

log = structlog.get_logger("aftersales.sla.service")
AREA = "sla"
ALWAYS_OPEN = BusinessCalendar(key=ALWAYS_OPEN_KEY, always_open=True, chinese_holidays=False)


@dataclass(frozen=True, slots=True)
class PolicyCell:
    """One metric of one (type, priority) cell, as the clocks use it."""

    metric: str
    target_minutes: int
    warn_percent: int
    business_hours: bool
    calendar_key: str


def public_days_of(rows: Sequence[SlaPublicDay]) -> tuple[tuple[date, PublicDayKind], ...]:
    return tuple((row.day, PublicDayKind(row.kind)) for row in rows)


def calendar_of(row: SlaCalendar, public_days: tuple[tuple[date, PublicDayKind], ...]) -> BusinessCalendar:
    """The pure calendar of a stored row; CalendarError when the row cannot be used."""
    closures = tuple(
        (ensure_utc(datetime.fromisoformat(c["start"])), ensure_utc(datetime.fromisoformat(c["end"])))
        for c in row.closures or []
    )
    return BusinessCalendar(
        key=row.key,
        zone=row.time_zone,
        weekly=_weekly(row.weekly or {}),
        always_open=row.always_open,
        chinese_holidays=row.chinese_holidays,
        public_days=public_days if row.chinese_holidays else (),
        closures=closures,
    )


def policies_for(session: Session, ticket_type: str, priority: str) -> tuple[PolicyCell, ...]:
    """The cell's metrics, in the order they were stored."""
    return refcache.cached(session, AREA, "policies", _matrix).get((ticket_type, priority), ())


def _matrix(session: Session) -> dict[tuple[str, str], tuple[PolicyCell, ...]]:
    cells: dict[tuple[str, str], list[PolicyCell]] = {}
    for row in sorted(SlaRepository(session).policies(), key=lambda p: p.id):
        cell = PolicyCell(row.metric, row.target_minutes, row.warn_percent, row.business_hours, row.calendar_key)
        cells.setdefault((row.ticket_type, row.priority), []).append(cell)
    return {key: tuple(value) for key, value in cells.items()}


def _calendars(session: Session) -> dict[str, BusinessCalendar]:
    """Every stored calendar; a broken one counts wall-clock time (logged for the administrator)."""
    repo = SlaRepository(session)
    public = public_days_of(repo.public_days())
    out: dict[str, BusinessCalendar] = {}
    for row in repo.calendars():
        try:
            out[row.key] = calendar_of(row, public)
        except (CalendarError, ValueError, KeyError) as exc:
            log.error("sla.calendar_broken", key=row.key, error=str(exc))
            out[row.key] = ALWAYS_OPEN
    return out


class Calendars:
    """The calendars of one use case; an unknown key counts wall-clock time, which errs on the
    customer's side (deadlines come sooner), and is logged for the administrator."""

    def __init__(self, repo: SlaRepository) -> None:
        self.session = repo.session
        self._known: dict[str, BusinessCalendar] | None = None

    def _all(self) -> dict[str, BusinessCalendar]:
        if self._known is None:
            self._known = refcache.cached(self.session, AREA, "calendars", _calendars)
        return self._known

    def exists(self, key: str) -> bool:
        return key in self._all()

    def get(self, key: str) -> BusinessCalendar:
        if key == ALWAYS_OPEN_KEY:
            return ALWAYS_OPEN
        calendar = self._all().get(key)
        if calendar is None:
            log.warning("sla.calendar_missing", key=key)
            return ALWAYS_OPEN
        return calendar
