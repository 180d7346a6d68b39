"""Talking SMTP with Python's smtplib: one connection per batch, each message's fate told apart.

A refusal of one message (5xx to its recipient or its data) is final for that message; anything
about the connection (refused, timed out, dropped, TLS or login trouble, 4xx) is worth a retry.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage as MimeMessage
from email.utils import format_datetime, parseaddr
from types import TracebackType

from aftersales.notifications.domain import is_permanent
from aftersales.notifications.settings import NotificationSettings


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    to_address: str
    subject: str
    body_text: str
    message_id: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    permanent: bool = False
    error: str = ""


class Unreachable(Exception):
    """The relay could not be reached or would not let us in: no message of the batch can go."""


def build_message(email: OutgoingEmail, sender: str) -> MimeMessage:
    """The MIME message; the same email always gives the same Message-ID and Date, so a resend
    after a crash is the same message to every mail system on the way."""
    msg = MimeMessage()
    msg["From"] = sender
    msg["To"] = email.to_address
    msg["Subject"] = email.subject
    msg["Message-ID"] = email.message_id
    msg["Date"] = format_datetime(email.created_at)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(email.body_text, charset="utf-8")
    return msg


class Mailer:
    """Opens the connection on the first message and keeps it for the rest of the batch."""

    def __init__(self, settings: NotificationSettings) -> None:
        self.settings = settings
        self._conn: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.quit()
            except (smtplib.SMTPException, OSError):
                conn.close()

    def _connection(self) -> smtplib.SMTP:
        if self._conn is not None:
            return self._conn
        s = self.settings
        try:
            conn: smtplib.SMTP
            if s.smtp_ssl:
                conn = smtplib.SMTP_SSL(
                    s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds, context=ssl.create_default_context()
                )
            else:
                conn = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds)
                if s.smtp_starttls:
                    conn.starttls(context=ssl.create_default_context())
            if s.smtp_username:
                conn.login(s.smtp_username, s.smtp_password)
        except (smtplib.SMTPException, OSError) as exc:
            raise Unreachable(f"SMTP {s.smtp_host}:{s.smtp_port}: {exc!r}") from exc
        self._conn = conn
        return conn

    def send(self, email: OutgoingEmail) -> Outcome:
        """Hand one message to the relay. Raises Unreachable when there is no relay to talk to."""
        try:
            msg = build_message(email, self.settings.smtp_from)
        except (ValueError, TypeError) as exc:  # an address or subject no header can carry
            return Outcome(ok=False, permanent=True, error=f"cannot build the message: {exc}")
        conn = self._connection()
        sender = parseaddr(self.settings.smtp_from)[1] or self.settings.smtp_from
        try:
            conn.send_message(msg, from_addr=sender, to_addrs=[email.to_address])
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            permanent = bool(codes) and all(is_permanent(code) for code in codes)
            return Outcome(ok=False, permanent=permanent, error=f"recipient refused: {exc.recipients!r}")
        except smtplib.SMTPDataError as exc:
            return Outcome(ok=False, permanent=is_permanent(exc.smtp_code), error=f"message refused: {exc!r}")
        except (smtplib.SMTPException, OSError) as exc:
            # Sender refused, dropped connection, timeout: about us or the relay, not this message.
            self._drop()
            return Outcome(ok=False, error=repr(exc))
        return Outcome(ok=True)

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
