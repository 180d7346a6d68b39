"""Disputes, their append-only evidence chain, and the merchants' deposits with their entries."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from aftersales.db.base import Amount, Base, UTCDateTime


# Deliberately separate: each table declares its own columns, although they share a shape with other
# tables: a table is one context's fact, and the migrations compare them one by one.
class Dispute(Base):
    __tablename__ = "disputes"
    __table_args__ = (
        Index("ix_disputes_status_deadline", "status", "deadline_at"),
        Index("ix_disputes_merchant_status", "merchant_id", "status"),
        Index("ix_disputes_customer_created", "customer_id", "created_at"),
        # Only disputes the sweep still has to look at are in this index.
        Index(
            "ix_disputes_check_at",
            "check_at",
            sqlite_where=text("check_at IS NOT NULL"),
            postgresql_where=text("check_at IS NOT NULL"),
        ),
        # One open dispute per case: a second escalation finds the first.
        Index("uq_disputes_case", "case_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    case_number: Mapped[str] = mapped_column(String(24))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    order_number: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    currency: Mapped[str] = mapped_column(String(3))
    paid: Mapped[Decimal] = mapped_column(Amount)  # what the disputed lines were paid
    order_total: Mapped[Decimal] = mapped_column(Amount)
    claim: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(24), index=True)
    awaiting: Mapped[str] = mapped_column(String(16), default="")  # buyer, merchant, both
    round: Mapped[int] = mapped_column(Integer, default=0)
    state_since: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the sweep looks next: the deadline, later after a failed attempt, None when nothing is due.
    check_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sweep_failures: Mapped[int] = mapped_column(Integer, default=0)
    accept_overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # supervisors paged
    senior_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # handed to a senior arbitrator
    liability: Mapped[str] = mapped_column(String(16), default="")
    outcome: Mapped[str] = mapped_column(String(32), default="")
    award: Mapped[Decimal | None] = mapped_column(Amount)
    reasons: Mapped[str] = mapped_column(Text, default="")
    ruling_evidence: Mapped[list[int]] = mapped_column(JSON, default=list)
    ruled_by: Mapped[str] = mapped_column(String(120), default="")
    ruled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    funding: Mapped[str] = mapped_column(String(16), default="")
    refund_id: Mapped[int | None] = mapped_column(Integer)
    appeal_result: Mapped[str] = mapped_column(String(16), default="")
    escalated_by_user_id: Mapped[int | None] = mapped_column(Integer)
    retain_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    evidence: Mapped[list[DisputeEvidence]] = relationship(
        back_populates="dispute", lazy="selectin", order_by="DisputeEvidence.id"
    )

    __mapper_args__ = {"version_id_col": version}


class DisputeEvidence(Base):
    """One item of the evidence chain. Append-only: nothing updates or deletes a row."""

    __tablename__ = "dispute_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("disputes.id"), index=True)
    party: Mapped[str] = mapped_column(String(16))  # buyer, merchant, platform, system
    kind: Mapped[str] = mapped_column(String(32))
    round: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(Text, default="")
    # [{"name", "sha256", "content_type", "size"}]: files stored under upload_dir/<dispute number>/.
    files: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the system's records, as attached
    added_by: Mapped[str] = mapped_column(String(120))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)

    dispute: Mapped[Dispute] = relationship(back_populates="evidence", lazy="raise")


class MerchantDeposit(Base):
    """A merchant's deposit (保证金): the balance rulings may be paid from."""

    __tablename__ = "merchant_deposits"

    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    balance: Mapped[Decimal] = mapped_column(Amount)
    receivable: Mapped[Decimal] = mapped_column(Amount)  # what the merchant owes when its deposit fell short
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class DepositEntry(Base):
    """A movement on a deposit; the key makes each business fact one entry."""

    __tablename__ = "merchant_deposit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # top_up, ruling, receivable
    amount: Mapped[Decimal] = mapped_column(Amount)  # signed: + into the deposit, − out of it
    dispute_id: Mapped[int | None] = mapped_column(ForeignKey("disputes.id"))
    note: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime)
