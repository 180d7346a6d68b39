"""Presence and mentions on the desk: who else has a ticket open right now, and the tickets where a
colleague mentioned me that I have not opened since."""

from __future__ import annotations

from datetime import timedelta

from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.kit.access import Principal
from aftersales.kit.errors import NotFound
from aftersales.tickets.models import TicketViewer
from aftersales.tickets.repository import TicketsRepository

VIEWING_WINDOW = timedelta(seconds=90)


def touch_viewer(db: Database, number: str, by: Principal) -> list[str]:
    """Mark `by` as viewing; return the others viewing it now ("who else is viewing")."""
    now = clock.now()
    with db.write() as uow:
        repo = TicketsRepository(uow.session)
        ticket = repo.by_number(number, by)
        if ticket is None:
            raise NotFound(f"No ticket '{number}' that you can see.")
        row = repo.viewer(ticket.id, by.user_id)
        if row is None:
            repo.add(
                TicketViewer(
                    ticket_id=ticket.id, user_id=by.user_id, display_name=by.display_name or by.username, seen_at=now
                )
            )
        else:
            row.seen_at = now
        repo.mark_mentions_seen(by.user_id, ticket.id)
        others = [
            v.display_name for v in repo.viewers_since(ticket.id, now - VIEWING_WINDOW) if v.user_id != by.user_id
        ]
        uow.commit()
        return others


def my_mentions(db: Database, by: Principal) -> list[str]:
    with db.read() as uow:
        return [number for _, number in TicketsRepository(uow.session).unseen_mentions(by.user_id)]
