"""The SMTP endpoint of the ticket desk: the shop's mail server (MX, an alias or a forwarding rule)
hands customers' mail to it, and each mail becomes a ticket or a message on one.

It answers 250 only after the ticket is committed, so a mail it accepted is never lost; when the
database cannot take it the answer is 451 and the sending server tries again later (that is what
SMTP queues are for); mail over 25 MB gets 552. Bind it to 127.0.0.1 behind the shop's MTA (Postfix,
Exim, a cloud forwarder): it does no spam filtering, TLS or authentication of its own.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from types import TracebackType
from typing import Any

import structlog
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy.exc import SQLAlchemyError

from aftersales.config import get_settings
from aftersales.db.uow import Database
from aftersales.kit.errors import AppError
from aftersales.tickets.email.inbound import ReceivedEmail, receive_email
from aftersales.tickets.email.parse import MAX_MESSAGE_BYTES

log = structlog.get_logger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 2525
TRY_LATER = "451 4.3.0 The ticket desk cannot store mail right now; please try again later"
TOO_BIG = "552 5.3.4 Message too big for the ticket desk (25 MB at most); send large files as links"


def _ascii(text: str) -> str:
    return text.encode("ascii", "replace").decode()[:200]


class MailInHandler:
    """aiosmtpd handler: every recipient is taken (the MTA in front decides what reaches us); each
    mail is stored in a worker thread, so the event loop keeps serving other connections."""

    def __init__(self, db: Database, workers: int = 2) -> None:
        self.db = db
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mail-in")

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's hook
        raw = envelope.original_content
        if raw is None:
            content = envelope.content
            raw = content if isinstance(content, bytes) else str(content or "").encode("utf-8", "surrogateescape")
        if len(raw) > MAX_MESSAGE_BYTES:
            return TOO_BIG
        # A bounce comes from the null sender, MAIL FROM:<> (RFC 5321 §4.5.5).
        sender = (envelope.mail_from or "").strip()
        sender = "" if sender in ("", "<>") else sender
        loop = asyncio.get_running_loop()
        try:
            received: ReceivedEmail = await loop.run_in_executor(
                self._pool, partial(receive_email, self.db, raw, envelope_from=sender)
            )
        except SQLAlchemyError as exc:
            log.warning("tickets.mail_in_deferred", error=repr(exc), sender=envelope.mail_from)
            return TRY_LATER
        except AppError as exc:
            return f"550 5.6.0 {_ascii(exc.message)}"
        except Exception:  # a bug must not lose the mail: the sender keeps it and tries again
            log.exception("tickets.mail_in_failed", sender=envelope.mail_from)
            return TRY_LATER
        if received.ignored:
            return f"250 2.0.0 Accepted, not a ticket: {_ascii(received.ignored)}"
        if received.duplicate:
            return f"250 2.0.0 Already received ({received.ticket_number})"
        return f"250 2.0.0 Ticket {received.ticket_number}"


class MailGateway:
    """The SMTP server on host:port (settings mail_in_host / mail_in_port by default), started in a
    thread of its own."""

    def __init__(self, db: Database, host: str | None = None, port: int | None = None, *, workers: int = 2) -> None:
        settings = get_settings()
        self.host = host or str(getattr(settings, "mail_in_host", DEFAULT_HOST))
        self.port = port if port is not None else int(getattr(settings, "mail_in_port", DEFAULT_PORT))
        self.handler = MailInHandler(db, workers)
        self._controller = Controller(
            self.handler,
            hostname=self.host,
            port=self.port,
            data_size_limit=MAX_MESSAGE_BYTES,
            enable_SMTPUTF8=True,
            ident="Aftersales mail-in",
        )

    def start(self) -> MailGateway:
        self._controller.start()
        log.info("tickets.mail_in_listening", host=self.host, port=self.port)
        return self

    def stop(self) -> None:
        self._controller.stop()
        self.handler.close()

    def __enter__(self) -> MailGateway:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def options() -> dict[str, Any]:
    """Where the gateway listens by default, for the CLI's help and the docs."""
    settings = get_settings()
    return {
        "host": str(getattr(settings, "mail_in_host", DEFAULT_HOST)),
        "port": int(getattr(settings, "mail_in_port", DEFAULT_PORT)),
    }
