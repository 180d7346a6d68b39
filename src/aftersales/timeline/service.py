"""Recording and reading timeline entries inside the caller's unit of work."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from aftersales.kit import clock
from aftersales.kit.pagination import Page, PageRequest
from aftersales.timeline.domain import Entry
from aftersales.timeline.models import TimelineEvent
from aftersales.timeline.repository import TimelineRepository
from aftersales.timeline.schemas import TimelineEntryOut


def record(session: Session, entry: Entry) -> None:
    TimelineRepository(session).add(
        TimelineEvent(
            subject_type=entry.subject_type.value,
            subject_id=entry.subject_id,
            action=entry.action,
            actor_kind=entry.actor.kind.value,
            actor_name=entry.actor.name,
            actor_user_id=entry.actor.user_id,
            from_state=entry.from_state,
            to_state=entry.to_state,
            reason=entry.reason,
            evidence=entry.evidence,
            customer_visible=entry.customer_visible,
            occurred_at=entry.occurred_at,
            recorded_at=clock.now(),
        )
    )


def entries_for(
    session: Session, subjects: Sequence[tuple[str, int]], *, customer_view: bool
) -> list[TimelineEntryOut]:
    rows = TimelineRepository(session).for_subjects(subjects, customer_view=customer_view)
    return [TimelineEntryOut.model_validate(row) for row in rows]


def audit_log(session: Session, limit: int = 200, subject_type: str | None = None) -> list[TimelineEntryOut]:
    return [TimelineEntryOut.model_validate(r) for r in TimelineRepository(session).recent(limit, subject_type)]


def audit_page(session: Session, request: PageRequest, subject_type: str | None = None) -> Page[TimelineEntryOut]:
    rows, total = TimelineRepository(session).newest_first(request.offset, request.size, subject_type)
    return Page(items=[TimelineEntryOut.model_validate(r) for r in rows], total=total, request=request)
