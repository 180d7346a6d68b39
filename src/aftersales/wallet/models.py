"""The wallet's entries and declared force-majeure periods (ours), and the simulated coupon
issuer's own ledger (theirs)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from aftersales.db.base import Amount, Base, UTCDateTime


# Deliberately separate: each table declares its own columns, although they share a shape with other
# tables: a table is one context's fact, and the migrations compare them one by one.
class WalletEntry(Base):
    """One coupon or amount of store credit in a customer's wallet."""

    __tablename__ = "wallet_entries"
    __table_args__ = (Index("ix_wallet_entries_customer", "customer_id", "issued_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(16))  # coupon | store_credit
    code: Mapped[str] = mapped_column(String(40), unique=True)  # the issuer's coupon code
    value: Mapped[Decimal] = mapped_column(Amount)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))  # issued | used | expired | revoked
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # used, expired or revoked
    # Who issued it: a rule (its policy key) or a person (their user name), and why.
    source_kind: Mapped[str] = mapped_column(String(16))  # rule | person
    source_ref: Mapped[str] = mapped_column(String(120))
    trigger: Mapped[str] = mapped_column(String(24))  # late_delivery | agent_offer | vip_offer
    reason: Mapped[str] = mapped_column(String(300), default="")
    order_number: Mapped[str] = mapped_column(String(64), default="", index=True)
    # The business fact it pays for (late:<order>, offer:ticket:<n>, vip:case:<n>): one entry each.
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)


class ForceMajeure(Base):
    """A period and region an administrator declared force majeure: no lateness compensation."""

    __tablename__ = "wallet_force_majeure"

    id: Mapped[int] = mapped_column(primary_key=True)
    region: Mapped[str] = mapped_column(String(100))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(300))
    declared_by: Mapped[str] = mapped_column(String(120))
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IssuedCoupon(Base):
    """The simulated coupon issuer's ledger: another system's, written in its own transactions."""

    __tablename__ = "coupon_issuer_sim"

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    customer_ref: Mapped[str] = mapped_column(String(64))
    value: Mapped[Decimal] = mapped_column(Amount)
    currency: Mapped[str] = mapped_column(String(3))
    code: Mapped[str] = mapped_column(String(40), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
