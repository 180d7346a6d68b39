"""The email channel of the ticket desk, in: a customer's mail becomes a ticket (or a message on
the ticket it answers). The way out, an agent's reply by SMTP, is in `replies`.

`receive_email` is idempotent by Message-ID (a mail without one is keyed by the digest of its
bytes), finds the ticket a mail refers to by In-Reply-To/References against the Message-IDs stored
on ticket messages, then by a "[TK…]" number in the subject, and lets it join that ticket only when
its sender (the address in From, read by the header registry, never a display name) is the
requester or a participant and the MTA's Authentication-Results do not show it forged; anyone else
opens a new ticket linked to it. Otherwise a ticket opens through intake (classification, priority,
SLA, routing), attached to a customer only by a trusted address that is theirs. Machine-sent mail
(auto-replies, bounces) and mail from our own addresses are dropped: answering them is how mail
loops start.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from aftersales.config import get_settings
from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import Invalid
from aftersales.orders import service as orders
from aftersales.tickets import merging, workflow
from aftersales.tickets.domain import Channel, MailSender, MessageKind, TicketStatus, may_join, same_requester
from aftersales.tickets.email.parse import (
    MAX_MESSAGE_BYTES,
    TICKET_TAG,
    ParsedEmail,
    Refused,
    parse_email,
    raw_digest_id,
)
from aftersales.tickets.intake import open_in_without_unseen_order, signal
from aftersales.tickets.models import Ticket, TicketAttachment, TicketMessage
from aftersales.tickets.repository import TicketsRepository
from aftersales.tickets.schemas import Intake
from aftersales.understanding import service as understanding

log = structlog.get_logger(__name__)

# Who the timeline names for what arrives by mail.
MAIL_GATEWAY = Principal(user_id=0, username="mail-gateway", role=Role.INTEGRATION, display_name="email")


@dataclass(frozen=True, slots=True)
class ReceivedEmail:
    ticket_number: str
    created: bool  # a new ticket was opened
    duplicate: bool  # this Message-ID was already received: nothing changed
    ignored: str = ""  # why the mail was dropped on purpose (auto-reply, bounce, our own)


# --- in ----------------------------------------------------------------------------------------------
def own_addresses() -> set[str]:
    settings = get_settings()
    found = (settings.smtp_from, str(getattr(settings, "mail_in_address", "")))
    return {address for value in found if (address := parseaddr(value)[1].lower())}


def ignore_reason(parsed: ParsedEmail, envelope_from: str | None = None) -> str:
    """Why a mail must not reach the desk, or ""."""
    if envelope_from == "":
        return "a bounce (empty envelope sender)"
    if parsed.auto_reply:
        return f"machine-sent ({parsed.auto_reply})"
    if not parsed.from_address:
        return "no sender address to answer"
    if parsed.from_address in own_addresses():
        return "sent from our own address (a loop)"
    return ""


def receive_email(db: Database, raw: bytes, *, envelope_from: str | None = None) -> ReceivedEmail:
    """One mail from the gateway, committed before it returns. `envelope_from` is the SMTP MAIL FROM
    ("" for a bounce's null sender; None when unknown)."""
    if len(raw) > MAX_MESSAGE_BYTES:
        raise Invalid("The email is larger than 25 MB; send large files as links.")
    parsed = parse_email(raw)
    if reason := ignore_reason(parsed, envelope_from):
        log.info("tickets.email_ignored", reason=reason, message_id=parsed.message_id, sender=parsed.from_address)
        return ReceivedEmail("", created=False, duplicate=False, ignored=reason)
    key = parsed.message_id or raw_digest_id(raw)
    with db.read() as uow:
        repo = TicketsRepository(uow.session)
        if (seen := _already_received(repo, key)) is not None:
            return seen
        target, joins = route_of(repo, parsed)
        answers_open_ticket = joins and target is not None and TicketStatus(target.status) is not TicketStatus.CLOSED
    # Understanding runs outside the write transaction: the model's first load takes seconds.
    understood = None if answers_open_ticket else _understand(parsed)
    try:
        return _store(db, parsed, key, understood)
    except IntegrityError:
        # The same mail was delivered twice at once (a sender's retry): the first one won.
        with db.read() as uow:
            seen = _already_received(TicketsRepository(uow.session), key)
        if seen is None:
            raise
        return seen


def _already_received(repo: TicketsRepository, key: str) -> ReceivedEmail | None:
    if not repo.email_message_exists(key):
        return None
    ticket = repo.by_email_message_ids([key])
    return ReceivedEmail(ticket.number if ticket else "", created=False, duplicate=True)


def thread_target(repo: TicketsRepository, parsed: ParsedEmail) -> Ticket | None:
    """The ticket a mail refers to: by its Message-ID references, else by a [TK…] number in the subject.
    Whether the mail may join it is the sender's question (route_of): a number is easy to guess and
    a thread's headers easy to copy."""
    ticket = repo.by_email_message_ids(parsed.thread_keys)
    if ticket is None and parsed.ticket_hint:
        ticket = repo.by_number_unscoped(parsed.ticket_hint)
    seen: set[int] = set()
    # A merged ticket's conversation goes on in the ticket it was merged into, unless that ticket
    # is someone else's: then the mail stays with its sender (a follow-up of the closed ticket).
    while ticket is not None and ticket.merged_into_id and ticket.id not in seen:
        seen.add(ticket.id)
        into = repo.by_id(ticket.merged_into_id)
        if into is None or not same_requester(
            ticket.customer_id, ticket.requester_email, into.customer_id, into.requester_email
        ):
            break
        ticket = into
    return ticket


def mail_sender(parsed: ParsedEmail) -> MailSender:
    return MailSender(parsed.from_address, parsed.from_ambiguous, parsed.authentication)


def route_of(repo: TicketsRepository, parsed: ParsedEmail) -> tuple[Ticket | None, bool]:
    """(the ticket the mail refers to, whether it joins it): only the requester or a participant joins;
    anyone else opens a new ticket linked to that one."""
    target = thread_target(repo, parsed)
    if target is None:
        return None, False
    participants = repo.email_participants(target.id) - own_addresses()
    return target, may_join(mail_sender(parsed), target.requester_email, participants)


@dataclass(frozen=True, slots=True)
class _Understood:
    intent: str
    entities: dict[str, Any]


def _understand(parsed: ParsedEmail) -> _Understood:
    text = TICKET_TAG.sub(" ", f"{parsed.ticket_subject}\n{parsed.text}")
    found = understanding.understand(text, clock.now().astimezone(get_settings().zone).date())
    return _Understood(found.intent, dict(found.entities))


def _store(db: Database, parsed: ParsedEmail, key: str, understood: _Understood | None) -> ReceivedEmail:
    written: list[Path] = []
    try:
        with db.write() as uow:
            session = uow.session
            repo = TicketsRepository(session)
            target, joins = route_of(repo, parsed)
            body = _body(parsed)
            author = parsed.from_name or parsed.from_address
            created = False
            if target is not None and joins and TicketStatus(target.status) is not TicketStatus.CLOSED:
                ticket = target
                message = workflow.customer_writes(
                    session, ticket, body, MAIL_GATEWAY, Channel.EMAIL, author_name=author, email_message_id=key
                )
            else:
                ticket = _open(session, parsed, body, key, understood or _understand(parsed), target, joins)
                session.flush()
                message = repo.messages(ticket.id, include_notes=False)[0]
                created = True
            message.email_from = parsed.from_address
            ours = own_addresses()
            message.email_recipients = [a for a in parsed.recipients if a not in ours]
            message.email_auth = dict(parsed.authentication)
            _keep_attachments(session, ticket, message, parsed, written)
            _note_refused(session, ticket, list(parsed.refused))
            signal(session, ticket)
            uow.commit()
            log.info("tickets.email_received", ticket=ticket.number, created=created, message_id=key)
            return ReceivedEmail(ticket.number, created=created, duplicate=False)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise


def _body(parsed: ParsedEmail) -> str:
    if parsed.text.strip():
        return parsed.text
    if parsed.attachments:
        return "(attachments only / 仅附件)"
    return "(empty email / 空邮件)"


def _open(
    session: Session,
    parsed: ParsedEmail,
    body: str,
    key: str,
    understood: _Understood,
    target: Ticket | None,
    joins: bool,
) -> Ticket:
    """A new ticket. The follow-up of the sender's own closed ticket keeps its customer and order; a
    mail about a ticket its sender may not join is linked to that ticket and takes nothing from it.
    A ticket is attached to a customer only by a trusted sender address that is theirs; otherwise
    its requester is an unverified contact."""
    sender = mail_sender(parsed)
    follow_up = target if joins else None
    if follow_up is not None:
        customer_id, verified = follow_up.customer_id, follow_up.requester_verified
    else:
        customer_id = orders.customer_id_by_email_in(session, parsed.from_address) if sender.trusted else None
        verified = customer_id is not None
    order_number = follow_up.order_number if follow_up else ""
    if not order_number and customer_id is not None:
        # Only a known customer's own order is linked; open_in checks that it is theirs.
        order_number = str(understood.entities.get("order_number") or "")
    intake = Intake(
        subject=parsed.ticket_subject,
        body=body,
        channel=Channel.EMAIL,
        customer_id=customer_id,
        requester_name=parsed.from_name,
        requester_email=parsed.from_address,
        order_number=order_number,
        intent=understood.intent,
        entities=understood.entities,
        email_message_id=key,
        author_name=parsed.from_name or parsed.from_address,
    )
    ticket = open_in_without_unseen_order(session, intake, MAIL_GATEWAY)
    ticket.requester_verified = verified
    if target is not None:
        merging.link(session, ticket, target, MAIL_GATEWAY)
    if target is not None and not joins:
        workflow.add_message(
            session,
            ticket,
            kind=MessageKind.NOTE,
            body=(
                f"This email refers to ticket {target.number}, but its sender {parsed.from_address} is neither that "
                f"ticket's requester nor a participant (or the sender could not be verified), so it opened this "
                f"ticket instead. / 此邮件指向工单 {target.number}，但发件人 {parsed.from_address} 不是该工单的"
                f"提交人或参与者（或发件人未通过验证），因此另开此工单。"
            ),
            by=MAIL_GATEWAY,
            channel=Channel.EMAIL,
        )
    return ticket


def ticket_folder(number: str) -> Path:
    return Path(get_settings().upload_dir).resolve() / "tickets" / number


def _keep_attachments(
    session: Session, ticket: Ticket, message: TicketMessage, parsed: ParsedEmail, written: list[Path]
) -> None:
    """Write each kept attachment under a generated name (never the sender's) and record it; `written`
    collects the files, so the caller can remove them when the transaction does not commit."""
    if not parsed.attachments:
        return
    folder = ticket_folder(ticket.number)
    folder.mkdir(parents=True, exist_ok=True)
    now = clock.now()
    for attachment in parsed.attachments:
        path = folder / secrets.token_hex(16)
        with path.open("xb") as fh:
            fh.write(attachment.data)
        written.append(path)
        # Field by field on purpose: TicketAttachment's own fields; look-alikes elsewhere build others'.
        session.add(
            TicketAttachment(
                message_id=message.id,
                ticket_id=ticket.id,
                filename=attachment.filename,
                content_type=attachment.content_type,
                size=len(attachment.data),
                path=str(path),
                created_at=now,
            )
        )


def _note_refused(session: Session, ticket: Ticket, refused: list[Refused]) -> None:
    """Agents learn which attachments were not kept, so they can ask for them another way."""
    if not refused:
        return
    lines = "\n".join(f"- {r.filename}: {r.reason}" for r in refused)
    workflow.add_message(
        session,
        ticket,
        kind=MessageKind.NOTE,
        body=f"Attachments of the customer's email not kept / 未保存的附件:\n{lines}",
        by=MAIL_GATEWAY,
        channel=Channel.EMAIL,
    )
