"""The email channel of the ticket desk: a customer's mail becomes a ticket (or a message on the
ticket it answers), and an agent's public reply on an email ticket goes back by SMTP, threaded.

In: `receive_email` is idempotent by Message-ID (a mail without one is keyed by the digest of its
bytes), finds the ticket a mail refers to by In-Reply-To/References against the Message-IDs stored
on ticket messages, then by a "[TK…]" number in the subject, and lets it join that ticket only when
its sender (the address in From, read by the header registry, never a display name) is the
requester or a participant and the MTA's Authentication-Results do not show it forged; anyone else
opens a new ticket linked to it. Otherwise a ticket opens through intake (classification, priority,
SLA, routing), attached to a customer only by a trusted address that is theirs. Machine-sent mail
(auto-replies, bounces) and mail from our own addresses are dropped: answering them is how mail
loops start.

Out: `send_reply` is what the "tickets.public_reply" handler runs. The Message-ID is derived from
the outbox key (keyed with the secret, so nobody can guess an id to slip into a thread) and is
stored on the reply only once the relay took the mail: a stored id means "sent", so a retried
event sends nothing; a crash between the relay's 250 and our commit resends the very same message
(same Message-ID and Date), which mail systems recognise as one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage as MimeMessage
from email.utils import format_datetime, formataddr, parseaddr
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
from aftersales.notifications.domain import is_permanent
from aftersales.notifications.mailer import Mailer, Outcome, Unreachable
from aftersales.notifications.settings import NotificationSettings, notification_settings
from aftersales.orders import service as orders
from aftersales.tickets import workflow
from aftersales.tickets.domain import Channel, MailSender, MessageKind, TicketStatus, may_join, same_requester
from aftersales.tickets.intake import open_in, signal
from aftersales.tickets.mailparse import (
    MAX_MESSAGE_BYTES,
    TICKET_TAG,
    ParsedEmail,
    Refused,
    parse_email,
    raw_digest_id,
)
from aftersales.tickets.models import Ticket, TicketAttachment, TicketMessage
from aftersales.tickets.repository import TicketsRepository
from aftersales.tickets.schemas import Intake
from aftersales.understanding import service as understanding

log = structlog.get_logger(__name__)

# Who the timeline names for what arrives by mail.
MAIL_GATEWAY = Principal(user_id=0, username="mail-gateway", role=Role.INTEGRATION, display_name="email")
REFERENCES_KEPT = 20  # the first id of the thread and the latest ones (RFC 5322 §3.6.4)


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
    try:
        ticket = open_in(session, intake, MAIL_GATEWAY)
    except Invalid:
        # Not their order (or no such order): open the ticket anyway, without the link.
        ticket = open_in(session, intake.model_copy(update={"order_number": ""}), MAIL_GATEWAY)
    ticket.requester_verified = verified
    if target is not None:
        workflow.link(session, ticket, target, MAIL_GATEWAY)
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


# --- out ---------------------------------------------------------------------------------------------
class ReplyDeferred(Exception):
    """The relay could not take the reply now; the outbox delivers the event again later."""


class ThreadMailer(Mailer):
    """The notifications mailer (its connection, TLS, login and error triage) sending a message built
    here, with the threading headers that notices do not carry."""

    def send_mime(self, msg: MimeMessage, to_address: str) -> Outcome:
        conn = self._connection()  # raises Unreachable
        sender = parseaddr(self.settings.smtp_from)[1] or self.settings.smtp_from
        try:
            conn.send_message(msg, from_addr=sender, to_addrs=[to_address])
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            permanent = bool(codes) and all(is_permanent(code) for code in codes)
            return Outcome(ok=False, permanent=permanent, error=f"recipient refused: {exc.recipients!r}")
        except smtplib.SMTPDataError as exc:
            return Outcome(ok=False, permanent=is_permanent(exc.smtp_code), error=repr(exc))
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            return Outcome(ok=False, error=repr(exc))
        return Outcome(ok=True)


def reply_message_id(key: str, sender: str) -> str:
    """Our Message-ID for a reply: the same for the same outbox event, unguessable without the secret."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "aftersales.invalid"
    digest = hmac.new(get_settings().secret_key.encode(), key.encode(), hashlib.sha256).hexdigest()[:32]
    return f"<reply.{digest}@{domain}>"


def thread_headers(ids: list[str]) -> tuple[str, str]:
    """(In-Reply-To, References) for a reply in a thread whose stored ids are `ids`, oldest first."""
    if not ids:
        return "", ""
    kept = ids if len(ids) <= REFERENCES_KEPT else [ids[0], *ids[-(REFERENCES_KEPT - 1) :]]
    return ids[-1], " ".join(kept)


def reply_text(body: str, number: str) -> str:
    return (
        f"{body.rstrip()}\n\n--\n"
        f"工单号 Ticket: {number}\n"
        "直接回复此邮件即可补充信息。Reply to this email to add to your ticket.\n"
    )


def build_reply(
    ticket: Ticket, message: TicketMessage, thread_ids: list[str], message_id: str, settings: NotificationSettings
) -> MimeMessage:
    msg = MimeMessage()
    msg["From"] = settings.smtp_from
    name, address = ticket.requester_name, ticket.requester_email
    msg["To"] = formataddr((name, address)) if name else address
    msg["Subject"] = f"Re: {ticket.subject} [{ticket.number}]"
    msg["Message-ID"] = message_id
    msg["Date"] = format_datetime(message.created_at)
    in_reply_to, references = thread_headers(thread_ids)
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = references
    if reply_to := str(getattr(get_settings(), "mail_in_address", "")):
        msg["Reply-To"] = reply_to
    msg["X-Aftersales-Ticket"] = ticket.number
    msg.set_content(reply_text(message.body, ticket.number), charset="utf-8")
    return msg


def send_reply(db: Database, message_id: int, key: str, settings: NotificationSettings | None = None) -> str:
    """Email an agent's public reply on an email ticket to its requester, once. Returns what happened;
    raises ReplyDeferred (or Unreachable) when it should be tried again later."""
    settings = settings or notification_settings()
    with db.read() as uow:
        repo = TicketsRepository(uow.session)
        message = uow.session.get(TicketMessage, message_id)
        ticket = repo.by_id(message.ticket_id) if message is not None else None
        if message is None or ticket is None or message.kind != MessageKind.REPLY.value:
            return "skipped: no such reply"
        if ticket.channel != Channel.EMAIL.value:
            return "skipped: not an email ticket"
        if message.email_message_id:
            return "skipped: already sent"
        if "@" not in ticket.requester_email:
            return "skipped: the requester has no email address"
        mid = reply_message_id(key, settings.smtp_from)
        mime = build_reply(ticket, message, repo.last_outbound_email_id(ticket.id), mid, settings)
        to_address = ticket.requester_email
    mailer = ThreadMailer(settings)
    try:
        outcome = mailer.send_mime(mime, to_address)
    except Unreachable as exc:
        raise ReplyDeferred(str(exc)) from exc
    finally:
        mailer.close()
    if not outcome.ok and not outcome.permanent:
        raise ReplyDeferred(outcome.error)
    with db.write() as uow:
        message = uow.session.get(TicketMessage, message_id)
        ticket = TicketsRepository(uow.session).by_id(message.ticket_id) if message is not None else None
        if message is None or ticket is None:
            return "sent, but the reply is gone"
        if outcome.ok:
            message.email_message_id = mid
            result = "sent"
        else:
            workflow.add_message(
                uow.session,
                ticket,
                kind=MessageKind.NOTE,
                body=f"The reply could not be emailed to {to_address} / 回复邮件无法送达: {outcome.error[:500]}",
                by=MAIL_GATEWAY,
                channel=Channel.EMAIL,
            )
            signal(uow.session, ticket)
            result = "refused by the relay"
        uow.commit()
    log.info("tickets.email_reply", ticket=ticket.number, result=result, message_id=mid)
    return result
