"""A ticket's arrival, whatever the channel: link it to the customer and the order, classify it from
its text and the order's facts, let the priority policies decide, start its SLA clocks and route it.

Everything happens in the caller's transaction, so a ticket is never half-opened: either it exists
with its first message, classification, clocks, routing entry and timeline line, or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import uuid4

from sqlalchemy.orm import Session

from aftersales.config import get_settings
from aftersales.kit import clock
from aftersales.kit.access import SYSTEM, Principal, Role
from aftersales.kit.errors import Invalid, NotFound
from aftersales.messaging import live
from aftersales.messaging.outbox import publish_event
from aftersales.orders import service as orders
from aftersales.orders.schemas import CustomerContact
from aftersales.orders.service import OrderFacts
from aftersales.routing import service as routing
from aftersales.rules import service as rules
from aftersales.sla import service as sla
from aftersales.tickets import classification
from aftersales.tickets.domain import MessageKind, Priority, TicketStatus, TicketType, subject_from, ticket_number
from aftersales.tickets.events import TicketOpened
from aftersales.tickets.models import Ticket, TicketMessage, TicketTag
from aftersales.tickets.repository import TicketsRepository
from aftersales.tickets.schemas import Intake
from aftersales.timeline import service as timeline
from aftersales.timeline.domain import Entry, SubjectType, actor_of

VIP_TIERS = frozenset({"vip", "svip"})
HIGH_VALUE = Decimal("2000")


def queue_channel(group_key: str) -> str:
    return f"desk:group:{group_key}"


def agent_channel(user_id: int) -> str:
    return f"desk:agent:{user_id}"


def ticket_channel(number: str) -> str:
    return f"ticket:{number}"


def audience_of(ticket: Ticket) -> live.Audience:
    """Who may hear that a ticket changed: the staff, its merchant, its customer and its assignee."""
    return live.Audience.of(
        merchant_id=ticket.merchant_id, customer_id=ticket.customer_id, user_id=ticket.assignee_user_id
    )


def signal(session: Session, ticket: Ticket) -> None:
    """Live pages that show this ticket: its own page, its queue, its agent's queue, the supervisor."""
    audience = audience_of(ticket)
    live.notify(session, ticket_channel(ticket.number), audience=audience)
    live.notify(session, "desk:all", audience=audience)
    if ticket.group_key:
        live.notify(session, queue_channel(ticket.group_key), audience=audience)
    if ticket.assignee_user_id:
        live.notify(session, agent_channel(ticket.assignee_user_id), audience=audience)


def open_in_without_unseen_order(session: Session, intake: Intake, by: Principal) -> Ticket:
    """Open the ticket; when its order is not the opener's to see (or does not exist), open it
    anyway without the link: a customer's mail or chat hand-off is never lost over an order number
    picked up from the text."""
    try:
        return open_in(session, intake, by)
    except Invalid:
        return open_in(session, intake.model_copy(update={"order_number": ""}), by)


@dataclass(frozen=True, slots=True)
class _Arrival:
    """What is known of a ticket before it exists: what came in, from whom, when, about which order."""

    intake: Intake
    by: Principal
    now: datetime
    order: OrderFacts | None
    customer_id: int | None
    contact: CustomerContact | None


def open_in(session: Session, intake: Intake, by: Principal) -> Ticket:
    """Open a ticket in the caller's transaction, step by step: who and which order, the facts,
    the classification, the priority, the ticket with its number and first message, its SLA
    clocks, its place in a queue, its timeline line, and a signal to the live pages."""
    return open_with_message(session, intake, by)[0]


def open_with_message(session: Session, intake: Intake, by: Principal) -> tuple[Ticket, TicketMessage]:
    """open_in, also handing back the first message (so the answer is built without reading it back)."""
    arrival = _arrive(session, intake, by)
    facts = _facts_of(session, arrival)
    found = classification.classify(f"{intake.subject}\n{intake.body}", facts)
    ticket_type = intake.ticket_type or TicketType(found.ticket_type)
    decision = _decide_priority(session, arrival, facts, found, ticket_type)
    ticket = _new_ticket(arrival, facts, found, ticket_type, decision)
    state_promise(session, ticket)  # before the insert: the promise is written with the row, not after it
    message = _store(session, ticket, arrival, found)
    sla.start(session, ticket.id, ticket.ticket_type, ticket.priority, None, arrival.now, channel=ticket.channel)
    _route(session, ticket, facts, found)
    _record_opened(session, ticket, arrival)
    _announce_opened(session, ticket, arrival)
    signal(session, ticket)
    return ticket, message


def _arrive(session: Session, intake: Intake, by: Principal) -> _Arrival:
    now = clock.now()
    order = _order_of(session, intake, by)
    customer_id = intake.customer_id or (order.customer_id if order else None)
    contact = orders.customer_contact_in(session, customer_id) if customer_id else None
    return _Arrival(intake, by, now, order, customer_id, contact)


def _facts_of(session: Session, arrival: _Arrival) -> classification.TicketFacts:
    """What classification and the priority policies read besides the text."""
    order, contact, customer_id = arrival.order, arrival.contact, arrival.customer_id
    return classification.TicketFacts(
        order_number=order.number if order else "",
        category=_category(order),
        merchant_kind=order.merchant_kind.value if order else None,
        order_amount=order.payable_total if order else None,
        delivered=bool(order and order.delivered_at),
        days_late=-(-order.hours_late // 24) if order else 0,
        customer_vip=bool(contact and contact.tier in VIP_TIERS),
        complaints_30d=(
            TicketsRepository(session).complaints_since(customer_id, arrival.now - timedelta(days=30))
            if customer_id
            else 0
        ),
        channel=arrival.intake.channel.value,
    )


def _decide_priority(
    session: Session,
    arrival: _Arrival,
    facts: classification.TicketFacts,
    found: classification.Classification,
    ticket_type: TicketType,
) -> rules.PriorityDecision:
    contact = arrival.contact
    return rules.decide_ticket_priority(
        session,
        classification.priority_facts(
            found, facts, ticket_type=ticket_type.value, customer_tier=contact.tier if contact else None
        ),
    )


def _new_ticket(
    arrival: _Arrival,
    facts: classification.TicketFacts,
    found: classification.Classification,
    ticket_type: TicketType,
    decision: rules.PriorityDecision,
) -> Ticket:
    intake, order, contact, now = arrival.intake, arrival.order, arrival.contact, arrival.now
    priority = intake.priority or Priority(decision.priority)
    return Ticket(
        number=f"tmp-{uuid4().hex[:18]}",  # the real number needs the id
        subject=(intake.subject or subject_from(intake.body))[:200],
        status=TicketStatus.NEW.value,
        ticket_type=ticket_type.value,
        priority=priority.value,
        channel=intake.channel.value,
        customer_id=arrival.customer_id,
        requester_name=intake.requester_name or (contact.name if contact else ""),
        requester_email=intake.requester_email or (contact.email if contact else ""),
        requester_phone=intake.requester_phone or (contact.phone if contact else ""),
        order_number=order.number if order else "",
        case_number=intake.case_number,
        merchant_id=_merchant_of(order, arrival.by),
        conversation_id=intake.conversation_id,
        responsibility=found.responsibility,
        scenario=found.scenario,
        confidence=found.confidence,
        auto_classification={
            "responsibility": found.responsibility,
            "scenario": found.scenario,
            "ticket_type": found.ticket_type,
            "tags": list(found.tags),
            "reasons": list(found.reasons),
            "threatens_escalation": found.threatens_escalation,
        },
        priority_reasons=(
            [{"zh": zh, "en": en} for zh, en in zip(decision.reasons_zh, decision.reasons_en, strict=False)]
            if intake.priority is None
            else [{"zh": "由提交方指定", "en": "set by the submitter"}]
        ),
        intent=intake.intent,
        entities=intake.entities,
        order_value=order.payable_total if order else None,
        vip=facts.customer_vip,
        external_key=intake.external_key,
        created_at=now,
        updated_at=now,
        tags=[],  # a new ticket has none: appending to an unloaded collection would read it first
    )


def _store(session: Session, ticket: Ticket, arrival: _Arrival, found: classification.Classification) -> TicketMessage:
    """The ticket, its number (which needs its id), its tags and the customer's first message."""
    intake, by, now = arrival.intake, arrival.by, arrival.now
    repo = TicketsRepository(session)
    repo.add(ticket)
    session.flush()
    ticket.number = ticket_number(now.astimezone(get_settings().zone).strftime("%y%m%d"), ticket.id)
    for tag in dict.fromkeys([*intake.tags, *found.tags[:3]]):
        ticket.tags.append(TicketTag(tag=tag[:80]))
    message = TicketMessage(
        ticket_id=ticket.id,
        kind=MessageKind.CUSTOMER.value,
        channel=intake.channel.value,
        author_user_id=by.user_id if by.role is Role.CUSTOMER else None,
        author_name=intake.author_name or ticket.requester_name or "—",
        body=intake.body,
        email_message_id=intake.email_message_id,
        created_at=now,
        attachments=[],
    )
    repo.add(message)
    return message


def _route(
    session: Session, ticket: Ticket, facts: classification.TicketFacts, found: classification.Classification
) -> None:
    """Its queue, and its agent when routing assigns one at once."""
    placed = routing.place(
        session,
        routing.RoutableWork(
            kind="ticket",
            ref=ticket.number,
            group_key=None,
            required_skills=[],
            priority=ticket.priority,
            vip=ticket.vip,
            order_value=ticket.order_value,
            merchant_id=ticket.merchant_id,
            category=facts.category,
            problem_type=found.scenario,
        ),
    )
    ticket.group_key = placed.group_key
    if placed.assignment is not None:
        ticket.assignee_user_id = placed.assignment.user_id


def _record_opened(session: Session, ticket: Ticket, arrival: _Arrival) -> None:
    # Same Entry shape as other contexts' timeline lines on purpose: each records its own subject.
    timeline.record(
        session,
        Entry(
            subject_type=SubjectType.TICKET,
            subject_id=ticket.id,
            action="ticket.opened",
            actor=actor_of(arrival.by),
            occurred_at=arrival.now,
            to_state=ticket.status,
            reason=f"{ticket.channel} · {ticket.ticket_type} · {ticket.priority}",
            evidence={"classification": ticket.auto_classification, "priority_reasons": ticket.priority_reasons},
            customer_visible=False,
        ),
    )


def _announce_opened(session: Session, ticket: Ticket, arrival: _Arrival) -> None:
    publish_event(
        session,
        TicketOpened(
            ticket_number=ticket.number,
            ticket_id=ticket.id,
            channel=ticket.channel,
            customer_id=ticket.customer_id,
            order_number=ticket.order_number,
            occurred_at=arrival.now.isoformat(),
            conversation_id=ticket.conversation_id,
        ),
        idempotency_key=f"ticket-opened:{ticket.number}",
    )


def state_promise(session: Session, ticket: Ticket) -> None:
    """The priority reasons end with what the ticket's clocks promise, in the SLA policy's own
    numbers (a reason never states a target that no clock counts); a new priority replaces it."""
    zh, en = sla.promise(session, ticket.ticket_type, ticket.priority, ticket.channel).text()
    kept = [r for r in ticket.priority_reasons or [] if r.get("kind") != "sla"]
    ticket.priority_reasons = [*kept, {"zh": zh, "en": en, "kind": "sla"}] if zh else kept


def _merchant_of(order: OrderFacts | None, by: Principal) -> int | None:
    """The merchant whose staff handle the ticket: a POP order's merchant; a ticket that a
    merchant-bound integration opens is always that merchant's (so the integration reads it back)."""
    if by.role is Role.INTEGRATION and by.merchant_id is not None:
        return by.merchant_id
    return order.merchant_id if order and order.merchant_kind.value == "pop" else None


def _order_of(session: Session, intake: Intake, by: Principal) -> OrderFacts | None:
    if not intake.order_number:
        return None
    # The opener's own scope decides: an order it may not read answers exactly like one that does
    # not exist (no name, no value), so the form is no oracle for other merchants' order numbers.
    viewer = SYSTEM if by is SYSTEM or by.is_platform_staff else by
    try:
        order = orders.order_facts(session, intake.order_number, viewer)
    except NotFound as exc:
        raise Invalid(
            f"No order '{intake.order_number}' that you can see; check the order number or leave it empty.",
            key="error.ticket_order_not_visible",
            ref=intake.order_number,
        ) from exc
    if intake.customer_id and order.customer_id != intake.customer_id:
        raise Invalid(
            f"Order '{intake.order_number}' belongs to another customer; check the order number.",
            key="error.ticket_order_of_another",
            ref=intake.order_number,
        )
    return order


def _category(order: OrderFacts | None) -> str | None:
    if order is None or not order.lines:
        return None
    codes = [line.category_code for line in order.lines]
    # A baby product anywhere in the order matters most for priority.
    return next((c for c in codes if c.startswith("baby")), codes[0])
