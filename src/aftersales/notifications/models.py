"""The customer's in-app inbox and outgoing email."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from aftersales.db.base import Base, UTCDateTime


class _Message:
    """What an inbox message holds, for customers and for staff alike (two tables: customers are
    not users)."""

    topic: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(String(200), default="")
    # One message per event (and person), however often the event is delivered.
    idempotency_key: Mapped[str] = mapped_column(String(160), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class InboxMessage(_Message, Base):
    __tablename__ = "inbox_messages"
    __table_args__ = (Index("ix_inbox_customer_created", "customer_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))


# Deliberately separate: each table declares its own columns, although they share a shape with other
# tables: a table is one context's fact, and the migrations compare them one by one.
class EmailMessage(Base):
    __tablename__ = "email_messages"
    __table_args__ = (Index("ix_email_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(200))
    body_text: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(160), unique=True)
    status: Mapped[str] = mapped_column(String(16))  # queued, sent, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StaffInboxMessage(_Message, Base):
    """A message for a member of staff (a supervisor's breach alert), shown in their inbox."""

    __tablename__ = "staff_inbox_messages"
    __table_args__ = (Index("ix_staff_inbox_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))


# --- the outreach governor -------------------------------------------------------------------------
class OutreachMessage(Base):
    """A governed (service-proactive or marketing) message: asked for once per key (the incident),
    then sent, deferred to the next window, held for a digest, merged into one, or refused. The
    composed words are kept so a deferred message is sent as it was written."""

    __tablename__ = "outreach_messages"
    __table_args__ = (
        # The caps: how many of a class a buyer got since a moment (index-only counts).
        Index("ix_outreach_customer_class_sent", "customer_id", "message_class", "sent_at"),
        # The worker: what is waiting and due.
        Index("ix_outreach_status_send_after", "status", "send_after"),
        Index("ix_outreach_customer_status", "customer_id", "message_class", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    message_class: Mapped[str] = mapped_column(String(24))
    idempotency_key: Mapped[str] = mapped_column(String(160), unique=True)
    topic: Mapped[str] = mapped_column(String(64))
    order_number: Mapped[str] = mapped_column(String(64), default="")
    merchant_id: Mapped[int | None] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16))  # sent, deferred, digest, merged, refused
    reason: Mapped[str] = mapped_column(String(32), default="")
    channels: Mapped[str] = mapped_column(String(64), default="")  # comma-separated, as sent
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    send_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    inbox_id: Mapped[int | None] = mapped_column(Integer)
    email_id: Mapped[int | None] = mapped_column(Integer)


class OutreachDecision(Base):
    """Every refusal and deferral (and each send) of a governed message, with its reason:
    append-only, so a merchant can be told why their outreach did not go."""

    __tablename__ = "outreach_decisions"
    __table_args__ = (
        Index("ix_outreach_decisions_customer_at", "customer_id", "decided_at"),
        Index("ix_outreach_decisions_merchant_at", "merchant_id", "decided_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("outreach_messages.id"))
    customer_id: Mapped[int] = mapped_column(Integer)
    merchant_id: Mapped[int | None] = mapped_column(Integer)
    message_class: Mapped[str] = mapped_column(String(24))
    action: Mapped[str] = mapped_column(String(16))  # send, defer, digest, refuse
    reason: Mapped[str] = mapped_column(String(32), default="")
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OutreachOptOut(Base):
    """A buyer's choice per class × channel; the latest row for a pair wins (append-only history)."""

    __tablename__ = "outreach_opt_outs"
    __table_args__ = (Index("ix_outreach_opt_outs_customer", "customer_id", "message_class", "channel", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    message_class: Mapped[str] = mapped_column(String(24))
    channel: Mapped[str] = mapped_column(String(8))
    opted_out: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(16))  # account, email_link, sms
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class MarketingConsent(Base):
    """Proof of consent to marketing: who, when, on which channel, to which wording (its version),
    and who recorded it; a withdrawal is a new row. Rows are never deleted within five months of
    a withdrawal (governor.CONSENT_RETENTION)."""

    __tablename__ = "marketing_consents"
    __table_args__ = (Index("ix_marketing_consents_customer", "customer_id", "channel", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    channel: Mapped[str] = mapped_column(String(8))
    granted: Mapped[bool] = mapped_column(Boolean)
    wording_version: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(32))  # where it was given: checkout, account, …
    recorded_by: Mapped[str] = mapped_column(String(120))  # the customer themself, or a user
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class AgentContact(Base):
    """An agent wrote to the buyer (a public ticket reply), heard from the tickets context's event:
    service-proactive and marketing messages about that order keep quiet for two hours after."""

    __tablename__ = "outreach_agent_contacts"
    __table_args__ = (Index("ix_outreach_agent_contacts_order", "customer_id", "order_number", "contacted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(Integer)
    order_number: Mapped[str] = mapped_column(String(64), default="")
    contacted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    idempotency_key: Mapped[str] = mapped_column(String(160), unique=True)


class SmsMessage(Base):
    """An outgoing SMS of a governed message: retried 1 m, 5 m, 30 m, 2 h, 6 h; a proactive one
    still unsent after 24 h becomes a dead letter (status dead)."""

    __tablename__ = "sms_messages"
    __table_args__ = (Index("ix_sms_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(Integer)
    to_phone: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    message_class: Mapped[str] = mapped_column(String(24))
    idempotency_key: Mapped[str] = mapped_column(String(160), unique=True)
    status: Mapped[str] = mapped_column(String(16))  # governor.SmsStatus
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    provider_id: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
