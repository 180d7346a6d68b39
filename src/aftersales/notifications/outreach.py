"""The outreach governor at work: gathers its facts with index-backed queries, applies the pure
rules (notifications.governor), writes what goes and records every refusal and deferral with its
reason. Called by notifications.service (notify, the worker's release, the buyer's choices)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from aftersales.config import get_settings
from aftersales.kit import clock
from aftersales.kit.vocabulary import MessageClass
from aftersales.notifications import domain, governor
from aftersales.notifications.domain import EmailStatus, Notice
from aftersales.notifications.governor import Action, Channel, Decision, Facts, OutreachStatus, Reason
from aftersales.notifications.models import (
    AgentContact,
    EmailMessage,
    InboxMessage,
    MarketingConsent,
    OutreachDecision,
    OutreachMessage,
    OutreachOptOut,
    SmsMessage,
)
from aftersales.notifications.repository import NotificationsRepository
from aftersales.notifications.schemas import NotifyResult, ReleaseReport
from aftersales.notifications.settings import NotificationSettings
from aftersales.orders import service as orders
from aftersales.orders.schemas import CustomerContact


# --- writing what goes ---------------------------------------------------------------------------
def write_notice(
    session: Session,
    contact: CustomerContact,
    topic: str,
    notice: Notice,
    stored_key: str,
    now: datetime,
    settings: NotificationSettings,
    *,
    inbox: bool = True,
    email: bool = True,
    footer: str = "",
    sms: MessageClass | None = None,
) -> tuple[InboxMessage | None, EmailMessage | None]:
    """The inbox message and the queued email for one notice, added to the caller's transaction."""
    message: InboxMessage | None = None
    if inbox:
        message = InboxMessage(
            customer_id=contact.customer_id,
            topic=topic[:64],
            subject=notice.subject[:200],
            body=notice.body,
            link=notice.link[:200],
            idempotency_key=stored_key,
            created_at=now,
            read_at=None,
        )
        session.add(message)
    mail: EmailMessage | None = None
    address = contact.email.strip()
    if email and domain.looks_like_email(address) and contact.email_notices:  # unless turned off on /account
        text = domain.email_text(notice, contact.locale, contact.name, settings.public_url)
        mail = EmailMessage(
            to_address=address[:200],
            subject=notice.subject[:200],
            body_text=text + (f"\n{footer}\n" if footer else ""),
            message_id=domain.message_id(stored_key, settings.smtp_from),
            idempotency_key=stored_key,
            status=EmailStatus.QUEUED.value,
            attempts=0,
            last_error="",
            created_at=now,
            next_attempt_at=now,
            sent_at=None,
        )
        session.add(mail)
    phone = contact.phone.strip()
    if sms is not None and phone:
        lang = domain.normalize_language(contact.locale)
        session.add(
            SmsMessage(
                customer_id=contact.customer_id,
                to_phone=phone[:32],
                body=governor.sms_text(notice.subject, notice.body, lang, opt_out=governor.can_opt_out(sms)),
                message_class=sms.value,
                idempotency_key=stored_key,
                status=governor.SmsStatus.QUEUED.value,
                attempts=0,
                last_error="",
                provider_id="",
                created_at=now,
                next_attempt_at=now,
                sent_at=None,
            )
        )
    session.flush()
    return message, mail


def channels_of(contact: CustomerContact, settings: NotificationSettings | None = None) -> frozenset[Channel]:
    """The channels that can reach this buyer today: the inbox always, email with an address the
    buyer keeps on (/account), SMS with a phone number when an SMS gateway is configured."""
    channels = {Channel.INAPP}
    if domain.looks_like_email(contact.email.strip()) and contact.email_notices:
        channels.add(Channel.EMAIL)
    if settings is not None and settings.sms_provider != "none" and contact.phone.strip():
        channels.add(Channel.SMS)
    return frozenset(channels)


def unsubscribe_footer(contact: CustomerContact, message_class: MessageClass, settings: NotificationSettings) -> str:
    token = governor.unsubscribe_token(get_settings().secret_key, contact.customer_id, message_class, Channel.EMAIL)
    url = f"{settings.public_url.rstrip('/')}/outreach/unsubscribe/{token}"
    return governor.UNSUBSCRIBE_LINE[domain.normalize_language(contact.locale)].format(url=url)


CHANNEL_VALUES = frozenset(c.value for c in Channel)


# --- the facts -----------------------------------------------------------------------------------
def gather(
    session: Session,
    customer_id: int,
    message_class: MessageClass,
    order_number: str,
    now: datetime,
    *,
    created_at: datetime | None = None,
    zone: str = governor.DEFAULT_ZONE,
) -> Facts:
    """Every fact a decision reads: a handful of index lookups, none of them growing with history."""
    order = None
    if order_number:
        closure = orders.order_closure_in(session, order_number)
        if closure is not None and closure.customer_id == customer_id:
            order = governor.OrderWindow(status=closure.status, closed_at=closure.closed_at)
    period = max(governor.longest_cap_period(message_class), governor.DIGEST_WINDOW)
    found = NotificationsRepository(session).governor_rows(
        customer_id, message_class.value, order_number, now - period, consent=message_class is MessageClass.MARKETING
    )
    sent = found.sent_times
    return Facts(
        now=now,
        zone=zone,
        order=order,
        opted_out=frozenset(Channel(c) for c, out in found.opted_out.items() if out and c in CHANNEL_VALUES),
        consented=frozenset(Channel(c) for c in found.granted if c in CHANNEL_VALUES),
        sent_day=sum(1 for at in sent if at > now - governor.DAY),
        sent_week=sum(1 for at in sent if at > now - governor.WEEK),
        sent_month=sum(1 for at in sent if at > now - governor.MONTH),
        last_sent_at=sent[0] if sent else None,
        pending_digest_at=found.pending_digest_at,
        agent_contact_at=found.agent_contact_at,
        created_at=created_at,
    )


def record(session: Session, row: OutreachMessage, decision: Decision, now: datetime) -> None:
    session.add(
        OutreachDecision(
            message_id=row.id,
            customer_id=row.customer_id,
            merchant_id=row.merchant_id,
            message_class=row.message_class,
            action=decision.action.value,
            reason=decision.reason.value,
            decided_at=now,
        )
    )


# --- one governed message ------------------------------------------------------------------------
def govern(
    session: Session,
    contact: CustomerContact,
    topic: str,
    params: dict[str, Any],
    stored_key: str,
    notice: Notice,
    message_class: MessageClass,
    settings: NotificationSettings,
) -> NotifyResult:
    """Decide a new service-proactive or marketing message and write what the decision says, in the
    caller's transaction (the caller commits, and on a duplicate key answers with the first)."""
    now = clock.now()
    order_number = str(params.get("order_number") or params.get("order") or "")[:64]
    facts = gather(session, contact.customer_id, message_class, order_number, now)
    decision = governor.decide(message_class, facts, channels=channels_of(contact, settings))
    merchant = params.get("merchant_id")
    row = OutreachMessage(
        customer_id=contact.customer_id,
        message_class=message_class.value,
        idempotency_key=stored_key,
        topic=topic[:64],
        order_number=order_number,
        merchant_id=int(str(merchant)) if str(merchant or "").isdigit() else None,
        subject=notice.subject[:200],
        body=notice.body,
        link=notice.link[:200],
        status=_status_of(decision),
        reason=decision.reason.value,
        channels=",".join(sorted(decision.channels)),
        created_at=now,
        send_after=decision.send_at,
        sent_at=None,
    )
    session.add(row)
    session.flush()
    record(session, row, decision, now)
    inbox_id = email_id = None
    if decision.action is Action.SEND:
        inbox, mail = _send(session, row, contact, notice, decision.channels, message_class, settings, now)
        inbox_id, email_id = (inbox.id if inbox else None), (mail.id if mail else None)
    return NotifyResult(
        inbox_id=inbox_id, email_id=email_id, created=True, outcome=decision.action.value, reason=decision.reason.value
    )


def _status_of(decision: Decision) -> str:
    return {
        Action.SEND: OutreachStatus.SENT,
        Action.DEFER: OutreachStatus.DEFERRED,
        Action.DIGEST: OutreachStatus.DIGEST,
        Action.REFUSE: OutreachStatus.REFUSED,
    }[decision.action].value


def _send(
    session: Session,
    row: OutreachMessage,
    contact: CustomerContact,
    notice: Notice,
    channels: frozenset[Channel],
    message_class: MessageClass,
    settings: NotificationSettings,
    now: datetime,
    *,
    key: str | None = None,
) -> tuple[InboxMessage | None, EmailMessage | None]:
    inbox, mail = write_notice(
        session,
        contact,
        row.topic,
        notice,
        key or row.idempotency_key,
        now,
        settings,
        inbox=Channel.INAPP in channels,
        email=Channel.EMAIL in channels,
        footer=unsubscribe_footer(contact, message_class, settings),
        sms=message_class if Channel.SMS in channels else None,
    )
    row.status = OutreachStatus.SENT.value
    row.sent_at = now
    row.send_after = None
    row.channels = ",".join(sorted(channels))
    row.inbox_id = inbox.id if inbox else None
    row.email_id = mail.id if mail else None
    return inbox, mail


def existing(session: Session, stored_key: str) -> NotifyResult | None:
    row = NotificationsRepository(session).outreach_by_key(stored_key)
    if row is None:
        return None
    outcome = {
        OutreachStatus.SENT.value: Action.SEND,
        OutreachStatus.MERGED.value: Action.SEND,
        OutreachStatus.DEFERRED.value: Action.DEFER,
        OutreachStatus.DIGEST.value: Action.DIGEST,
    }.get(row.status, Action.REFUSE)
    return NotifyResult(
        inbox_id=row.inbox_id, email_id=row.email_id, created=False, outcome=outcome.value, reason=row.reason
    )


# --- the worker: deferred and digest-held messages whose time has come -----------------------------
def release(
    session: Session, now: datetime, limit: int, settings: NotificationSettings, *, skip_locked: bool
) -> ReleaseReport:
    """Take up the waiting messages that are due: each is decided again (the buyer may have opted
    out, an agent may have called, the notice may be stale), and what still goes to one buyer goes
    as one message: itself when alone, a digest when several."""
    report = ReleaseReport()
    repo = NotificationsRepository(session)
    groups: dict[tuple[int, str], list[OutreachMessage]] = defaultdict(list)
    for row in repo.due_outreach(now, limit, skip_locked=skip_locked):
        groups[(row.customer_id, row.message_class)].append(row)
    for (customer_id, klass), rows in groups.items():
        contact = orders.customer_contact_in(session, customer_id)
        message_class = MessageClass(klass)
        if contact is None:
            for row in rows:
                _refuse(session, row, Decision(Action.REFUSE, Reason.NO_ORDER), now, report)
            continue
        going: list[tuple[OutreachMessage, Decision]] = []
        for row in rows:
            facts = gather(session, customer_id, message_class, row.order_number, now, created_at=row.created_at)
            decision = governor.decide(message_class, facts, channels=channels_of(contact, settings), digest_ok=False)
            if decision.action is Action.REFUSE:
                _refuse(session, row, decision, now, report)
            elif decision.action is Action.DEFER:
                row.status, row.reason, row.send_after = (
                    OutreachStatus.DEFERRED.value,
                    decision.reason.value,
                    decision.send_at,
                )
                record(session, row, decision, now)
                report.deferred += 1
            else:
                going.append((row, decision))
        if going:
            _send_together(session, contact, message_class, going, settings, now, report)
    return report


def _refuse(session: Session, row: OutreachMessage, decision: Decision, now: datetime, report: ReleaseReport) -> None:
    row.status, row.reason, row.send_after = OutreachStatus.REFUSED.value, decision.reason.value, None
    record(session, row, decision, now)
    report.refused += 1


def _send_together(
    session: Session,
    contact: CustomerContact,
    message_class: MessageClass,
    going: list[tuple[OutreachMessage, Decision]],
    settings: NotificationSettings,
    now: datetime,
    report: ReleaseReport,
) -> None:
    channels = frozenset.intersection(*(d.channels for _, d in going))
    carrier = going[0][0]
    if len(going) == 1:
        notice = Notice(template=carrier.topic, subject=carrier.subject, body=carrier.body, link=carrier.link)
        key = carrier.idempotency_key
    else:
        lang = domain.normalize_language(contact.locale)
        subject, body = governor.digest_text([(row.subject, row.body) for row, _ in going], lang)
        notice = Notice(template="outreach.digest", subject=subject, body=body, link="/inbox")
        key = domain.storage_key(f"digest:{carrier.idempotency_key}")
    _send(session, carrier, contact, notice, channels, message_class, settings, now, key=key)
    record(session, carrier, Decision(Action.SEND, channels=channels), now)
    report.sent += 1
    for row, _ in going[1:]:
        row.status, row.send_after, row.reason = OutreachStatus.MERGED.value, None, Reason.DIGEST.value
        row.inbox_id, row.email_id = carrier.inbox_id, carrier.email_id
        record(session, row, Decision(Action.SEND, Reason.DIGEST, channels), now)
        report.merged += 1


# --- the buyer's choices and an agent's contact --------------------------------------------------
def choices(session: Session, customer_id: int) -> dict[tuple[MessageClass, Channel], bool]:
    repo = NotificationsRepository(session)
    result: dict[tuple[MessageClass, Channel], bool] = {}
    for klass in governor.OPTABLE:
        chosen = repo.opt_outs(customer_id, klass.value)
        for channel in Channel:
            result[(klass, channel)] = bool(chosen.get(channel.value, False))
    return result


def set_choice(
    session: Session, customer_id: int, message_class: MessageClass, channel: Channel, opted_out: bool, source: str
) -> None:
    session.add(
        OutreachOptOut(
            customer_id=customer_id,
            message_class=message_class.value,
            channel=channel.value,
            opted_out=opted_out,
            source=source[:16],
            at=clock.now(),
        )
    )


def add_consent(
    session: Session, customer_id: int, channel: Channel, granted: bool, wording_version: str, source: str, by: str
) -> MarketingConsent:
    row = MarketingConsent(
        customer_id=customer_id,
        channel=channel.value,
        granted=granted,
        wording_version=wording_version[:64],
        source=source[:32],
        recorded_by=by[:120],
        at=clock.now(),
    )
    session.add(row)
    return row


def add_agent_contact(session: Session, customer_id: int, order_number: str, at: datetime, key: str) -> bool:
    repo = NotificationsRepository(session)
    if repo.agent_contact_by_key(key) is not None:
        return False
    session.add(
        AgentContact(customer_id=customer_id, order_number=order_number[:64], contacted_at=at, idempotency_key=key)
    )
    return True
