"""What happens to a ticket after it arrives: messages, status changes through the transition table,
assignment and escalation through routing, SLA clocks, merges, links and mentions.

Each function works inside the caller's unit of work and appends a timeline line.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from aftersales.cases import service as cases
from aftersales.identity import service as identity
from aftersales.kit import clock
from aftersales.kit.access import SYSTEM, Principal, Role
from aftersales.kit.errors import Conflict, Forbidden, Invalid
from aftersales.messaging import live
from aftersales.messaging.outbox import publish_event
from aftersales.routing import service as routing
from aftersales.sla import service as sla
from aftersales.tickets.domain import (
    ACTIVE,
    Channel,
    MessageKind,
    Priority,
    TicketAction,
    TicketStatus,
    TransitionRefused,
    mentioned_usernames,
    next_status,
    raised,
    same_requester,
    settling_refused,
)
from aftersales.tickets.events import PublicReplied, TicketSolved
from aftersales.tickets.intake import agent_channel, signal, state_promise
from aftersales.tickets.models import Mention, Ticket, TicketLink, TicketMessage
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
        _release(session, ticket)
        publish_event(
            session,
            TicketSolved(ticket_number=ticket.number, conversation_id=ticket.conversation_id),
            idempotency_key=f"ticket-solved:{ticket.number}:{now.isoformat()}",
        )
    elif after is TicketStatus.CLOSED:
        ticket.closed_at = now
        sla.stop_all(session, ticket.id, now)
        _release(session, ticket)
    elif before in (TicketStatus.SOLVED,) and after is TicketStatus.OPEN:
        # Reopened: the resolution clock starts again from now.
        ticket.solved_at = None
        sla.start(session, ticket.id, ticket.ticket_type, ticket.priority, None, now, channel=ticket.channel)
        _route(session, ticket)
    record(session, ticket, f"ticket.{action.value}", by, before.value, reason)


def _release(session: Session, ticket: Ticket) -> None:
    for assignment in routing.release(session, "ticket", ticket.number):
        apply_assignment(session, assignment.ref, assignment.user_id, assignment.group_key)


def _route(session: Session, ticket: Ticket) -> None:
    assignment = routing.enqueue(
        session,
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


def _mirror(ticket: Ticket, placed: routing.Placement) -> None:
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
    if ticket.first_response_at is None:
        ticket.first_response_at = now
        sla.met(session, ticket.id, "first_response", now)
    if TicketStatus(ticket.status) is TicketStatus.NEW:
        transition(session, ticket, TicketAction.REPLY, by)
    # The reply leaves before any status change, so the chat shows it before "solved".
    publish_event(
        session,
        PublicReplied(
            ticket_number=ticket.number,
            conversation_id=ticket.conversation_id,
            message_id=message.id,
            author_name=message.author_name,
            body=body,
            channel=ticket.channel,
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


def escalate(session: Session, ticket: Ticket, by: Principal, reason: str) -> None:
    """Tier 1 → tier 2 (or merchant → platform) with the reason; the whole ticket goes along."""
    if TicketStatus(ticket.status) not in ACTIVE:
        raise Conflict(f"Ticket {ticket.number} is {ticket.status}; only active tickets are escalated.")
    if not reason.strip():
        raise Invalid("Say why the ticket is escalated (the next tier reads it).")
    before = ticket.status
    if TicketStatus(ticket.status) is TicketStatus.PENDING:
        transition(session, ticket, TicketAction.ESCALATE, by, reason)
    ticket.escalated = True
    placed = routing.escalate(session, "ticket", ticket.number, reason, by.user_id)
    _mirror(ticket, placed)
    ticket.updated_at = clock.now()
    record(session, ticket, "ticket.escalated", by, before, reason)
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
    _mirror(ticket, placed)
    ticket.updated_at = clock.now()
    record(session, ticket, "ticket.transferred", by, ticket.status, reason)
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
            _mirror(ticket, routing.escalate(session, "ticket", ticket.number, f"SLA breached: {metric}", 0))
    ticket.updated_at = clock.now()
    record(session, ticket, "ticket.sla_breached", SYSTEM, ticket.status, metric)
    live.notify(session, "desk:supervisor", "breach", audience=live.STAFF)
    signal(session, ticket)


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
    add_message(
        session,
        target,
        kind=MessageKind.NOTE,
        body=f"Merged from {source.number}:\n" + "\n---\n".join(lines),
        by=by,
        channel=Channel(target.channel),
    )
    source.merged_into_id = target.id
    transition(session, source, TicketAction.MERGE, by, f"merged into {target.number}")
    if not repo.link_exists(source.id, target.id):
        repo.add(
            TicketLink(
                ticket_id=source.id,
                other_ticket_id=target.id,
                kind="merged",
                created_by_user_id=by.user_id or None,
                created_at=clock.now(),
            )
        )
    signal(session, target)


def link(session: Session, ticket: Ticket, other: Ticket, by: Principal) -> None:
    if ticket.id == other.id:
        raise Invalid("A ticket cannot be linked to itself.")
    repo = TicketsRepository(session)
    if repo.link_exists(ticket.id, other.id):
        return
    repo.add(
        TicketLink(
            ticket_id=ticket.id,
            other_ticket_id=other.id,
            kind="related",
            created_by_user_id=by.user_id or None,
            created_at=clock.now(),
        )
    )
    record(session, ticket, "ticket.linked", by, ticket.status, other.number)


# The audit log names tickets by their numbers, never by row id.
timeline.name_subjects(SubjectType.TICKET, lambda session, ids: TicketsRepository(session).numbers_by_id(list(ids)))
