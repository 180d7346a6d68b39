"""What happens to a ticket after it arrives: messages, replies and mentions, and status changes
through the transition table with their SLA clocks.

Neighbouring rooms: placement.py mirrors routing's decisions on the ticket, handover.py transfers
and escalates it, merging.py merges and links tickets. Each function works inside the caller's
unit of work and appends a timeline line.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from aftersales.cases import service as cases
from aftersales.identity import service as identity
from aftersales.kit import clock
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import Conflict, Forbidden, Invalid
from aftersales.messaging import live
from aftersales.messaging.outbox import publish_event
from aftersales.sla import service as sla
from aftersales.tickets import placement
from aftersales.tickets.domain import (
    Channel,
    MessageKind,
    TicketAction,
    TicketStatus,
    TransitionRefused,
    mentioned_usernames,
    next_status,
    settling_refused,
)
from aftersales.tickets.events import PublicReplied, TicketReopened, TicketSolved
from aftersales.tickets.intake import agent_channel
from aftersales.tickets.models import Mention, Ticket, TicketMessage
from aftersales.tickets.repository import TicketsRepository
from aftersales.timeline import service as timeline
from aftersales.timeline.domain import Entry, SubjectType, actor_of


# Same Entry as cases.service's timeline record on purpose: each context writes its own subject type
# and states, and neither may import the other.
def record(session: Session, ticket: Ticket, kind: str, by: Principal, before: str, reason: str = "") -> None:
    timeline.record(
        session,
        Entry(
            subject_type=SubjectType.TICKET,
            subject_id=ticket.id,
            action=kind,
            actor=actor_of(by),
            occurred_at=clock.now(),
            from_state=before,
            to_state=ticket.status,
            reason=reason,
            customer_visible=False,
        ),
    )


def transition(session: Session, ticket: Ticket, action: TicketAction, by: Principal, reason: str = "") -> None:
    """Move the ticket by the table and keep the SLA clocks and the routing load in step."""
    before = TicketStatus(ticket.status)
    try:
        after = next_status(before, action)
    except TransitionRefused as exc:
        raise Conflict(str(exc)) from exc
    if ticket.case_number and settling_refused(action, before, cases.status_in(session, ticket.case_number)):
        raise Conflict(
            f"The refund of case {ticket.case_number} failed: retry it on the case first; the ticket stays open "
            "until the customer has the money.",
            key="error.ticket_refund_failed",
            ref=ticket.case_number,
        )
    now = clock.now()
    ticket.status = after.value
    ticket.updated_at = now
    if before == after:
        return
    if after is TicketStatus.PENDING:
        sla.pause(session, ticket.id, now)
    elif before is TicketStatus.PENDING and after is TicketStatus.OPEN:
        sla.resume(session, ticket.id, now)
    if after is TicketStatus.SOLVED:
        ticket.solved_at = now
        sla.met(session, ticket.id, "resolution", now)
        placement.release(session, ticket)
        publish_event(
            session,
            TicketSolved(
                ticket_number=ticket.number, conversation_id=ticket.conversation_id, occurred_at=now.isoformat()
            ),
            idempotency_key=f"ticket-solved:{ticket.number}:{now.isoformat()}",
        )
    elif after is TicketStatus.CLOSED:
        ticket.closed_at = now
        sla.stop_all(session, ticket.id, now)
        placement.release(session, ticket)
    elif before in (TicketStatus.SOLVED,) and after is TicketStatus.OPEN:
        # Reopened: the resolution clock starts again from now.
        ticket.solved_at = None
        sla.start(session, ticket.id, ticket.ticket_type, ticket.priority, None, now, channel=ticket.channel)
        placement.route(session, ticket)
        publish_event(
            session,
            TicketReopened(ticket_number=ticket.number, ticket_id=ticket.id, occurred_at=now.isoformat()),
            idempotency_key=f"ticket-reopened:{ticket.number}:{now.isoformat()}",
        )
    record(session, ticket, f"ticket.{action.value}", by, before.value, reason)


def add_message(
    session: Session,
    ticket: Ticket,
    *,
    kind: MessageKind,
    body: str,
    by: Principal,
    channel: Channel,
    author_name: str = "",
    email_message_id: str | None = None,
) -> TicketMessage:
    repo = TicketsRepository(session)
    now = clock.now()
    message = TicketMessage(
        ticket_id=ticket.id,
        kind=kind.value,
        channel=channel.value,
        author_user_id=by.user_id or None,
        author_name=author_name or by.display_name or by.username,
        body=body,
        email_message_id=email_message_id,
        created_at=now,
    )
    repo.add(message)
    session.flush()
    ticket.updated_at = now
    if kind is MessageKind.NOTE:
        _mentions(session, ticket, message)
    return message


def _mentions(session: Session, ticket: Ticket, message: TicketMessage) -> None:
    names = mentioned_usernames(message.body)
    if not names:
        return
    for user_id in identity.active_user_ids_by_username_in(session, names).values():
        session.add(Mention(ticket_id=ticket.id, message_id=message.id, user_id=user_id, created_at=clock.now()))
        live.notify(session, agent_channel(user_id), "mentioned", audience=live.Audience.of(user_id=user_id))


def reply(session: Session, ticket: Ticket, body: str, by: Principal, then: TicketStatus | None) -> TicketMessage:
    """A public reply: the first one stops the first-response clock; the customer hears of it."""
    if by.role is Role.CUSTOMER:
        raise Forbidden("Customers write messages, not agent replies.")
    message = add_message(session, ticket, kind=MessageKind.REPLY, body=body, by=by, channel=Channel(ticket.channel))
    now = clock.now()
    first = ticket.first_response_at is None
    if first:
        ticket.first_response_at = now
        sla.met(session, ticket.id, "first_response", now)
    if TicketStatus(ticket.status) is TicketStatus.NEW:
        transition(session, ticket, TicketAction.REPLY, by)
    # The reply leaves before any status change, so the chat shows it before "solved".
    # Field by field on purpose: PublicReplied's own fields; look-alikes elsewhere build others'.
    publish_event(
        session,
        PublicReplied(
            ticket_number=ticket.number,
            conversation_id=ticket.conversation_id,
            message_id=message.id,
            author_name=message.author_name,
            body=body,
            channel=ticket.channel,
            occurred_at=now.isoformat(),
            author_user_id=by.user_id or None,
            first=first,
            customer_id=ticket.customer_id,
            order_number=ticket.order_number or "",
        ),
        idempotency_key=f"ticket-reply:{message.id}",
    )
    if then is not None and then.value != ticket.status:
        action = {
            TicketStatus.PENDING: TicketAction.WAIT_FOR_CUSTOMER,
            TicketStatus.SOLVED: TicketAction.SOLVE,
            TicketStatus.OPEN: TicketAction.REOPEN,
        }.get(then)
        if action is None:
            raise Invalid("After a reply the ticket can be open, pending or solved.")
        transition(session, ticket, action, by)
    return message


# Its arguments echo add_message's on purpose: this is the requester's path, which also reopens.
def customer_writes(
    session: Session,
    ticket: Ticket,
    body: str,
    by: Principal,
    channel: Channel,
    *,
    author_name: str = "",
    email_message_id: str | None = None,
) -> TicketMessage:
    """The requester wrote again: a pending or solved ticket opens, a closed one starts a follow-up."""
    message = add_message(
        session,
        ticket,
        kind=MessageKind.CUSTOMER,
        body=body,
        by=by,
        channel=channel,
        author_name=author_name or ticket.requester_name,
        email_message_id=email_message_id,
    )
    if TicketStatus(ticket.status) in (TicketStatus.PENDING, TicketStatus.SOLVED):
        transition(session, ticket, TicketAction.CUSTOMER_MESSAGE, by)
    return message


# The audit log names tickets by their numbers, never by row id.
timeline.name_subjects(SubjectType.TICKET, lambda session, ids: TicketsRepository(session).numbers_by_id(list(ids)))
