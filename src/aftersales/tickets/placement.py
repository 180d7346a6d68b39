"""Where a ticket sits, as routing decided it: the ticket mirrors routing's group and agent (routing
owns the queues; the ticket keeps a copy for its pages and filters). Inside the caller's unit of work."""

from __future__ import annotations

from sqlalchemy.orm import Session

from aftersales.kit import clock
from aftersales.messaging import live
from aftersales.routing import service as routing
from aftersales.tickets.intake import agent_channel, signal
from aftersales.tickets.models import Ticket
from aftersales.tickets.repository import TicketsRepository


def release(session: Session, ticket: Ticket) -> None:
    for assignment in routing.release(session, "ticket", ticket.number):
        apply_assignment(session, assignment.ref, assignment.user_id, assignment.group_key)


def route(session: Session, ticket: Ticket) -> None:
    assignment = routing.enqueue(
        session,
        # Field by field on purpose: RoutableWork's own fields; look-alikes elsewhere build others'.
        routing.RoutableWork(
            kind="ticket",
            ref=ticket.number,
            group_key=ticket.group_key or None,
            required_skills=[],
            priority=ticket.priority,
            vip=ticket.vip,
            order_value=ticket.order_value,
            merchant_id=ticket.merchant_id,
            category=None,
            problem_type=ticket.scenario,
        ),
    )
    if assignment is not None:
        ticket.assignee_user_id = assignment.user_id
        ticket.group_key = assignment.group_key


def mirror(ticket: Ticket, placed: routing.Placement) -> None:
    """Routing moved the ticket (in this transaction): it now sits in that group, with that agent
    or waiting."""
    ticket.assignee_user_id = placed.assignment.user_id if placed.assignment else None
    ticket.group_key = placed.group_key


def apply_assignment(session: Session, ref: str, user_id: int | None, group_key: str) -> None:
    """Routing gave (or took) a ticket: mirror it on the ticket. Idempotent."""
    ticket = TicketsRepository(session).by_number_unscoped(ref)
    if ticket is None or (ticket.assignee_user_id == user_id and ticket.group_key == group_key):
        return
    before_user = ticket.assignee_user_id
    ticket.assignee_user_id = user_id
    ticket.group_key = group_key
    ticket.updated_at = clock.now()
    if before_user:
        live.notify(session, agent_channel(before_user), audience=live.Audience.of(user_id=before_user))
    signal(session, ticket)
