"""Use cases of the notifications context: write a customer's notice (inbox and email) once per
event, send queued emails with retries, and the customer's inbox."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.exc import IntegrityError

from aftersales.config import get_settings
from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.kit.errors import Forbidden, Invalid, NotFound
from aftersales.kit.pagination import PageRequest
from aftersales.kit.vocabulary import MessageClass
from aftersales.messaging import live, scans
from aftersales.notifications import domain, governor, outreach
from aftersales.notifications.domain import EmailStatus
from aftersales.notifications.mailer import Mailer, Outcome, OutgoingEmail, Unreachable
from aftersales.notifications.models import StaffInboxMessage
from aftersales.notifications.repository import NotificationsRepository
from aftersales.notifications.schemas import (
    InboxItem,
    InboxPage,
    NotifyResult,
    OutreachChoice,
    OutreachDecisionOut,
    ReleaseReport,
    SendReport,
    SmsReport,
)
from aftersales.notifications.settings import NotificationSettings, notification_settings
from aftersales.notifications.sms import SmsGateway, SmsOutcome
from aftersales.notifications.sms import gateway_from as sms_gateway_from
from aftersales.orders import service as orders

log = structlog.get_logger(__name__)

# A claimed email is left alone by other senders for this long; a sender that dies mid-way leaves
# it to be sent again afterwards, with the same Message-ID.
LEASE = timedelta(minutes=10)
SCAN = "emails"  # failed sends are counted in /metrics under this scan


# Facts another context states in notices without notifications importing it (they import us):
# the disputes context gives the window in which a refused case may be handed to the platform, the
# cases context a settled refund's shipping share. Each gets the event's params and adds to them.
NoticeFacts = Callable[[Database, dict[str, Any]], dict[str, Any]]
_notice_facts: list[NoticeFacts] = []


def provide_notice_facts(provider: NoticeFacts) -> None:
    """Bound at start-up (worker.wiring.bind_ports); providing the same one again changes nothing."""
    if provider not in _notice_facts:
        _notice_facts.append(provider)


def _with_facts(db: Database, params: dict[str, Any]) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    for provider in _notice_facts:
        facts.update(provider(db, params))
    return {**facts, **params}


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
    customer is unknown.

    Every message passes the outreach governor (notifications.governor). Transactional ones (the
    default: one per status change, kept by their event key) always go. Service-proactive and
    marketing ones (the key is the incident: one message per incident) may be deferred to the end
    of quiet hours, held to be merged into a digest, or refused; the result says which and why,
    and the decision is recorded."""
    contact = orders.customer_contact(db, customer_id)
    if contact is None:
        log.warning("notifications.unknown_customer", customer_id=customer_id, topic=topic, key=key)
        return None
    notice = domain.compose(topic, _with_facts(db, params), contact.locale)
    if notice is None:
        return None
    settings = settings or notification_settings()
    stored_key = domain.storage_key(key)
    governed = message_class is not MessageClass.TRANSACTIONAL
    existing = _existing_governed(db, stored_key) if governed else _existing(db, stored_key)
    if existing is not None:
        return existing
    now = domain.event_time(params, clock.now())
    # The staff inbox (alert_staff) writes its rows alike on purpose: two tables, two sets of ids.
    with db.write() as uow:
        try:
            if governed:
                result = outreach.govern(
                    uow.session, contact, topic, params, stored_key, notice, message_class, settings
                )
            else:
                inbox, email = outreach.write_notice(uow.session, contact, topic, notice, stored_key, now, settings)
                assert inbox is not None
                result = NotifyResult(inbox_id=inbox.id, email_id=email.id if email else None, created=True)
            uow.commit()
        except IntegrityError:
            # Another delivery of the same event got there first; its rows are the answer.
            uow.session.rollback()
            raced = _existing_governed(db, stored_key) if governed else _existing(db, stored_key)
            if raced is None:
                raise
            return raced
        if governed:
            log.info("notifications.governed", key=key, outcome=result.outcome, reason=result.reason)
        return result


def _existing_governed(db: Database, stored_key: str) -> NotifyResult | None:
    with db.read() as uow:
        return outreach.existing(uow.session, stored_key)


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


# --- the outreach governor: the worker, the buyer's choices, consent, agents' contacts ------------
def release_waiting(db: Database, settings: NotificationSettings | None = None, limit: int = 200) -> ReleaseReport:
    """Send the deferred and digest-held messages whose time has come (the worker, every minute).
    Safe when several workers run it at once: on PostgreSQL each row is taken with SKIP LOCKED."""
    settings = settings or notification_settings()
    with db.write() as uow:
        report = outreach.release(uow.session, clock.now(), limit, settings, skip_locked=not db.is_sqlite)
        uow.commit()
    if report.sent or report.refused:
        log.info("notifications.outreach_released", **report.model_dump())
    return report


def outreach_choices(db: Database, customer_id: int) -> list[OutreachChoice]:
    """The buyer's opt-outs per class × channel (transactional messages cannot be turned off)."""
    with db.read() as uow:
        chosen = outreach.choices(uow.session, customer_id)
    return [
        OutreachChoice(message_class=klass.value, channel=channel.value, opted_out=out)
        for (klass, channel), out in chosen.items()
    ]


def set_outreach_choice(
    db: Database, customer_id: int, message_class: str, channel: str, *, opted_out: bool, source: str
) -> None:
    """Opt a buyer out of (or back into) one class on one channel, effective for the next decision."""
    klass, chan = _class_and_channel(message_class, channel)
    with db.write() as uow:
        outreach.set_choice(uow.session, customer_id, klass, chan, opted_out, source)
        uow.commit()


def unsubscribe(db: Database, token: str) -> OutreachChoice:
    """The one-click link in a non-transactional email: opts its reader out of that class by email."""
    read = governor.read_unsubscribe_token(get_settings().secret_key, token)
    if read is None:
        raise Forbidden(
            "This unsubscribe link is broken or was not made by us. "
            "Sign in and choose under Account → Messages I receive.",
            key="error.outreach_bad_link",
        )
    customer_id, klass, channel = read
    with db.write() as uow:
        outreach.set_choice(uow.session, customer_id, klass, channel, True, "email_link")
        uow.commit()
    return OutreachChoice(message_class=klass.value, channel=channel.value, opted_out=True)


def sms_reply(db: Database, customer_id: int, text: str) -> bool:
    """An SMS reply from a buyer: exactly one of TD/T/N/R/退订/STOP opts them out of every
    non-transactional SMS at once; anything else changes nothing. True when it opted out."""
    if not governor.is_sms_opt_out(text):
        return False
    with db.write() as uow:
        for klass in governor.OPTABLE:
            outreach.set_choice(uow.session, customer_id, klass, governor.Channel.SMS, True, "sms")
        uow.commit()
    return True


def sms_reply_from(db: Database, phone: str, text: str) -> int:
    """A reply that reached the SMS gateway: opts out every customer with that number when it is
    exactly an opt-out keyword. Returns how many customers it opted out."""
    if not governor.is_sms_opt_out(text):
        return 0
    customers = orders.customer_ids_by_phone(db, phone)
    for customer_id in customers:
        sms_reply(db, customer_id, text)
    log.info("notifications.sms_opt_out", customers=len(customers))
    return len(customers)


def record_consent(
    db: Database, customer_id: int, channel: str, *, granted: bool, wording_version: str, source: str, by: str
) -> None:
    """A buyer's consent to marketing on a channel (or its withdrawal): who, when, which channel,
    which wording; kept as proof (never deleted within five months of a withdrawal)."""
    _, chan = _class_and_channel(MessageClass.MARKETING.value, channel)
    if not wording_version.strip():
        raise Invalid("Say which wording the buyer agreed to (its version).", key="error.outreach_no_wording")
    with db.write() as uow:
        outreach.add_consent(uow.session, customer_id, chan, granted, wording_version.strip(), source, by)
        uow.commit()


def agent_contacted(db: Database, customer_id: int, order_number: str, at: datetime, key: str) -> bool:
    """An agent wrote to the buyer about an order (heard from the tickets context's event): the
    governor keeps proactive and marketing messages about it quiet for two hours. Once per key."""
    with db.write() as uow:
        added = outreach.add_agent_contact(uow.session, customer_id, order_number, at, key)
        try:
            uow.commit()
        except IntegrityError:
            uow.session.rollback()
            return False
        return added


def outreach_decisions(
    db: Database,
    *,
    customer_id: int | None = None,
    merchant_id: int | None = None,
    lang: str = "zh-CN",
    limit: int = 100,
) -> list[OutreachDecisionOut]:
    """The governor's recent decisions with their reasons in the reader's language, newest first."""
    with db.read() as uow:
        rows = NotificationsRepository(uow.session).decisions(
            customer_id=customer_id, merchant_id=merchant_id, limit=limit
        )
        return [
            OutreachDecisionOut(
                decided_at=d.decided_at,
                customer_id=d.customer_id,
                message_class=d.message_class,
                action=d.action,
                reason=d.reason,
                explanation=governor.explain(d.reason, domain.normalize_language(lang)),
                subject=m.subject,
                order_number=m.order_number,
            )
            for d, m in rows
        ]


def _class_and_channel(message_class: str, channel: str) -> tuple[MessageClass, governor.Channel]:
    if message_class not in {c.value for c in governor.OPTABLE}:
        raise Invalid(
            "Only proactive service notices and marketing can be turned off; status notices always go.",
            key="error.outreach_class",
        )
    if channel not in {c.value for c in governor.Channel}:
        raise Invalid("Unknown channel: use inapp, email or sms.", key="error.outreach_channel")
    return MessageClass(message_class), governor.Channel(channel)


def marketing_channels(db: Database, customer_id: int) -> set[str]:
    """The channels the buyer's latest consent record grants marketing on."""
    with db.read() as uow:
        return {c for c, row in NotificationsRepository(uow.session).consents(customer_id).items() if row.granted}


def save_outreach_choices(
    db: Database, customer_id: int, receives: dict[tuple[str, str], bool], *, wording_version: str, by: str
) -> None:
    """The buyer's whole /account/messages form: only what changed is written (the history stays
    readable). For marketing a tick is consent to the wording shown and an untick withdraws it."""
    with db.write() as uow:
        repo = NotificationsRepository(uow.session)
        granted = {c for c, row in repo.consents(customer_id).items() if row.granted}
        for (klass, channel), receive in receives.items():
            message_class, chan = _class_and_channel(klass, channel)
            opted = repo.opt_outs(customer_id, message_class.value).get(chan.value, False)
            if opted == receive:  # opted out and now receives, or the other way round
                outreach.set_choice(uow.session, customer_id, message_class, chan, not receive, "account")
            if message_class is MessageClass.MARKETING and (chan.value in granted) != receive:
                outreach.add_consent(uow.session, customer_id, chan, receive, wording_version, "account", by)
        uow.commit()


# --- SMS -------------------------------------------------------------------------------------------
def send_due_sms(
    db: Database, gateway: SmsGateway | None = None, settings: NotificationSettings | None = None, limit: int = 50
) -> SmsReport:
    """Send queued SMS that are due through the gateway: each claimed with a lease first (several
    senders never send one twice at once), then sent, retried after 1 m, 5 m, 30 m, 2 h, 6 h, failed
    for good, or, for a proactive notice a day old, put aside as a dead letter unsent."""
    settings = settings or notification_settings()
    gateway = gateway or sms_gateway_from(settings)
    report = SmsReport()
    if gateway is None:
        return report
    now = clock.now()
    with db.write() as uow:
        claimed = []
        for sms in NotificationsRepository(uow.session).due_sms(now, limit, skip_locked=not db.is_sqlite):
            if governor.sms_is_stale(MessageClass(sms.message_class), clock.ensure_utc(sms.created_at), now):
                sms.status, sms.next_attempt_at = governor.SmsStatus.DEAD.value, None
                report.dead += 1
                log.warning("notifications.sms_dead_letter", sms_id=sms.id, attempts=sms.attempts)
                continue
            sms.next_attempt_at = now + LEASE
            claimed.append((sms.id, sms.to_phone, sms.body, sms.idempotency_key))
        uow.commit()
    for sms_id, phone, body, key in claimed:
        try:
            outcome = gateway.send(phone, body, key)
        except Exception as exc:  # a fault of this one message: retried like any failure
            outcome = SmsOutcome(ok=False, error=f"could not send: {exc!r}")
        _record_sms(db, sms_id, outcome, report)
    return report


def _record_sms(db: Database, sms_id: int, outcome: SmsOutcome, report: SmsReport) -> None:
    now = clock.now()
    with db.write() as uow:
        sms = NotificationsRepository(uow.session).sms(sms_id)
        if sms is None or sms.status != governor.SmsStatus.QUEUED.value:
            return
        sms.attempts += 1
        wait = None if outcome.ok or outcome.permanent else governor.sms_retry_after(sms.attempts)
        if outcome.ok:
            sms.status, sms.sent_at, sms.next_attempt_at = governor.SmsStatus.SENT.value, now, None
            sms.provider_id, sms.last_error = outcome.provider_id[:64], ""
            report.sent += 1
        elif wait is None:
            sms.status, sms.next_attempt_at, sms.last_error = (
                governor.SmsStatus.FAILED.value,
                None,
                outcome.error[:2000],
            )
            report.failed += 1
            log.error("notifications.sms_failed", sms_id=sms_id, attempts=sms.attempts, error=outcome.error)
        else:
            sms.next_attempt_at, sms.last_error = now + wait, outcome.error[:2000]
            report.retrying += 1
        uow.commit()
