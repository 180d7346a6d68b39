"""Every query of the surveys context."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select

from aftersales.db.repository import Repository, locked
from aftersales.surveys.domain import SurveyStatus
from aftersales.surveys.models import Survey


class SurveysRepository(Repository):
    def by_subject(self, subject_type: str, subject_ref: str, *, lock: bool = False) -> Survey | None:
        stmt: Select[Any] = select(Survey).where(Survey.subject_type == subject_type, Survey.subject_ref == subject_ref)
        if lock:
            stmt = locked(stmt, Survey)
        found: Survey | None = self.session.scalars(stmt).one_or_none()
        return found

    def by_id(self, survey_id: int, *, lock: bool = False) -> Survey | None:
        stmt: Select[Any] = select(Survey).where(Survey.id == survey_id)
        if lock:
            stmt = locked(stmt, Survey)
        found: Survey | None = self.session.scalars(stmt).one_or_none()
        return found

    def due(self, now: datetime, limit: int, *, skip_locked: bool) -> list[Survey]:
        """Surveys to send or to expire, oldest first, through the index on next_check_at; with
        skip_locked (PostgreSQL) two sweeping workers take disjoint rows."""
        stmt = (
            select(Survey)
            .where(Survey.next_check_at.is_not(None), Survey.next_check_at <= now)
            .order_by(Survey.next_check_at, Survey.id)
            .limit(limit)
        )
        if skip_locked:
            stmt = stmt.with_for_update(skip_locked=True)
        return list(self.session.scalars(stmt))

    def answered_between(self, since: datetime, until: datetime, limit: int | None = None) -> list[Survey]:
        """Responses received in [since, until), newest first."""
        stmt = (
            select(Survey)
            .where(
                Survey.status == SurveyStatus.ANSWERED.value,
                Survey.answered_at >= since,
                Survey.answered_at < until,
            )
            .order_by(Survey.answered_at.desc(), Survey.id.desc())
        )
        if limit is not None:
            stmt = stmt.limit(limit)
        return list(self.session.scalars(stmt))

    def sent_between(self, since: datetime, until: datetime) -> list[tuple[str, list[int]]]:
        """(status, credited agents) of every survey sent in [since, until)."""
        stmt = select(Survey.status, Survey.agent_ids).where(Survey.sent_at >= since, Survey.sent_at < until)
        return [(status, list(agents or [])) for status, agents in self.session.execute(stmt)]

    def due_times(self, status: str) -> list[datetime]:
        """The distinct times surveys in `status` are next looked at, earliest first."""
        stmt = (
            select(Survey.next_check_at)
            .where(Survey.status == status, Survey.next_check_at.is_not(None))
            .distinct()
            .order_by(Survey.next_check_at)
        )
        return [at for at in self.session.scalars(stmt) if at is not None]

    def sent_unanswered(self) -> list[Survey]:
        stmt = select(Survey).where(Survey.status == SurveyStatus.SENT.value).order_by(Survey.sent_at, Survey.id)
        return list(self.session.scalars(stmt))

    def count_by_status(self) -> dict[str, int]:
        stmt = select(Survey.status, func.count()).group_by(Survey.status)
        return {status: int(n) for status, n in self.session.execute(stmt)}
