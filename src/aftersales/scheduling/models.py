"""The roster: how many agents of a skill group are on shift in each 30-minute interval of a day."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from aftersales.db.base import Base, UTCDateTime


class RosterSlot(Base):
    """A supervisor's entry: `agents` of `group_key` on shift in interval `interval` (0–47, local
    time in the tenant's time zone) of `day`. No row means nobody is rostered there."""

    __tablename__ = "scheduling_roster"
    __table_args__ = (UniqueConstraint("group_key", "day", "interval"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_key: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date, index=True)
    interval: Mapped[int] = mapped_column(Integer)
    agents: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
