"""Hand-off notes: why a ticket was transferred or escalated, written for the next handler, shown
on the ticket itself (the audit log keeps them too, but the next agent reads the ticket)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aftersales.db.uow import Database
from aftersales.kit.access import Principal
from aftersales.kit.errors import NotFound
from aftersales.tickets.domain import TICKET_STAFF
from aftersales.tickets.repository import TicketsRepository
from aftersales.timeline import service as timeline
from aftersales.timeline.domain import SubjectType

HANDOFF_ACTIONS = {"ticket.transferred": "transferred", "ticket.escalated": "escalated"}


@dataclass(frozen=True)
class HandoffNote:
    kind: str  # transferred | escalated
    by: str
    reason: str
    at: datetime


def notes(db: Database, number: str, viewer: Principal) -> list[HandoffNote]:
    """Newest first; staff only (the reasons are internal, never the customer's to read)."""
    if viewer.role not in TICKET_STAFF:
        return []
    with db.read() as uow:
        ticket = TicketsRepository(uow.session).by_number(number, viewer)
        if ticket is None:
            raise NotFound(f"No ticket '{number}' that you can see.")
        entries = timeline.entries_for(uow.session, [(SubjectType.TICKET.value, ticket.id)], customer_view=False)
    return [
        HandoffNote(kind=HANDOFF_ACTIONS[e.action], by=e.actor_name, reason=e.reason, at=e.occurred_at)
        for e in reversed(entries)
        if e.action in HANDOFF_ACTIONS and e.reason.strip()
    ]
