"""After-sales cases, their lines and evidence, and the log of self-service order actions."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from aftersales.db.base import Amount, Base, UTCDateTime


# Deliberately separate: each table declares its own columns, although they share a shape with other
# tables: a table is one context's fact, and the migrations compare them one by one.
class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_status_review_due", "status", "review_due_at"),
        Index("ix_cases_merchant_status", "merchant_id", "status"),
        Index("ix_cases_customer_created", "customer_id", "created_at"),
        # Only cases the review sweep still has to look at are in this index.
        Index(
            "ix_cases_review_check_at",
            "review_check_at",
            sqlite_where=text("review_check_at IS NOT NULL"),
            postgresql_where=text("review_check_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    kind: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(24), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    order_number: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    reason: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text, default="")
    currency: Mapped[str] = mapped_column(String(3))
    requested_amount: Mapped[Decimal] = mapped_column(Amount)
    approved_amount: Mapped[Decimal | None] = mapped_column(Amount)
    resolution: Mapped[str] = mapped_column(String(24), default="")
    allowed_resolutions: Mapped[list[str]] = mapped_column(JSON, default=list)
    offers: Mapped[list[str]] = mapped_column(JSON, default=list)
    return_shipping_paid_by: Mapped[str] = mapped_column(String(16), default="")
    return_method: Mapped[str] = mapped_column(String(16), default="")
    return_carrier: Mapped[str] = mapped_column(String(32), default="")
    return_tracking: Mapped[str] = mapped_column(String(64), default="")
    pickup_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The courier's booking reference for the pickup ("" until booked).
    pickup_reference: Mapped[str] = mapped_column(String(64), default="", server_default="")
    eligibility_reason: Mapped[str] = mapped_column(Text, default="")
    policy_keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    review_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the review sweep looks at the case next: the deadline, later after a failed attempt
    # (back-off), None once escalated or decided.
    review_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_sweep_failures: Mapped[int] = mapped_column(Integer, default=0)
    # Set once when the review deadline passed without a decision; the supervisors' list.
    review_escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # Compensation: the most all compensation claims on the order may total, as the policies
    # decided at submission (None for other kinds).
    compensation_cap: Mapped[Decimal | None] = mapped_column(Amount)
    submitted_via: Mapped[str] = mapped_column(String(16))
    submitted_by_user_id: Mapped[int | None] = mapped_column(Integer)
    assignee_user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(160), unique=True)
    # What the key's first request asked for (kit.ids.request_fingerprint): the key with other content is refused.
    idempotency_fingerprint: Mapped[str | None] = mapped_column(String(64))
    appealed: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    lines: Mapped[list[CaseLine]] = relationship(back_populates="case", lazy="selectin", cascade="all, delete-orphan")
    evidence: Mapped[list[CaseEvidence]] = relationship(
        back_populates="case", lazy="selectin", cascade="all, delete-orphan", order_by="CaseEvidence.id"
    )

    __mapper_args__ = {"version_id_col": version}


class CaseLine(Base):
    __tablename__ = "case_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    sku_code: Mapped[str] = mapped_column(String(64))
    product_name: Mapped[str] = mapped_column(String(200))
    category_code: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Amount)
    # What these units were paid (their share of discount and shipping); None on older cases.
    amount: Mapped[Decimal | None] = mapped_column(Amount)

    case: Mapped[Case] = relationship(back_populates="lines", lazy="raise")


class CaseEvidence(Base):
    __tablename__ = "case_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24))  # photo, tracking, inspection, repair_note, note, invoice
    text: Mapped[str] = mapped_column(Text, default="")
    uri: Mapped[str] = mapped_column(String(400), default="")
    added_by: Mapped[str] = mapped_column(String(120))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    customer_visible: Mapped[bool] = mapped_column(Boolean, default=True)

    case: Mapped[Case] = relationship(back_populates="evidence", lazy="raise")


class OrderAction(Base):
    """Self-service actions on an order (cancel, change address, urge, ...), kept for limits and reports."""

    __tablename__ = "order_actions"
    __table_args__ = (Index("ix_order_actions_order_action_at", "order_id", "action", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    action: Mapped[str] = mapped_column(String(24))
    outcome: Mapped[str] = mapped_column(String(16))  # done, refused
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    by_user_id: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class MerchantTask(Base):
    """Something the merchant (or its warehouse) must act on by a deadline; today an urged order
    (催单). Open until someone on the merchant's side marks it handled."""

    __tablename__ = "merchant_tasks"
    __table_args__ = (
        Index("ix_merchant_tasks_merchant_open", "merchant_id", "handled_at", "due_at"),
        Index("ix_merchant_tasks_order", "order_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))  # urge
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    order_number: Mapped[str] = mapped_column(String(64))
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handled_by: Mapped[str] = mapped_column(String(120), default="")
    handled_note: Mapped[str] = mapped_column(Text, default="")
