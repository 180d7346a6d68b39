"""Passing a ticket on: a transfer to a person or group, an escalation to the next tier (asked for,
or forced by an SLA breach). Routing places the work; the ticket mirrors it and the timeline says why."""

from __future__ import annotations

from sqlalchemy.orm import Session

from aftersales.kit import clock
from aftersales.kit.access import SYSTEM, Principal, Role
from aftersales.kit.errors import Conflict, Invalid
from aftersales.messaging import live
from aftersales.routing import service as routing
from aftersales.sla import service as sla
from aftersales.tickets import placement, workflow
from aftersales.tickets.domain import (
    ACTIVE,
    Priority,
    TicketAction,
    TicketStatus,
    raised,
)
from aftersales.tickets.intake import agent_channel, signal, state_promise
from aftersales.tickets.models import Ticket


def escalate(session: Session, ticket: Ticket, by: Principal, reason: str) -> None:
    """Tier 1 → tier 2 (or merchant → platform) with the reason; the whole ticket goes along."""
    if TicketStatus(ticket.status) not in ACTIVE:
        raise Conflict(f"Ticket {ticket.number} is {ticket.status}; only active tickets are escalated.")
    if not reason.strip():
        raise Invalid("Say why the ticket is escalated (the next tier reads it).")
    before = ticket.status
    if TicketStatus(ticket.status) is TicketStatus.PENDING:
        workflow.transition(session, ticket, TicketAction.ESCALATE, by, reason)
    ticket.escalated = True
    placed = routing.escalate(session, "ticket", ticket.number, reason, by.user_id)
    placement.mirror(ticket, placed)
    ticket.updated_at = clock.now()
    workflow.record(session, ticket, "ticket.escalated", by, before, reason)
    signal(session, ticket)


def assign(
    session: Session, ticket: Ticket, by: Principal, to_user_id: int | None, group_key: str, reason: str
) -> None:
    """Transfer to a person or a group (agents), or reassign (supervisors); always with a reason."""
    if TicketStatus(ticket.status) not in ACTIVE:
        raise Conflict(f"Ticket {ticket.number} is {ticket.status}; reopen it before assigning.")
    if not reason.strip():
        raise Invalid("Say why the ticket is transferred (the next agent reads it).")
    if to_user_id is None and not group_key:
        raise Invalid("Choose an agent or a group to transfer to.")
    previous = ticket.assignee_user_id
    placed: routing.Placement
    if by.role in (Role.SUPERVISOR, Role.ADMIN) and to_user_id is not None:
        assignment = routing.reassign(session, "ticket", ticket.number, to_user_id, by.user_id)
        placed = routing.Placement(assignment.group_key, assignment)
    else:
        placed = routing.transfer(
            session,
            "ticket",
            ticket.number,
            to_user_id=to_user_id,
            to_group=group_key or None,
            reason=reason,
            by_user_id=by.user_id,
        )
    placement.mirror(ticket, placed)
    ticket.updated_at = clock.now()
    workflow.record(session, ticket, "ticket.transferred", by, ticket.status, reason)
    if previous:
        live.notify(session, agent_channel(previous), audience=live.Audience.of(user_id=previous))
    signal(session, ticket)


def escalate_on_breach(session: Session, ticket: Ticket, metric: str) -> None:
    """An SLA breach: the first one raises the priority a step and moves the ticket to the next tier;
    every breach is recorded and the supervisors hear of it."""
    if TicketStatus(ticket.status) not in ACTIVE:
        return
    if not ticket.escalated:
        ticket.escalated = True
        raised_to = raised(Priority(ticket.priority)).value
        if raised_to != ticket.priority:
            ticket.priority = raised_to
            sla.retarget(session, ticket.id, ticket.ticket_type, ticket.priority, clock.now(), channel=ticket.channel)
            state_promise(session, ticket)
        # Tier-2 groups have no next tier: the ticket stays and the supervisors take it from here.
        if routing.escalation_group(session, "ticket", ticket.number) is not None:
            placement.mirror(ticket, routing.escalate(session, "ticket", ticket.number, f"SLA breached: {metric}", 0))
    ticket.updated_at = clock.now()
    workflow.record(session, ticket, "ticket.sla_breached", SYSTEM, ticket.status, metric)
    live.notify(session, "desk:supervisor", "breach", audience=live.STAFF)
    signal(session, ticket)
