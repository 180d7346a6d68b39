"""Every query of the notifications context."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Integer, String, bindparam, cast, func, literal, or_, select, true, union_all

from aftersales.db.repository import Repository
from aftersales.kit import clock
from aftersales.notifications.domain import EmailStatus
from aftersales.notifications.governor import OutreachStatus, SmsStatus
from aftersales.notifications.models import (
    AgentContact,
    EmailMessage,
    InboxMessage,
    MarketingConsent,
    OutreachDecision,
    OutreachMessage,
    OutreachOptOut,
    SmsMessage,
    StaffInboxMessage,
)

# The governor's reads, built once: a decision is on the path of every governed message, so its
# statements skip the cost of being built again and run on the connection (Core), each on an index.
_T = OutreachMessage.__table__.c
_OPT = OutreachOptOut.__table__.c
_CONSENT = MarketingConsent.__table__.c
_AGENT = AgentContact.__table__.c
_WHO = (_T.customer_id == bindparam("c"), _T.message_class == bindparam("k"))


def _row(kind: str, channel: Any, flag: Any, at: Any, order: Any) -> tuple[Any, ...]:
    return (
        literal(kind, String(8)).label("kind"),
        cast(channel, String(8)).label("channel"),
        cast(flag, Boolean).label("flag"),
        at.label("at"),
        cast(order, Integer).label("ord"),
    )


# One round trip for every fact this context keeps (each part on its own index).
_GOVERNOR_FACTS = union_all(
    select(*_row("sent", literal(""), true(), _T.sent_at, _T.id)).where(*_WHO, _T.sent_at >= bindparam("since")),
    select(*_row("digest", literal(""), true(), func.min(_T.send_after), literal(0))).where(
        *_WHO, _T.status == OutreachStatus.DIGEST.value
    ),
    select(*_row("opt", _OPT.channel, _OPT.opted_out, _OPT.at, _OPT.id)).where(
        _OPT.customer_id == bindparam("c"), _OPT.message_class == bindparam("k")
    ),
    select(*_row("consent", _CONSENT.channel, _CONSENT.granted, _CONSENT.at, _CONSENT.id)).where(
        _CONSENT.customer_id == bindparam("c"), bindparam("consent", type_=Boolean) == true()
    ),
    select(*_row("agent", literal(""), true(), func.max(_AGENT.contacted_at), literal(0))).where(
        _AGENT.customer_id == bindparam("c"), _AGENT.order_number == bindparam("o")
    ),
)


@dataclass(frozen=True, slots=True)
class GovernorRows:
    """What the governor reads of a buyer, straight from the rows."""

    opted_out: dict[str, bool]
    granted: set[str]
    sent_times: list[datetime]  # newest first
    pending_digest_at: datetime | None
    agent_contact_at: datetime | None


class NotificationsRepository(Repository):
    def governor_rows(
        self, customer_id: int, message_class: str, order_number: str, since: datetime, *, consent: bool
    ) -> GovernorRows:
        """Every fact of a decision that this context keeps, in one round trip of indexed reads."""
        params = {"c": customer_id, "k": message_class, "since": since, "o": order_number, "consent": consent}
        sent: list[datetime] = []
        digest = agent = None
        opted: list[tuple[int, str, bool]] = []
        consents: list[tuple[int, str, bool]] = []
        for kind, channel, flag, at, order in self.session.connection().execute(_GOVERNOR_FACTS, params):
            if kind == "sent" and at is not None:
                sent.append(clock.ensure_utc(at))
            elif kind == "digest":
                digest = at
            elif kind == "agent" and order_number:
                agent = at
            elif kind == "opt":
                opted.append((order, channel, bool(flag)))
            elif kind == "consent":
                consents.append((order, channel, bool(flag)))
        sent.sort(reverse=True)
        latest = {channel: ok for _, channel, ok in sorted(consents)}
        return GovernorRows(
            opted_out={channel: out for _, channel, out in sorted(opted)},
            granted={channel for channel, ok in latest.items() if ok},
            sent_times=sent,
            pending_digest_at=clock.ensure_utc(digest) if digest else None,
            agent_contact_at=clock.ensure_utc(agent) if agent else None,
        )

    # --- inbox -----------------------------------------------------------------------------------
    def inbox_by_key(self, key: str) -> InboxMessage | None:
        return self.session.scalars(select(InboxMessage).where(InboxMessage.idempotency_key == key)).first()

    # The staff inbox's queries below are the same on purpose: two tables with their own owner columns.
    def inbox_page(self, customer_id: int, offset: int, limit: int) -> Sequence[InboxMessage]:
        stmt = (
            select(InboxMessage)
            .where(InboxMessage.customer_id == customer_id)
            .order_by(InboxMessage.created_at.desc(), InboxMessage.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return self.session.scalars(stmt).all()

    def inbox_total(self, customer_id: int) -> int:
        stmt = select(func.count(InboxMessage.id)).where(InboxMessage.customer_id == customer_id)
        return self.session.scalar(stmt) or 0

    def settle_before(self, before: datetime) -> int:
        """Inbox messages older than `before` become read then, and their queued emails sent then."""
        unread = self.session.scalars(
            select(InboxMessage).where(InboxMessage.read_at.is_(None), InboxMessage.created_at < before)
        ).all()
        for message in unread:
            message.read_at = message.created_at
        queued = self.session.scalars(
            select(EmailMessage).where(
                EmailMessage.status == EmailStatus.QUEUED.value, EmailMessage.created_at < before
            )
        ).all()
        for email in queued:
            email.status, email.sent_at, email.next_attempt_at = EmailStatus.SENT.value, email.created_at, None
        return len(unread)

    def unread_count(self, customer_id: int) -> int:
        stmt = select(func.count(InboxMessage.id)).where(
            InboxMessage.customer_id == customer_id, InboxMessage.read_at.is_(None)
        )
        return self.session.scalar(stmt) or 0

    def customer_message(self, customer_id: int, message_id: int) -> InboxMessage | None:
        """A message only when it belongs to this customer: others' messages do not exist for them."""
        stmt = select(InboxMessage).where(InboxMessage.id == message_id, InboxMessage.customer_id == customer_id)
        return self.session.scalars(stmt).first()

    # --- the staff inbox -------------------------------------------------------------------------
    def staff_keys(self, keys: Sequence[str]) -> set[str]:
        stmt = select(StaffInboxMessage.idempotency_key).where(StaffInboxMessage.idempotency_key.in_(list(keys)))
        return set(self.session.scalars(stmt))

    # Same queries as the customer inbox's above on purpose: two tables with their own owner columns.
    def staff_page(self, user_id: int, offset: int, limit: int) -> Sequence[StaffInboxMessage]:
        stmt = (
            select(StaffInboxMessage)
            .where(StaffInboxMessage.user_id == user_id)
            .order_by(StaffInboxMessage.created_at.desc(), StaffInboxMessage.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return self.session.scalars(stmt).all()

    def staff_total(self, user_id: int) -> int:
        stmt = select(func.count(StaffInboxMessage.id)).where(StaffInboxMessage.user_id == user_id)
        return self.session.scalar(stmt) or 0

    def staff_unread(self, user_id: int) -> int:
        stmt = select(func.count(StaffInboxMessage.id)).where(
            StaffInboxMessage.user_id == user_id, StaffInboxMessage.read_at.is_(None)
        )
        return self.session.scalar(stmt) or 0

    def staff_message(self, user_id: int, message_id: int) -> StaffInboxMessage | None:
        """A message only when it is this person's: others' messages do not exist for them."""
        stmt = select(StaffInboxMessage).where(StaffInboxMessage.id == message_id, StaffInboxMessage.user_id == user_id)
        return self.session.scalars(stmt).first()

    # --- email -----------------------------------------------------------------------------------
    def email_by_key(self, key: str) -> EmailMessage | None:
        return self.session.scalars(select(EmailMessage).where(EmailMessage.idempotency_key == key)).first()

    def due_emails(
        self, now: datetime, limit: int, ids: Sequence[int] | None = None, *, skip_locked: bool = False
    ) -> Sequence[EmailMessage]:
        stmt = select(EmailMessage).where(
            EmailMessage.status == EmailStatus.QUEUED.value,
            or_(EmailMessage.next_attempt_at.is_(None), EmailMessage.next_attempt_at <= now),
        )
        if ids is not None:
            stmt = stmt.where(EmailMessage.id.in_(list(ids)))
        stmt = stmt.order_by(EmailMessage.id).limit(limit)
        if skip_locked:
            stmt = stmt.with_for_update(skip_locked=True)
        return self.session.scalars(stmt).all()

    def email(self, email_id: int) -> EmailMessage | None:
        return self.session.get(EmailMessage, email_id)

    # --- the outreach governor -----------------------------------------------------------------
    def outreach_by_key(self, key: str) -> OutreachMessage | None:
        return self.session.scalars(select(OutreachMessage).where(OutreachMessage.idempotency_key == key)).first()

    def opt_outs(self, customer_id: int, message_class: str) -> dict[str, bool]:
        """The latest choice per channel for a class (absent: never chosen, so not opted out)."""
        stmt = (
            select(OutreachOptOut.channel, OutreachOptOut.opted_out)
            .where(OutreachOptOut.customer_id == customer_id, OutreachOptOut.message_class == message_class)
            .order_by(OutreachOptOut.id)
        )
        return {channel: opted for channel, opted in self.session.execute(stmt)}

    def consents(self, customer_id: int) -> dict[str, MarketingConsent]:
        """The latest consent record per channel."""
        stmt = select(MarketingConsent).where(MarketingConsent.customer_id == customer_id).order_by(MarketingConsent.id)
        return {row.channel: row for row in self.session.scalars(stmt)}

    def consent_history(self, customer_id: int) -> Sequence[MarketingConsent]:
        stmt = select(MarketingConsent).where(MarketingConsent.customer_id == customer_id).order_by(MarketingConsent.id)
        return self.session.scalars(stmt).all()

    def agent_contact_by_key(self, key: str) -> AgentContact | None:
        return self.session.scalars(select(AgentContact).where(AgentContact.idempotency_key == key)).first()

    def due_outreach(self, now: datetime, limit: int, *, skip_locked: bool = False) -> Sequence[OutreachMessage]:
        """Deferred and digest-held messages whose time has come, oldest first (ix_outreach_status_send_after)."""
        stmt = (
            select(OutreachMessage)
            .where(
                OutreachMessage.status.in_([OutreachStatus.DEFERRED.value, OutreachStatus.DIGEST.value]),
                OutreachMessage.send_after <= now,
            )
            .order_by(OutreachMessage.send_after, OutreachMessage.id)
            .limit(limit)
        )
        if skip_locked:
            stmt = stmt.with_for_update(skip_locked=True)
        return self.session.scalars(stmt).all()

    def waiting_of(self, customer_id: int, message_class: str) -> Sequence[OutreachMessage]:
        """A buyer's messages of a class still waiting (deferred or held for a digest)."""
        stmt = (
            select(OutreachMessage)
            .where(
                OutreachMessage.customer_id == customer_id,
                OutreachMessage.message_class == message_class,
                OutreachMessage.status.in_([OutreachStatus.DEFERRED.value, OutreachStatus.DIGEST.value]),
            )
            .order_by(OutreachMessage.id)
        )
        return self.session.scalars(stmt).all()

    def decisions(
        self, *, customer_id: int | None = None, merchant_id: int | None = None, limit: int = 100
    ) -> Sequence[tuple[OutreachDecision, OutreachMessage]]:
        """The governor's recent decisions, newest first, for a buyer or a merchant."""
        stmt = select(OutreachDecision, OutreachMessage).join(
            OutreachMessage, OutreachMessage.id == OutreachDecision.message_id
        )
        if customer_id is not None:
            stmt = stmt.where(OutreachDecision.customer_id == customer_id)
        if merchant_id is not None:
            stmt = stmt.where(OutreachDecision.merchant_id == merchant_id)
        stmt = stmt.order_by(OutreachDecision.decided_at.desc(), OutreachDecision.id.desc()).limit(limit)
        return [(d, m) for d, m in self.session.execute(stmt).tuples()]

    # --- SMS -------------------------------------------------------------------------------------
    def due_sms(self, now: datetime, limit: int, *, skip_locked: bool = False) -> Sequence[SmsMessage]:
        stmt = (
            select(SmsMessage)
            .where(SmsMessage.status == SmsStatus.QUEUED.value, SmsMessage.next_attempt_at <= now)
            .order_by(SmsMessage.next_attempt_at, SmsMessage.id)
            .limit(limit)
        )
        if skip_locked:
            stmt = stmt.with_for_update(skip_locked=True)
        return self.session.scalars(stmt).all()

    def sms(self, sms_id: int) -> SmsMessage | None:
        return self.session.get(SmsMessage, sms_id)
