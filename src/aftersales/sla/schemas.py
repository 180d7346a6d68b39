"""What the SLA context hands out: clock views for ticket pages, the sweep's result, the admin views."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


@dataclass(frozen=True, slots=True)
class ClockView:
    """One clock as a ticket page shows it; remaining_seconds is negative when overdue."""

    clock_id: int
    subject_id: int
    metric: str
    status: str
    target_at: datetime
    warn_at: datetime | None
    breached_at: datetime | None
    stopped_at: datetime | None
    target_seconds: int
    remaining_seconds: int
    calendar_key: str

    @property
    def overdue(self) -> bool:
        return self.remaining_seconds < 0


@dataclass(frozen=True, slots=True)
class SweepResult:
    checked: int = 0
    warned: int = 0
    breached: int = 0
    batches: int = 0


class PolicyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    ticket_type: str
    priority: str
    metric: str
    target_minutes: int
    warn_percent: int
    business_hours: bool
    calendar_key: str
    version: int
    updated_at: datetime
    updated_by: str


class PolicyIn(BaseModel):
    target_minutes: int = Field(ge=1)
    warn_percent: int = Field(default=80, ge=5, le=99)
    business_hours: bool = True
    calendar_key: str = Field(default="platform", min_length=1, max_length=64)
    version: int | None = None


class ClosureOut(BaseModel):
    start: datetime
    end: datetime
    note: str = ""


class CalendarOut(BaseModel):
    key: str
    name_zh: str
    name_en: str
    time_zone: str
    always_open: bool
    chinese_holidays: bool
    weekly: dict[str, list[list[str]]]
    closures: list[ClosureOut]
    version: int
    updated_at: datetime
    updated_by: str


class PublicDayOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    day: date
    kind: str
    name: str
    updated_by: str


@dataclass(frozen=True, slots=True)
class YearCoverage:
    """Whether the Chinese holiday data covers a year, and how many days administrators entered."""

    year: int
    covered: bool
    entered_holidays: int
    entered_workdays: int


class DeskHours(BaseModel):
    """The service desk's opening hours as the help center shows them, from its SLA calendar."""

    name_zh: str
    name_en: str
    time_zone: str
    always_open: bool
    chinese_holidays: bool
    # Monday first: (weekday key, [[start, end], ...]); an empty list is a closed day.
    weekly: list[tuple[str, list[list[str]]]]
