"""Every query on the timeline."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, or_, select

from aftersales.db.repository import Repository
from aftersales.timeline.models import TimelineEvent

# Entries arrive out of time order (a late logistics scan, the demo's 60 days, a retried
# delivery), so the row id is only the tie-break.
_NEWEST = (TimelineEvent.occurred_at.desc(), TimelineEvent.id.desc())


class TimelineRepository(Repository):
    def for_subjects(self, subjects: Sequence[tuple[str, int]], *, customer_view: bool) -> list[TimelineEvent]:
        if not subjects:
            return []
        clauses = [(TimelineEvent.subject_type == kind) & (TimelineEvent.subject_id == sid) for kind, sid in subjects]
        stmt = select(TimelineEvent).where(or_(*clauses))
        if customer_view:
            stmt = stmt.where(TimelineEvent.customer_visible.is_(True))
        stmt = stmt.order_by(TimelineEvent.occurred_at, TimelineEvent.id)
        return list(self.session.scalars(stmt))

    def newest_first(self, offset: int, limit: int, subject_type: str | None = None) -> tuple[list[TimelineEvent], int]:
        """One page of the audit log, newest first by when each thing happened (the row id breaks
        ties, so a page boundary is stable), and how many entries there are in all."""
        stmt = select(TimelineEvent)
        count = select(func.count(TimelineEvent.id))
        if subject_type:
            stmt = stmt.where(TimelineEvent.subject_type == subject_type)
            count = count.where(TimelineEvent.subject_type == subject_type)
        rows = self.session.scalars(stmt.order_by(*_NEWEST).offset(offset).limit(limit))
        return list(rows), self.session.scalar(count) or 0

    def recent(self, limit: int = 200, subject_type: str | None = None) -> list[TimelineEvent]:
        stmt = select(TimelineEvent).order_by(*_NEWEST).limit(limit)
        if subject_type:
            stmt = stmt.where(TimelineEvent.subject_type == subject_type)
        return list(self.session.scalars(stmt))
