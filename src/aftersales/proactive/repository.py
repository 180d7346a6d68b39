"""Every query of the proactive context."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, select

from aftersales.db.repository import Repository
from aftersales.proactive.models import Cursor, Incident, Watch


class ProactiveRepository(Repository):
    # --- intake ---------------------------------------------------------------------------
    def cursor(self, name: str, *, skip_locked: bool) -> Cursor | None:
        """The cursor row, locked for this transaction; None when another worker holds it (PostgreSQL)."""
        stmt = select(Cursor).where(Cursor.name == name)
        if skip_locked:
            stmt = stmt.with_for_update(skip_locked=True)
        return self.session.scalar(stmt)

    def cursor_exists(self, name: str) -> bool:
        return self.session.scalar(select(func.count()).select_from(Cursor).where(Cursor.name == name)) == 1

    def watches_of(self, order_ids: Collection[int]) -> dict[int, Watch]:
        rows = self.session.scalars(select(Watch).where(Watch.order_id.in_(list(order_ids))))
        return {w.order_id: w for w in rows}

    # --- the due set ---------------------------------------------------------------------------
    def due(self, now: datetime, limit: int, *, skip_locked: bool, leaving_out: Collection[int] = ()) -> list[Watch]:
        """Watches whose next check has come, oldest first, through the partial index. With
        skip_locked (PostgreSQL) several scanning workers take disjoint rows."""
        stmt = (
            select(Watch)
            .where(Watch.next_check_at.is_not(None), Watch.next_check_at <= now)
            .order_by(Watch.next_check_at)
            .limit(limit)
        )
        if leaving_out:
            stmt = stmt.where(Watch.id.not_in(list(leaving_out)))
        if skip_locked:
            stmt = stmt.with_for_update(skip_locked=True)
        return list(self.session.scalars(stmt))

    # --- incidents -----------------------------------------------------------------------------
    def episodes(self, episodes: Collection[str]) -> set[str]:
        if not episodes:
            return set()
        return set(self.session.scalars(select(Incident.episode).where(Incident.episode.in_(list(episodes)))))

    def open_of_order(self, order_id: int) -> list[Incident]:
        stmt = select(Incident).where(Incident.order_id == order_id, Incident.state.in_(("open", "notified")))
        return list(self.session.scalars(stmt))

    def to_notify(self, limit: int, *, skip_locked: bool, leaving_out: Collection[int] = ()) -> list[Incident]:
        stmt = select(Incident).where(Incident.state == "open").order_by(Incident.detected_at, Incident.id).limit(limit)
        if leaving_out:
            stmt = stmt.where(Incident.id.not_in(list(leaving_out)))
        if skip_locked:
            stmt = stmt.with_for_update(skip_locked=True)
        return list(self.session.scalars(stmt))

    def incident(self, incident_id: int) -> Incident | None:
        return self.session.get(Incident, incident_id)

    def unresolved(self, limit: int) -> list[Incident]:
        stmt = (
            select(Incident)
            .where(Incident.state.in_(("open", "notified")))
            .order_by(Incident.detected_at.desc(), Incident.id.desc())
            .limit(limit)
        )
        return list(self.session.scalars(stmt))

    def of_order(self, order_id: int) -> list[Incident]:
        stmt = select(Incident).where(Incident.order_id == order_id).order_by(Incident.detected_at, Incident.id)
        return list(self.session.scalars(stmt))
