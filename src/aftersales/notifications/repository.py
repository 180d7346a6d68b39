"""Every query of the notifications context."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, or_, select

from aftersales.db.repository import Repository
from aftersales.notifications.domain import EmailStatus
from aftersales.notifications.models import EmailMessage, InboxMessage, StaffInboxMessage


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
