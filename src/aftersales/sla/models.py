"""SLA tables: the policy matrix, business calendars, entered public days, clocks and metric events.

Clocks carry their computed deadlines; `next_check_at` is the one moment the sweep must look at a
clock again (NULL when nothing is left to check) and a partial index covers only the rows that have
one, so the sweep reads what is due and its cost does not grow with the open backlog.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from aftersales.db import refcache
from aftersales.db.base import Base, UTCDateTime


# Deliberately separate: each table declares its own columns, although they share a shape with other
# tables: a table is one context's fact, and the migrations compare them one by one.
class SlaPolicy(Base):
    """One cell of the matrix for one metric: (ticket_type, priority, metric) → target."""

    __tablename__ = "sla_policies"
    __table_args__ = (UniqueConstraint("ticket_type", "priority", "metric"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_type: Mapped[str] = mapped_column(String(24))
    priority: Mapped[str] = mapped_column(String(16))
    metric: Mapped[str] = mapped_column(String(24))
    target_minutes: Mapped[int] = mapped_column(Integer)
    # The pre-breach warning comes at this percentage of the target.
    warn_percent: Mapped[int] = mapped_column(Integer, default=80)
    business_hours: Mapped[bool] = mapped_column(Boolean, default=True)
    calendar_key: Mapped[str] = mapped_column(String(64), default="platform")
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(120), default="system")

    __mapper_args__ = {"version_id_col": version}


class SlaCalendar(Base):
    """A team's open hours; the calendar whose key is a team's name serves that team."""

    __tablename__ = "sla_calendars"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    time_zone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    always_open: Mapped[bool] = mapped_column(Boolean, default=False)
    chinese_holidays: Mapped[bool] = mapped_column(Boolean, default=True)
    # {"mon": [["09:00", "12:00"], ["13:30", "18:00"]], …}
    weekly: Mapped[dict[str, Any]] = mapped_column(JSON)
    # [{"start": iso, "end": iso, "note": str}], aware datetimes
    closures: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(120), default="system")

    __mapper_args__ = {"version_id_col": version}


class SlaPublicDay(Base):
    """A holiday or make-up workday an administrator entered; applies to every calendar that
    follows the Chinese public holidays, overrides the package and carries the years past its data."""

    __tablename__ = "sla_public_days"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(120), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(120), default="system")


class SlaClock(Base):
    __tablename__ = "sla_clocks"
    __table_args__ = (
        UniqueConstraint("subject_kind", "subject_id", "metric"),
        # Only clocks with something left to check are in this index.
        Index(
            "ix_sla_clocks_next_check_at",
            "next_check_at",
            sqlite_where=text("next_check_at IS NOT NULL"),
            postgresql_where=text("next_check_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int] = mapped_column(Integer)
    metric: Mapped[str] = mapped_column(String(24))
    ticket_type: Mapped[str] = mapped_column(String(24))
    priority: Mapped[str] = mapped_column(String(16))
    team: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(16))
    calendar_key: Mapped[str] = mapped_column(String(64))
    target_seconds: Mapped[int] = mapped_column(Integer)
    warn_seconds: Mapped[int] = mapped_column(Integer)
    # Business seconds spent in earlier segments, before the last pause.
    used_seconds: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Start of the current counting segment (started_at, or the last resume).
    segment_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    target_at: Mapped[datetime] = mapped_column(UTCDateTime)
    warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Sweeps in a row that failed on this clock; its next check backs off accordingly.
    sweep_failures: Mapped[int] = mapped_column(Integer, default=0)


class SlaEvent(Base):
    """Append-only metric events for reports (started, paused, resumed, warned, breached, met…)."""

    __tablename__ = "sla_events"
    __table_args__ = (
        Index("ix_sla_events_occurred_kind", "occurred_at", "kind"),
        Index("ix_sla_events_subject", "subject_kind", "subject_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clock_id: Mapped[int] = mapped_column(Integer, index=True)
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int] = mapped_column(Integer)
    metric: Mapped[str] = mapped_column(String(24))
    kind: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Business seconds counted on the clock at this moment, and its target, for reports.
    elapsed_seconds: Mapped[int] = mapped_column(Integer)
    target_seconds: Mapped[int] = mapped_column(Integer)
    ticket_type: Mapped[str] = mapped_column(String(24))
    priority: Mapped[str] = mapped_column(String(16))
    team: Mapped[str] = mapped_column(String(64), default="")
    late: Mapped[bool] = mapped_column(Boolean, default=False)


# The policy matrix, calendars and public days are cached per process (sla.reference); any write
# to them changes the area's version, so every process reads them afresh (aftersales.db.refcache).
refcache.watch("sla", SlaPolicy, SlaCalendar, SlaPublicDay)
