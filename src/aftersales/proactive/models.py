"""Proactive tables: a watch per open order (when to look at it again, indexed), the intake
cursors, and the incidents found.

The scan reads only watches whose `next_check_at` has come (a partial index covers the rows that
have one), so its cost follows what is due, not the number of open orders.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from aftersales.db.base import Base, UTCDateTime


class Watch(Base):
    __tablename__ = "proactive_watches"
    __table_args__ = (
        Index(
            "ix_proactive_watches_due",
            "next_check_at",
            postgresql_where=text("next_check_at IS NOT NULL"),
            sqlite_where=text("next_check_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the latest change of the order reached the intake (an out-of-stock report's time).
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failures: Mapped[int] = mapped_column(Integer, default=0)


class Cursor(Base):
    """How far the intake has read a stream of changes (by the stream's own ids)."""

    __tablename__ = "proactive_cursors"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Incident(Base):
    __tablename__ = "proactive_incidents"
    __table_args__ = (
        Index("ix_proactive_incidents_order", "order_id", "state"),
        Index("ix_proactive_incidents_state", "state", "detected_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    order_number: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[int] = mapped_column(Integer)
    shipment_id: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    # The dedupe key: the same trouble seen again is the same incident.
    episode: Mapped[str] = mapped_column(String(160), unique=True)
    state: Mapped[str] = mapped_column(String(16))
    first_signal_at: Mapped[datetime] = mapped_column(UTCDateTime)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    eta_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_checkpoint: Mapped[str] = mapped_column(String(32), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ticket_number: Mapped[str] = mapped_column(String(24), default="")
    notice_id: Mapped[int | None] = mapped_column(Integer)
