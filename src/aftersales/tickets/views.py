"""How a ticket reads for each viewer: clocks with time left, assignee names, notes only for staff,
abusive words masked for everyone and contacts masked for roles that do not need them."""

from __future__ import annotations

from sqlalchemy.orm import Session

from aftersales.identity import service as identity
from aftersales.kit import clock, masking
from aftersales.kit.access import Principal, Role
from aftersales.sla import service as sla
from aftersales.tickets.domain import (
    TICKET_STAFF,
    Channel,
    MessageKind,
    Priority,
    TicketStatus,
    TicketType,
    actions_for,
    auth_failures,
)
from aftersales.tickets.models import Ticket, TicketMessage
from aftersales.tickets.repository import TicketsRepository
from aftersales.tickets.schemas import AttachmentOut, ClockOut, MessageOut, TicketOut, TicketSummary


def clocks(session: Session, ids: list[int]) -> dict[int, list[ClockOut]]:
    now = clock.now()
    out: dict[int, list[ClockOut]] = {}
    for ticket_id, views in sla.clocks_for(session, ids).items():
        out[ticket_id] = [
            ClockOut(
                metric=v.metric,
                status=v.status,
                target_at=v.target_at,
                warn_at=v.warn_at,
                seconds_left=int((v.target_at - now).total_seconds()) if v.target_at else None,
            )
            for v in views
        ]
    return out


def summaries(session: Session, rows: list[Ticket], viewer: Principal) -> list[TicketSummary]:
    by_ticket = clocks(session, [t.id for t in rows])
    names = identity.display_names_in(session, [t.assignee_user_id for t in rows if t.assignee_user_id])
    return [summary(t, by_ticket.get(t.id, []), names, viewer) for t in rows]


def summary(ticket: Ticket, clocks: list[ClockOut], names: dict[int, str], viewer: Principal) -> TicketSummary:
    # Field by field on purpose: TicketSummary's own fields; look-alikes elsewhere build others'.
    return TicketSummary(
        number=ticket.number,
        subject=masking.mask_abuse(ticket.subject),
        status=TicketStatus(ticket.status),
        ticket_type=TicketType(ticket.ticket_type),
        priority=Priority(ticket.priority),
        channel=Channel(ticket.channel),
        requester_name=ticket.requester_name,
        order_number=ticket.order_number,
        case_number=ticket.case_number,
        responsibility=ticket.responsibility,
        scenario=ticket.scenario,
        assignee_user_id=ticket.assignee_user_id,
        assignee_name=names.get(ticket.assignee_user_id or 0, ""),
        group_key=ticket.group_key,
        vip=ticket.vip,
        escalated=ticket.escalated,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        clocks=clocks,
    )


def ticket_view(
    session: Session, ticket: Ticket, viewer: Principal, *, opened_with: TicketMessage | None = None
) -> TicketOut:
    """The ticket as `viewer` may see it. `opened_with`: the ticket was opened in this unit of work
    with this first message, so its thread is that message and it has no links yet (the answer to
    an intake is built from memory instead of reading back what was just written)."""
    repo = TicketsRepository(session)
    # Internal notes, classification and tags are the service desk's; no integration reads them.
    staff = viewer.role in TICKET_STAFF
    full_contact = viewer.role is Role.CUSTOMER or masking.contact_visibility(viewer.role) == "full"
    names = identity.display_names_in(session, [ticket.assignee_user_id] if ticket.assignee_user_id else [])
    summary_out = summary(ticket, clocks(session, [ticket.id]).get(ticket.id, []), names, viewer)
    messages = [
        # Field by field on purpose: MessageOut's own fields; look-alikes elsewhere build others'.
        MessageOut(
            id=m.id,
            kind=MessageKind(m.kind),
            channel=Channel(m.channel),
            author_name=m.author_name,
            body=masking.mask_abuse(m.body) if full_contact else masking.mask_phone(masking.mask_abuse(m.body)),
            created_at=m.created_at,
            # Field by field on purpose: AttachmentOut's own fields; look-alikes elsewhere build others'.
            attachments=[
                AttachmentOut(
                    id=a.id,
                    filename=a.filename,
                    content_type=a.content_type,
                    size=a.size,
                    url=f"/tickets/{ticket.number}/attachments/{a.id}",
                )
                for a in m.attachments
            ],
            email_from=(m.email_from if full_contact else masking.mask_email(m.email_from)) if staff else "",
            email_auth=dict(m.email_auth or {}) if staff else {},
            email_auth_failures=auth_failures(m.email_auth or {}) if staff else [],
        )
        for m in ([opened_with] if opened_with is not None else repo.messages(ticket.id, include_notes=staff))
    ]
    linked_ids = (
        []
        if opened_with is not None
        else [link.other_ticket_id if link.ticket_id == ticket.id else link.ticket_id for link in repo.links(ticket.id)]
    )
    numbers = repo.numbers_by_id([*linked_ids, *([ticket.merged_into_id] if ticket.merged_into_id else [])])
    return TicketOut(
        **summary_out.model_dump(),
        version=ticket.version,
        customer_id=ticket.customer_id,
        requester_email=ticket.requester_email if full_contact else masking.mask_email(ticket.requester_email),
        requester_phone=ticket.requester_phone if full_contact else masking.mask_phone(ticket.requester_phone),
        requester_verified=ticket.requester_verified,
        conversation_id=ticket.conversation_id,
        confidence=ticket.confidence,
        auto_classification=ticket.auto_classification if staff else {},
        priority_reasons=ticket.priority_reasons if staff else [],
        intent=ticket.intent,
        entities=ticket.entities if staff else {},
        order_value=ticket.order_value,
        tags=[t.tag for t in ticket.tags] if staff else [],
        merged_into=numbers.get(ticket.merged_into_id or 0, ""),
        first_response_at=ticket.first_response_at,
        solved_at=ticket.solved_at,
        messages=messages,
        links=[numbers[i] for i in linked_ids if i in numbers],
        allowed_actions=actions_for(TicketStatus(ticket.status)) if staff else [],
    )
