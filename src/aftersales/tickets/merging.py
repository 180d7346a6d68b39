"""Merging a ticket into another (the same customer asking twice) and linking related tickets."""

from __future__ import annotations

from sqlalchemy.orm import Session

from aftersales.kit import clock
from aftersales.kit.access import Principal
from aftersales.kit.errors import Conflict, Invalid
from aftersales.tickets import workflow
from aftersales.tickets.domain import (
    Channel,
    MessageKind,
    TicketAction,
    TicketStatus,
    same_requester,
)
from aftersales.tickets.intake import signal
from aftersales.tickets.models import Ticket, TicketLink
from aftersales.tickets.repository import TicketsRepository


def merge(session: Session, source: Ticket, target: Ticket, by: Principal, *, confirmed: bool = False) -> None:
    """The source closes into the target; the target gets the source's conversation as a note
    (staff only, so neither customer reads the other's messages)."""
    if source.id == target.id:
        raise Invalid("A ticket cannot be merged into itself.")
    if TicketStatus(target.status) is TicketStatus.CLOSED:
        raise Conflict(f"Ticket {target.number} is closed; merge into an open ticket.")
    if not confirmed and not same_requester(
        source.customer_id, source.requester_email, target.customer_id, target.requester_email
    ):
        raise Conflict(
            f"Tickets {source.number} and {target.number} are from different customers. Merge only if they are "
            "the same person: tick 'different customers, merge anyway' (API: confirm_other_customer)."
        )
    repo = TicketsRepository(session)
    lines = [f"[{m.author_name}] {m.body}" for m in repo.messages(source.id, include_notes=False)]
    workflow.add_message(
        session,
        target,
        kind=MessageKind.NOTE,
        body=f"Merged from {source.number}:\n" + "\n---\n".join(lines),
        by=by,
        channel=Channel(target.channel),
    )
    source.merged_into_id = target.id
    workflow.transition(session, source, TicketAction.MERGE, by, f"merged into {target.number}")
    _add_link(repo, source, target, "merged", by)
    signal(session, target)


def link(session: Session, ticket: Ticket, other: Ticket, by: Principal) -> None:
    if ticket.id == other.id:
        raise Invalid("A ticket cannot be linked to itself.")
    repo = TicketsRepository(session)
    if not _add_link(repo, ticket, other, "related", by):
        return
    workflow.record(session, ticket, "ticket.linked", by, ticket.status, other.number)


def _add_link(repo: TicketsRepository, ticket: Ticket, other: Ticket, kind: str, by: Principal) -> bool:
    """Link two tickets once; False when they were linked already."""
    if repo.link_exists(ticket.id, other.id):
        return False
    repo.add(
        TicketLink(
            ticket_id=ticket.id,
            other_ticket_id=other.id,
            kind=kind,
            created_by_user_id=by.user_id or None,
            created_at=clock.now(),
        )
    )
    return True
