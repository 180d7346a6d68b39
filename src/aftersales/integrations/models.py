"""Mapped classes of the integrations context; rules stay in domain.py."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from aftersales.db.base import Base, UTCDateTime


class Integration(Base):
    """One shop on one platform, feeding one merchant's orders."""

    __tablename__ = "integrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    # The shared webhook secret, sealed (kit.sealing) under the install's secret key: an HMAC key
    # has to be read back to check a signature, so it cannot be hashed (decision 0040-h19orders).
    secret_sealed: Mapped[str] = mapped_column(Text)
    secret_hint: Mapped[str] = mapped_column(String(8))
    # Where to fetch an order a callback names only by id (BigCommerce), and the token it needs (sealed).
    api_base_url: Mapped[str] = mapped_column(String(300), default="")
    api_token_sealed: Mapped[str] = mapped_column(Text, default="")
    # The zone the shop's zone-less times are in (WooCommerce's site zone), and a number prefix.
    zone: Mapped[str] = mapped_column(String(64), default="UTC")
    number_prefix: Mapped[str] = mapped_column(String(16), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WebhookDelivery(Base):
    """One signed delivery as it arrived, with what it became; the same event id is recorded once."""

    __tablename__ = "integration_deliveries"
    __table_args__ = (
        UniqueConstraint("integration_id", "event_id"),
        Index("ix_integration_deliveries_integration_received", "integration_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(ForeignKey("integrations.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(128))
    topic: Mapped[str] = mapped_column(String(80), default="")
    result: Mapped[str] = mapped_column(String(16))
    order_numbers: Mapped[str] = mapped_column(String(400), default="")
    error: Mapped[str] = mapped_column(Text, default="")
    # The raw body, kept so a failed delivery can be replayed (bounded by domain.MAX_BODY_BYTES).
    body: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime)
