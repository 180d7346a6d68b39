"""Reactions of the surveys context to events (delivered by the outbox)."""

from __future__ import annotations

from aftersales.db.uow import configured_database
from aftersales.messaging.outbox import on
from aftersales.surveys import service
from aftersales.surveys.events import CsatSubmitted
from aftersales.tickets.events import TicketSolved

_registered = False


def _solved(event: TicketSolved, _key: str) -> None:
    """A solved ticket gets its survey (sent at once for a chat, a day later otherwise)."""
    service.schedule_for_ticket(configured_database(), event.ticket_number)


def _submitted(event: CsatSubmitted, key: str) -> None:
    service.on_csat_submitted(configured_database(), event.survey_id, key)


def register() -> None:
    global _registered
    if not _registered:
        on(TicketSolved, _solved)
        on(CsatSubmitted, _submitted)
        _registered = True
