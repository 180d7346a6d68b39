"""Every query of the scheduling context: the roster."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from aftersales.db.repository import Repository
from aftersales.scheduling.models import RosterSlot


class SchedulingRepository(Repository):
    def roster_between(self, first: date, last: date) -> list[RosterSlot]:
        stmt = select(RosterSlot).where(RosterSlot.day >= first, RosterSlot.day <= last)
        return list(self.session.scalars(stmt))

    def set_slots(self, group_key: str, day: date, intervals: range, agents: int, by: int | None, at: datetime) -> None:
        """Upsert one entry per interval; a second identical request finds the rows and changes nothing."""
        existing = {
            row.interval: row
            for row in self.session.scalars(
                select(RosterSlot).where(
                    RosterSlot.group_key == group_key, RosterSlot.day == day, RosterSlot.interval.in_(list(intervals))
                )
            )
        }
        for slot in intervals:
            row = existing.get(slot)
            if row is None:
                self.add(RosterSlot(group_key=group_key, day=day, interval=slot, agents=agents, updated_by=by,
                                    updated_at=at))  # fmt: skip
            elif row.agents != agents:
                row.agents, row.updated_by, row.updated_at = agents, by, at
