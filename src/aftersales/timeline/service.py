"""Recording and reading timeline entries inside the caller's unit of work."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from aftersales.kit import clock
from aftersales.kit.pagination import Page, PageRequest
from aftersales.timeline.domain import Entry, SubjectType
from aftersales.timeline.models import TimelineEvent
from aftersales.timeline.repository import TimelineRepository
from aftersales.timeline.schemas import TimelineEntryOut

# How people know a subject: an order's number, a shipment's tracking number, a case's or ticket's
# number. Each owning context registers its own (the audit log never shows a row id).
SubjectNamer = Callable[[Session, Collection[int]], Mapping[int, str]]
_namers: dict[str, SubjectNamer] = {}


def name_subjects(subject_type: SubjectType, namer: SubjectNamer) -> None:
    _namers[subject_type.value] = namer


def _named(session: Session, entries: list[TimelineEntryOut]) -> list[TimelineEntryOut]:
    wanted: dict[str, set[int]] = {}
    for entry in entries:
        wanted.setdefault(entry.subject_type, set()).add(entry.subject_id)
    names = {
        (kind, sid): name
        for kind, ids in wanted.items()
        if kind in _namers
        for sid, name in _namers[kind](session, ids).items()
    }
    return [e.model_copy(update={"subject_name": names.get((e.subject_type, e.subject_id), "")}) for e in entries]


def record(session: Session, entry: Entry) -> None:
    # Field by field on purpose: TimelineEvent's own fields; look-alikes elsewhere build others'.
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
    items = _named(session, [TimelineEntryOut.model_validate(r) for r in rows])
    return Page(items=items, total=total, request=request)


def changes_since(session: Session, after_id: int, limit: int) -> list[tuple[int, str, int, str, datetime]]:
    """The timeline as a stream, for a reader that keeps its place by row id (proactive service's
    intake): (row id, subject type, subject id, action, occurred at), oldest first, at most `limit`."""
    return TimelineRepository(session).changes_since(after_id, limit)
