"""Tickets, their threaded messages and attachments, tags, links, classification corrections, macros,
mentions and who is viewing."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from aftersales.db.base import Amount, Base, UTCDateTime


# Deliberately separate: each table declares its own columns, although they share a shape with other
# tables: a table is one context's fact, and the migrations compare them one by one.
class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_assignee_status", "assignee_user_id", "status"),
        Index("ix_tickets_group_status", "group_key", "status"),
        Index("ix_tickets_customer_created", "customer_id", "created_at"),
        Index("ix_tickets_merchant_status", "merchant_id", "status"),
        Index("ix_tickets_status_updated", "status", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    subject: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    ticket_type: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    requester_name: Mapped[str] = mapped_column(String(120), default="")
    requester_email: Mapped[str] = mapped_column(String(254), default="", index=True)
    requester_phone: Mapped[str] = mapped_column(String(32), default="")
    # False when the requester is an unverified contact: an email whose sender matches no customer,
    # or whose From the receiving mail server found forged. Agents see it on the ticket.
    requester_verified: Mapped[bool] = mapped_column(Boolean, default=True)
    order_number: Mapped[str] = mapped_column(String(64), default="", index=True)
    case_number: Mapped[str] = mapped_column(String(24), default="")
    merchant_id: Mapped[int | None] = mapped_column(Integer)
    conversation_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # Classification on arrival (kept as it was) and the current one (after agents' corrections).
    responsibility: Mapped[str] = mapped_column(String(16), default="")
    scenario: Mapped[str] = mapped_column(String(40), default="")
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    auto_classification: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    priority_reasons: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    intent: Mapped[str] = mapped_column(String(32), default="")
    entities: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    order_value: Mapped[Decimal | None] = mapped_column(Amount)
    vip: Mapped[bool] = mapped_column(Boolean, default=False)
    assignee_user_id: Mapped[int | None] = mapped_column(Integer)
    group_key: Mapped[str] = mapped_column(String(64), default="")
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    external_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    idempotency_fingerprint: Mapped[str | None] = mapped_column(String(64))  # what the key's request asked
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    solved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    tags: Mapped[list[TicketTag]] = relationship(
        back_populates="ticket", lazy="selectin", cascade="all, delete-orphan", order_by="TicketTag.tag"
    )

    __mapper_args__ = {"version_id_col": version}


class TicketMessage(Base):
    __tablename__ = "ticket_messages"
    __table_args__ = (Index("ix_ticket_messages_ticket", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    author_user_id: Mapped[int | None] = mapped_column(Integer)
    author_name: Mapped[str] = mapped_column(String(120), default="")
    body: Mapped[str] = mapped_column(Text)
    # Email threading: our own Message-ID for what we send, theirs for what we receive.
    email_message_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    # A received email's sender address, its To/Cc addresses, and the receiving MTA's
    # Authentication-Results ({"authserv_id", "spf", "dkim", "dmarc"}).
    email_from: Mapped[str] = mapped_column(String(254), default="")
    email_recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    email_auth: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    attachments: Mapped[list[TicketAttachment]] = relationship(
        back_populates="message", lazy="selectin", cascade="all, delete-orphan", order_by="TicketAttachment.id"
    )


class TicketAttachment(Base):
    __tablename__ = "ticket_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("ticket_messages.id", ondelete="CASCADE"), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    message: Mapped[TicketMessage] = relationship(back_populates="attachments")


class TicketTag(Base):
    __tablename__ = "ticket_tags"
    __table_args__ = (UniqueConstraint("ticket_id", "tag"), Index("ix_ticket_tags_tag", "tag"))

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    tag: Mapped[str] = mapped_column(String(80))

    ticket: Mapped[Ticket] = relationship(back_populates="tags")


class TicketLink(Base):
    """Two tickets about the same problem (kind `related`), or one merged into another (`merged`)."""

    __tablename__ = "ticket_links"
    __table_args__ = (UniqueConstraint("ticket_id", "other_ticket_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    other_ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    created_by_user_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ClassificationCorrection(Base):
    """An agent's correction of the arrival classification; the data for measuring its accuracy."""

    __tablename__ = "ticket_classification_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    predicted_responsibility: Mapped[str] = mapped_column(String(16))
    predicted_scenario: Mapped[str] = mapped_column(String(40))
    corrected_responsibility: Mapped[str] = mapped_column(String(16))
    corrected_scenario: Mapped[str] = mapped_column(String(40))
    text_sample: Mapped[str] = mapped_column(Text, default="")
    by_user_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Macro(Base):
    """A canned reply with {{variables}} and actions (status, priority, tags)."""

    __tablename__ = "ticket_macros"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    title_zh: Mapped[str] = mapped_column(String(120))
    title_en: Mapped[str] = mapped_column(String(120))
    body_zh: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str] = mapped_column(Text)
    set_status: Mapped[str] = mapped_column(String(16), default="")
    set_priority: Mapped[str] = mapped_column(String(16), default="")
    add_tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Mention(Base):
    __tablename__ = "ticket_mentions"
    __table_args__ = (Index("ix_ticket_mentions_user_seen", "user_id", "seen"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    message_id: Mapped[int] = mapped_column(ForeignKey("ticket_messages.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(Integer)
    seen: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TicketViewer(Base):
    """Who has the ticket open (refreshed by the page); shown as "also viewing" to the others."""

    __tablename__ = "ticket_viewers"
    __table_args__ = (UniqueConstraint("ticket_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(Integer)
    display_name: Mapped[str] = mapped_column(String(120))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
