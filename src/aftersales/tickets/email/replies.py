"""The email channel of the ticket desk, out: an agent's public reply on an email ticket goes back
to its requester by SMTP, threaded.

`send_reply` is what the "tickets.public_reply" handler runs. The Message-ID is derived from
the outbox key (keyed with the secret, so nobody can guess an id to slip into a thread) and is
stored on the reply only once the relay took the mail: a stored id means "sent", so a retried
event sends nothing; a crash between the relay's 250 and our commit resends the very same message
(same Message-ID and Date), which mail systems recognise as one.
"""

from __future__ import annotations

import hashlib
import hmac
import smtplib
from email.message import EmailMessage as MimeMessage
from email.utils import format_datetime, formataddr, parseaddr

import structlog

from aftersales.config import get_settings
from aftersales.db.uow import Database
from aftersales.notifications.domain import is_permanent
from aftersales.notifications.mailer import Mailer, Outcome, Unreachable
from aftersales.notifications.settings import NotificationSettings, notification_settings
from aftersales.tickets import workflow
from aftersales.tickets.domain import Channel, MessageKind
from aftersales.tickets.email.inbound import MAIL_GATEWAY
from aftersales.tickets.intake import signal
from aftersales.tickets.models import Ticket, TicketMessage
from aftersales.tickets.repository import TicketsRepository

log = structlog.get_logger(__name__)

REFERENCES_KEPT = 20  # the first id of the thread and the latest ones (RFC 5322 §3.6.4)


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
