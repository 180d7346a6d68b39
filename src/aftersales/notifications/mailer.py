"""Talking SMTP with Python's smtplib: one connection per batch, each message's fate told apart.

A refusal of one message (5xx to its recipient or its data) is final for that message; anything
about the connection (refused, timed out, dropped, TLS or login trouble, 4xx) is worth a retry.
"""

from __future__ import annotations

import smtplib
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage as MimeMessage
from email.utils import format_datetime, parseaddr
from types import TracebackType

import structlog

from aftersales.kit import clock
from aftersales.notifications.domain import is_permanent
from aftersales.notifications.settings import NotificationSettings

log = structlog.get_logger(__name__)


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


class RelayWatch:
    """Remembers that a relay did not answer, so a shop without one hears it once: the first failure
    is a warning, then connections wait out a back-off that doubles up to a cap (senders get
    Unreachable at once meanwhile, and their emails stay queued), and the relay's return is logged."""

    def __init__(self, first: float = 10.0, cap: float = 600.0, now: Callable[[], float] | None = None) -> None:
        self.first, self.cap = first, cap
        self._now = now or (lambda: clock.now().timestamp())  # the app's clock, which tests can move
        self._lock = threading.Lock()
        self._down: dict[str, tuple[float, float]] = {}  # relay → (back-off, next try)

    def check(self, relay: str) -> None:
        """Raise Unreachable without connecting while the relay's back-off lasts."""
        with self._lock:
            down = self._down.get(relay)
        if down is not None and self._now() < down[1]:
            raise Unreachable(f"SMTP {relay}: not answering; next try in {down[1] - self._now():.0f} s")

    def failed(self, relay: str, error: str) -> None:
        with self._lock:
            down = self._down.get(relay)
            wait = self.first if down is None else min(down[0] * 2, self.cap)
            self._down[relay] = (wait, self._now() + wait)
        if down is None:
            log.warning("notifications.smtp_unreachable", relay=relay, error=error, retry_in_seconds=wait)
        else:
            log.debug("notifications.smtp_still_unreachable", relay=relay, retry_in_seconds=wait)

    def answered(self, relay: str) -> None:
        with self._lock:
            down = self._down.pop(relay, None)
        if down is not None:
            log.info("notifications.smtp_recovered", relay=relay)


relays = RelayWatch()


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
        relay = f"{s.smtp_host}:{s.smtp_port}"
        relays.check(relay)
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
            relays.failed(relay, repr(exc))
            raise Unreachable(f"SMTP {relay}: {exc!r}") from exc
        relays.answered(relay)
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
