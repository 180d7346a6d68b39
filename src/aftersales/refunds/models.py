"""Refund requests (ours) and the simulated gateway's own ledger (theirs)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from aftersales.db.base import Amount, Base, UTCDateTime


# Deliberately separate: each table declares its own columns, although they share a shape with other
# tables: a table is one context's fact, and the migrations compare them one by one.
class Refund(Base):
    __tablename__ = "refunds"
    __table_args__ = (
        Index("ix_refunds_status_next", "status", "next_attempt_at"),
        # One business fact (a case's lines for its reason, an order's cancellation) pays once: at most
        # one refund per business key that has not failed; a failed one may be retried under it.
        Index(
            "uq_refunds_live_business_key",
            "business_key",
            unique=True,
            sqlite_where=text("status <> 'failed'"),
            postgresql_where=text("status <> 'failed'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    order_number: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Amount)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(200), default="")
    # Sent to the gateway with every try: the gateway refunds once per key, whatever we resend.
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    # What is paid for (case, lines, reason); the idempotency key is derived from it per attempt.
    business_key: Mapped[str] = mapped_column(String(120))
    payment_reference: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(16))  # requested, submitted, succeeded, failed
    gateway_ref: Mapped[str] = mapped_column(String(80), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The reconciliation's own back-off: a refund it could not read waits before the next look.
    reconcile_failures: Mapped[int] = mapped_column(Integer, default=0)
    reconcile_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    lines: Mapped[list[RefundLine]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="RefundLine.id"
    )

    __mapper_args__ = {"version_id_col": version}


class RefundLine(Base):
    """The part of a refund paid back for one order line; a refund without lines (goodwill,
    compensation) counts against the order as a whole."""

    __tablename__ = "refund_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    refund_id: Mapped[int] = mapped_column(ForeignKey("refunds.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Amount)


class GatewayRefund(Base):
    """The simulated payment gateway's ledger: what a real gateway would hold on its side.
    One row per idempotency key is the proof that a refund reached the gateway exactly once."""

    __tablename__ = "gateway_sim_refunds"

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    payment_reference: Mapped[str] = mapped_column(String(80))
    amount: Mapped[Decimal] = mapped_column(Amount)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))  # processing, succeeded, failed
    gateway_ref: Mapped[str] = mapped_column(String(80), unique=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
