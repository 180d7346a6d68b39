"""Use cases of the notifications context: write a customer's notice (inbox and email) once per
event, send queued emails with retries, and the customer's inbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.exc import IntegrityError

from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.kit.errors import NotFound
from aftersales.kit.pagination import PageRequest
from aftersales.kit.vocabulary import MessageClass
from aftersales.messaging import live, scans
from aftersales.notifications import domain
from aftersales.notifications.domain import EmailStatus
from aftersales.notifications.mailer import Mailer, Outcome, OutgoingEmail, Unreachable
from aftersales.notifications.models import EmailMessage, InboxMessage, StaffInboxMessage
from aftersales.notifications.repository import NotificationsRepository
from aftersales.notifications.schemas import InboxItem, InboxPage, NotifyResult, SendReport
from aftersales.notifications.settings import NotificationSettings, notification_settings
from aftersales.orders import service as orders

log = structlog.get_logger(__name__)

# A claimed email is left alone by other senders for this long; a sender that dies mid-way leaves
# it to be sent again afterwards, with the same Message-ID.
LEASE = timedelta(minutes=10)
SCAN = "emails"  # failed sends are counted in /metrics under this scan


# --- writing a notice ----------------------------------------------------------------------------
def notify(
    db: Database,
    customer_id: int,
    topic: str,
    params: dict[str, Any],
    key: str,
    *,
    settings: NotificationSettings | None = None,
    message_class: MessageClass = MessageClass.TRANSACTIONAL,
) -> NotifyResult | None:
    """Tell a customer about an event: an inbox message, and a queued email when the customer has an
    address, in one transaction. Idempotent by `key`: a replayed event creates nothing new and
    returns what the first delivery created. None when the event deserves no message or the
    customer is unknown."""
    contact = orders.customer_contact(db, customer_id)
    if contact is None:
        log.warning("notifications.unknown_customer", customer_id=customer_id, topic=topic, key=key)
        return None
    notice = domain.compose(topic, params, contact.locale)
    if notice is None:
        return None
    settings = settings or notification_settings()
    stored_key = domain.storage_key(key)
    existing = _existing(db, stored_key)
    if existing is not None:
        return existing
    now = domain.event_time(params, clock.now())
    # The staff inbox (alert_staff) writes its rows alike on purpose: two tables, two sets of ids.
    with db.write() as uow:
        inbox = InboxMessage(
            customer_id=customer_id,
            topic=topic[:64],
            subject=notice.subject[:200],
            body=notice.body,
            link=notice.link[:200],
            idempotency_key=stored_key,
            created_at=now,
            read_at=None,
        )
        uow.session.add(inbox)
        email: EmailMessage | None = None
        address = contact.email.strip()
        if domain.looks_like_email(address) and contact.email_notices:  # unless turned off on /account
            email = EmailMessage(
                to_address=address[:200],
                subject=notice.subject[:200],
                body_text=domain.email_text(notice, contact.locale, contact.name, settings.public_url),
                message_id=domain.message_id(stored_key, settings.smtp_from),
                idempotency_key=stored_key,
                status=EmailStatus.QUEUED.value,
                attempts=0,
                last_error="",
                created_at=now,
                next_attempt_at=now,
                sent_at=None,
            )
            uow.session.add(email)
        try:
            uow.commit()
        except IntegrityError:
            # Another delivery of the same event got there first; its rows are the answer.
            uow.session.rollback()
            raced = _existing(db, stored_key)
            if raced is None:
                raise
            return raced
        return NotifyResult(inbox_id=inbox.id, email_id=email.id if email else None, created=True)


def _existing(db: Database, stored_key: str) -> NotifyResult | None:
    with db.read() as uow:
        repo = NotificationsRepository(uow.session)
        inbox = repo.inbox_by_key(stored_key)
        if inbox is None:
            return None
        email = repo.email_by_key(stored_key)
        return NotifyResult(inbox_id=inbox.id, email_id=email.id if email else None, created=False)


# --- sending email -------------------------------------------------------------------------------
def send_due_emails(
    db: Database,
    settings: NotificationSettings | None = None,
    limit: int = 50,
    *,
    ids: Sequence[int] | None = None,
) -> SendReport:
    """Send queued emails that are due (only `ids`, when given) over SMTP. Each is claimed with a
    lease first, so several senders never send the same one at once; each outcome is written as
    soon as it is known: sent, retry later with backoff, or failed for good."""
    settings = settings or notification_settings()
    claimed = _claim(db, limit, ids)
    report = SendReport()
    if not claimed:
        return report
    with Mailer(settings) as mailer:
        for index, (email_id, outgoing) in enumerate(claimed):
            try:
                outcome = mailer.send(outgoing)
            except Unreachable as exc:
                # Nobody to talk to: every message left in the batch waits for the next try.
                report.unreachable = True
                for rest_id, _ in claimed[index:]:
                    _record(db, rest_id, Outcome(ok=False, error=str(exc)), report, relay_away=True)
                # Said once by the relay watch (mailer.relays); each later try is only a detail.
                log.debug("notifications.emails_waiting", error=str(exc), waiting=len(claimed) - index)
                break
            except Exception as exc:  # a fault of this one email: it is retried later, the rest go on
                outcome = Outcome(ok=False, error=f"could not send: {exc!r}")
            _record(db, email_id, outcome, report)
    return report


def _claim(db: Database, limit: int, ids: Sequence[int] | None) -> list[tuple[int, OutgoingEmail]]:
    now = clock.now()
    with db.write() as uow:
        repo = NotificationsRepository(uow.session)
        claimed = []
        for email in repo.due_emails(now, limit, ids, skip_locked=not db.is_sqlite):
            email.next_attempt_at = now + LEASE
            claimed.append(
                (
                    email.id,
                    OutgoingEmail(
                        to_address=email.to_address,
                        subject=email.subject,
                        body_text=email.body_text,
                        message_id=email.message_id,
                        created_at=email.created_at,
                    ),
                )
            )
        uow.commit()
        return claimed


def _record(db: Database, email_id: int, outcome: Outcome, report: SendReport, *, relay_away: bool = False) -> None:
    now = clock.now()
    with db.write() as uow:
        email = NotificationsRepository(uow.session).email(email_id)
        if email is None or email.status != EmailStatus.QUEUED.value:
            return
        email.attempts += 1
        if outcome.ok:
            email.status = EmailStatus.SENT.value
            email.sent_at = now
            email.next_attempt_at = None
            email.last_error = ""
            report.sent += 1
        elif outcome.permanent or domain.gives_up(email.attempts):
            scans.ITEM_FAILURES.labels(SCAN).inc()
            email.status = EmailStatus.FAILED.value
            email.next_attempt_at = None
            email.last_error = outcome.error[:2000]
            report.failed += 1
            log.error("notifications.email_failed", email_id=email_id, attempts=email.attempts, error=outcome.error)
        else:
            scans.ITEM_FAILURES.labels(SCAN).inc()
            email.next_attempt_at = now + domain.retry_delay(email.attempts)
            email.last_error = outcome.error[:2000]
            report.retrying += 1
            # A relay that is away is reported once by the relay watch, not once per waiting email.
            (log.debug if relay_away else log.warning)(
                "notifications.email_retry", email_id=email_id, attempts=email.attempts, error=outcome.error
            )
        uow.commit()


# --- the customer's inbox ------------------------------------------------------------------------
def inbox(db: Database, customer_id: int, page: int = 1, size: int = 20) -> InboxPage:
    """The customer's messages, newest first, with how many are unread."""
    return _inbox_page(db, customer_id, page, size, staff=False)


def unread_count(db: Database, customer_id: int) -> int:
    with db.read() as uow:
        return NotificationsRepository(uow.session).unread_count(customer_id)


def settle_history(db: Database, before: datetime) -> int:
    """A shop's past as its customers lived it: notices about events before `before` were read
    back then and their emails went out then (seeding the demo's 60 days). Returns how many
    notices it marked read."""
    with db.write() as uow:
        marked = NotificationsRepository(uow.session).settle_before(before)
        uow.commit()
        return marked


def mark_read(db: Database, customer_id: int, message_id: int) -> InboxItem:
    """Mark one of the customer's messages read (again is harmless); another's is not found."""
    return _mark_read(db, customer_id, message_id, staff=False)


def _inbox_page(db: Database, owner_id: int, page: int, size: int, *, staff: bool) -> InboxPage:
    """A customer's or a staff member's inbox (two tables: customers are not users)."""
    request = PageRequest(page, size)
    with db.read() as uow:
        repo = NotificationsRepository(uow.session)
        if staff:
            total, unread = repo.staff_total(owner_id), repo.staff_unread(owner_id)
            rows: Sequence[Any] = repo.staff_page(owner_id, request.offset, request.size)
        else:
            total, unread = repo.inbox_total(owner_id), repo.unread_count(owner_id)
            rows = repo.inbox_page(owner_id, request.offset, request.size)
        items = [InboxItem.model_validate(m) for m in rows]
    pages = max(1, -(-total // request.size))
    return InboxPage(items=items, total=total, page=request.page, pages=pages, unread=unread)


def _mark_read(db: Database, owner_id: int, message_id: int, *, staff: bool) -> InboxItem:
    with db.write() as uow:
        repo = NotificationsRepository(uow.session)
        message = repo.staff_message(owner_id, message_id) if staff else repo.customer_message(owner_id, message_id)
        if message is None:
            raise NotFound(f"No message {message_id} in your inbox.")
        if message.read_at is None:
            message.read_at = clock.now()
        item = InboxItem.model_validate(message)
        uow.commit()
        return item


# --- the staff inbox -----------------------------------------------------------------------------
def staff_channel(user_id: int) -> str:
    """The live channel a person's new alerts are signalled on (the supervisor's board listens)."""
    return live.user_channel(user_id)


def alert_staff(
    db: Database, recipients: Sequence[tuple[int, str]], template: str, params: dict[str, Any], key: str
) -> int:
    """Write a staff message to each (user id, locale), once per event and person however often
    the event is delivered; each recipient's page hears of it live. Returns how many were new."""
    keyed = {domain.storage_key(f"{key}:user:{user_id}"): (user_id, locale) for user_id, locale in recipients}
    if not keyed:
        return 0
    now = clock.now()
    with db.write() as uow:
        have = NotificationsRepository(uow.session).staff_keys(list(keyed))
        created = 0
        # Same columns as the customer's InboxMessage above on purpose: staff and customers are two tables.
        for stored_key, (user_id, locale) in keyed.items():
            if stored_key in have:
                continue
            notice = domain.compose_staff(template, params, locale)
            uow.session.add(
                StaffInboxMessage(
                    user_id=user_id,
                    topic=template[:64],
                    subject=notice.subject[:200],
                    body=notice.body,
                    link=notice.link[:200],
                    idempotency_key=stored_key,
                    created_at=now,
                    read_at=None,
                )
            )
            live.notify(
                uow.session,
                staff_channel(user_id),
                "alert",
                audience=live.Audience(staff=False, user_ids=frozenset({user_id})),
            )
            created += 1
        try:
            uow.commit()
        except IntegrityError:
            # A parallel delivery of the same event wrote them first; nothing is missing.
            uow.session.rollback()
            return 0
        return created


# The staff inbox mirrors the customer's on purpose (customers are not users: two tables, two sets of
# ids); what they share is in _inbox_page and _mark_read.
def staff_inbox(db: Database, user_id: int, page: int = 1, size: int = 20) -> InboxPage:
    return _inbox_page(db, user_id, page, size, staff=True)


def staff_unread_count(db: Database, user_id: int) -> int:
    with db.read() as uow:
        return NotificationsRepository(uow.session).staff_unread(user_id)


def staff_mark_read(db: Database, user_id: int, message_id: int) -> InboxItem:
    return _mark_read(db, user_id, message_id, staff=True)
