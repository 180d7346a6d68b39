"""Reactions of the surveys context to events (delivered by the outbox)."""

from __future__ import annotations

from datetime import datetime

from aftersales.cases.events import CaseStatusChanged
from aftersales.db.uow import configured_database
from aftersales.kit import clock
from aftersales.messaging.outbox import on
from aftersales.surveys import service
from aftersales.surveys.events import CsatSubmitted
from aftersales.tickets.events import TicketSolved

_registered = False


def _solved(event: TicketSolved, _key: str) -> None:
    """A solved ticket gets its survey (sent at once for a chat, a day later otherwise)."""
    service.schedule_for_ticket(configured_database(), event.ticket_number)


# The outcomes a customer is asked about (cancelled by the customer: nothing to rate).
CASE_OUTCOMES = frozenset({"completed", "rejected"})


def _case_closed(event: CaseStatusChanged, _key: str) -> None:
    """A case that reached its outcome gets its survey a day later."""
    if event.to_status not in CASE_OUTCOMES:
        return
    at = datetime.fromisoformat(event.occurred_at) if event.occurred_at else clock.now()
    service.schedule_for_case(
        configured_database(), event.case_number, event.case_id, event.customer_id, event.merchant_id,
        event.order_number, at,
    )  # fmt: skip


def _submitted(event: CsatSubmitted, key: str) -> None:
    service.on_csat_submitted(configured_database(), event.survey_id, key)


def register() -> None:
    global _registered
    if not _registered:
        on(TicketSolved, _solved)
        on(CaseStatusChanged, _case_closed)
        on(CsatSubmitted, _submitted)
        _registered = True
