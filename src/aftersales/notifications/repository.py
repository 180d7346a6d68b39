"""Every query of the notifications context."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, or_, select

from aftersales.db.repository import Repository
from aftersales.kit import clock
from aftersales.notifications.domain import EmailStatus
from aftersales.notifications.governor import OutreachStatus
from aftersales.notifications.models import (
    AgentContact,
    EmailMessage,
    InboxMessage,
    MarketingConsent,
    OutreachDecision,
    OutreachMessage,
    OutreachOptOut,
    StaffInboxMessage,
)


class NotificationsRepository(Repository):
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

    def sent_since(self, customer_id: int, message_class: str, since: datetime) -> int:
        """How many messages of a class the buyer got since `since` (ix_outreach_customer_class_sent)."""
        stmt = select(func.count()).where(
            OutreachMessage.customer_id == customer_id,
            OutreachMessage.message_class == message_class,
            OutreachMessage.sent_at >= since,
        )
        return int(self.session.scalar(stmt) or 0)

    def sent_times(self, customer_id: int, message_class: str, since: datetime) -> list[datetime]:
        """When the buyer got each message of a class since `since`, newest first: one index range
        read serves every cap and the digest window at once."""
        stmt = (
            select(OutreachMessage.sent_at)
            .where(
                OutreachMessage.customer_id == customer_id,
                OutreachMessage.message_class == message_class,
                OutreachMessage.sent_at >= since,
            )
            .order_by(OutreachMessage.sent_at.desc())
        )
        return [clock.ensure_utc(at) for at in self.session.scalars(stmt) if at is not None]

    def pending_digest_at(self, customer_id: int, message_class: str) -> datetime | None:
        stmt = select(func.min(OutreachMessage.send_after)).where(
            OutreachMessage.customer_id == customer_id,
            OutreachMessage.message_class == message_class,
            OutreachMessage.status == OutreachStatus.DIGEST.value,
        )
        at = self.session.scalar(stmt)
        return clock.ensure_utc(at) if at is not None else None

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

    def last_agent_contact(self, customer_id: int, order_number: str) -> datetime | None:
        stmt = select(func.max(AgentContact.contacted_at)).where(
            AgentContact.customer_id == customer_id, AgentContact.order_number == order_number
        )
        at = self.session.scalar(stmt)
        return clock.ensure_utc(at) if at is not None else None

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
