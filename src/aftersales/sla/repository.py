"""Every query of the SLA context."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import func, or_, select

from aftersales.db.repository import Repository
from aftersales.sla.models import SlaCalendar, SlaClock, SlaEvent, SlaPolicy, SlaPublicDay


class SlaRepository(Repository):
    # --- policies ---------------------------------------------------------------------------
    def policies(self) -> list[SlaPolicy]:
        stmt = select(SlaPolicy).order_by(SlaPolicy.ticket_type, SlaPolicy.priority, SlaPolicy.metric)
        return list(self.session.scalars(stmt))

    def policies_for(self, ticket_type: str, priority: str) -> list[SlaPolicy]:
        stmt = select(SlaPolicy).where(SlaPolicy.ticket_type == ticket_type, SlaPolicy.priority == priority)
        return list(self.session.scalars(stmt))

    def policy(self, policy_id: int) -> SlaPolicy | None:
        return self.session.get(SlaPolicy, policy_id)

    def policy_cells(self) -> set[tuple[str, str, str]]:
        rows = self.session.execute(select(SlaPolicy.ticket_type, SlaPolicy.priority, SlaPolicy.metric))
        return {(t, p, m) for t, p, m in rows}

    # --- calendars --------------------------------------------------------------------------
    def calendars(self) -> list[SlaCalendar]:
        return list(self.session.scalars(select(SlaCalendar).order_by(SlaCalendar.key)))

    def calendar(self, key: str) -> SlaCalendar | None:
        return self.session.scalar(select(SlaCalendar).where(SlaCalendar.key == key))

    def calendars_by_keys(self, keys: Iterable[str]) -> list[SlaCalendar]:
        wanted = sorted(set(keys))
        if not wanted:
            return []
        return list(self.session.scalars(select(SlaCalendar).where(SlaCalendar.key.in_(wanted))))

    def calendar_keys(self) -> set[str]:
        return set(self.session.scalars(select(SlaCalendar.key)))

    def public_days(self) -> list[SlaPublicDay]:
        return list(self.session.scalars(select(SlaPublicDay).order_by(SlaPublicDay.day)))

    def public_day(self, day: date) -> SlaPublicDay | None:
        return self.session.scalar(select(SlaPublicDay).where(SlaPublicDay.day == day))

    def delete(self, row: SlaPublicDay) -> None:
        self.session.delete(row)

    # --- clocks -----------------------------------------------------------------------------
    def clocks_of(self, subject_kind: str, subject_ids: Sequence[int]) -> list[SlaClock]:
        if not subject_ids:
            return []
        stmt = (
            select(SlaClock)
            .where(SlaClock.subject_kind == subject_kind, SlaClock.subject_id.in_(list(subject_ids)))
            .order_by(SlaClock.subject_id, SlaClock.id)
        )
        return list(self.session.scalars(stmt))

    def clocks_for_update(self, subject_kind: str, subject_id: int, *, lock: bool) -> list[SlaClock]:
        stmt = (
            select(SlaClock)
            .where(SlaClock.subject_kind == subject_kind, SlaClock.subject_id == subject_id)
            .order_by(SlaClock.id)
        )
        if lock:
            stmt = stmt.with_for_update()
        return list(self.session.scalars(stmt))

    def at_risk(self, subject_kind: str, limit: int) -> list[int]:
        """Subjects with an open clock that has warned or breached, most urgent deadline first."""
        rows = self.session.execute(
            select(SlaClock.subject_id, func.min(SlaClock.target_at))
            .where(
                SlaClock.subject_kind == subject_kind,
                SlaClock.stopped_at.is_(None),
                or_(SlaClock.warned_at.is_not(None), SlaClock.breached_at.is_not(None)),
                SlaClock.status.in_(("running", "breached")),
            )
            .group_by(SlaClock.subject_id)
            .order_by(func.min(SlaClock.target_at))
            .limit(limit)
        ).all()
        return [subject_id for subject_id, _ in rows]

    def due(self, now: datetime, limit: int, *, skip_locked: bool, leaving_out: Collection[int] = ()) -> list[SlaClock]:
        """Clocks whose next check has come, oldest first, through the partial index on
        next_check_at. With skip_locked (PostgreSQL) two sweeping workers take disjoint rows."""
        stmt = (
            select(SlaClock)
            .where(SlaClock.next_check_at.is_not(None), SlaClock.next_check_at <= now)
            .order_by(SlaClock.next_check_at)
            .limit(limit)
        )
        if leaving_out:
            stmt = stmt.where(SlaClock.id.not_in(list(leaving_out)))
        if skip_locked:
            stmt = stmt.with_for_update(skip_locked=True)
        return list(self.session.scalars(stmt))

    # --- events -----------------------------------------------------------------------------
    def events_of(self, subject_kind: str, subject_id: int) -> list[SlaEvent]:
        stmt = (
            select(SlaEvent)
            .where(SlaEvent.subject_kind == subject_kind, SlaEvent.subject_id == subject_id)
            .order_by(SlaEvent.id)
        )
        return list(self.session.scalars(stmt))
