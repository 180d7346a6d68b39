"""One satisfaction survey per ticket or case: when it leaves, when it lapses, and the answer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from aftersales.db.base import Base, UTCDateTime


class Survey(Base):
    """`next_check_at` is the one time the sweep looks at (indexed, like the SLA clocks'): the send
    time while scheduled, the expiry while sent, none once answered or expired."""

    __tablename__ = "surveys"
    __table_args__ = (
        UniqueConstraint("subject_type", "subject_ref"),
        Index("ix_surveys_next_check_at", "next_check_at"),
        Index("ix_surveys_sent_at", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(16))  # ticket | case
    subject_ref: Mapped[str] = mapped_column(String(24))  # its number
    subject_id: Mapped[int] = mapped_column(Integer)  # its row id, for the audit timeline
    status: Mapped[str] = mapped_column(String(16))
    customer_id: Mapped[int] = mapped_column(Integer, index=True)
    channel: Mapped[str] = mapped_column(String(16))
    merchant_id: Mapped[int | None] = mapped_column(Integer)
    order_number: Mapped[str] = mapped_column(String(64), default="")
    agent_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # everyone who replied in public
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result: Mapped[int | None] = mapped_column(SmallInteger)
    speed: Mapped[int | None] = mapped_column(SmallInteger)
    attitude: Mapped[int | None] = mapped_column(SmallInteger)
    reason_tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
