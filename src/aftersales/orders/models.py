"""Mapped classes of the orders context; rules stay in domain.py."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from aftersales.db.base import Amount, Base, UTCDateTime


# Deliberately separate: each table declares its own columns, although they share a shape with other
# tables: a table is one context's fact, and the migrations compare them one by one.
class Merchant(Base):
    __tablename__ = "merchants"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    credit_score: Mapped[int] = mapped_column(Integer, default=100)
    # Service promises the merchant signed up to, e.g. "hassle_free_30" (30-day hassle-free returns).
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Where customers send returned goods; empty until the merchant gives it.
    return_address: Mapped[str] = mapped_column(String(300), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120), index=True)
    phone: Mapped[str] = mapped_column(String(32), default="", index=True)
    email: Mapped[str] = mapped_column(String(200), default="")
    tier: Mapped[str] = mapped_column(String(16), default="regular")
    locale: Mapped[str] = mapped_column(String(8), default="zh-CN")
    # The merchant whose order feed created this customer; None for the platform's own. Only
    # the owner (or a platform-wide writer) may change the name, phone, email and tier.
    owner_merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchants.id"))
    # The customer's choice on /account: notices also by email (the in-app inbox always gets them).
    email_notices: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    brand: Mapped[str] = mapped_column(String(120), default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)

    category: Mapped[Category] = relationship(lazy="joined")
    skus: Mapped[list[Sku]] = relationship(back_populates="product", lazy="raise")


class Sku(Base):
    __tablename__ = "skus"
    __table_args__ = (UniqueConstraint("merchant_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    spec: Mapped[str] = mapped_column(String(200), default="")
    price: Mapped[Decimal] = mapped_column(Amount)
    currency: Mapped[str] = mapped_column(String(3))
    stock: Mapped[int] = mapped_column(Integer, default=0)

    product: Mapped[Product] = relationship(back_populates="skus", lazy="joined")


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_customer_placed", "customer_id", "placed_at"),
        Index("ix_orders_merchant_placed", "merchant_id", "placed_at"),
        Index("ix_orders_recipient_phone", "recipient_phone"),
        UniqueConstraint("merchant_id", "external_ref", name="uq_orders_merchant_external_ref"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    status: Mapped[str] = mapped_column(String(24), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    goods_total: Mapped[Decimal] = mapped_column(Amount)
    shipping_fee: Mapped[Decimal] = mapped_column(Amount)
    discount_total: Mapped[Decimal] = mapped_column(Amount)
    # The tax within the payable total: inside the prices when taxes_included, else added to them.
    tax_total: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0), server_default="0")
    taxes_included: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    payable_total: Mapped[Decimal] = mapped_column(Amount)
    # Money the shop gave back on its own platform (the sum of the order's refunds below).
    refunded_total: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0), server_default="0")
    # The shop platform's own id for the order ("shopify:450789469"), to attach refunds to it.
    external_ref: Mapped[str | None] = mapped_column(String(80))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recipient_name: Mapped[str] = mapped_column(String(120), default="")
    recipient_phone: Mapped[str] = mapped_column(String(32), default="")
    address_region: Mapped[str] = mapped_column(String(200), default="")
    address_detail: Mapped[str] = mapped_column(String(400), default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    # The shop's revision of this order; a replay or an older one changes nothing.
    source_version: Mapped[int] = mapped_column(Integer)
    source_updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Our optimistic lock, so two writers never lose each other's update.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    merchant: Mapped[Merchant] = relationship(lazy="joined")
    customer: Mapped[Customer] = relationship(lazy="joined")
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", lazy="raise", order_by="OrderLine.line_no", cascade="all, delete-orphan"
    )
    payments: Mapped[list[Payment]] = relationship(back_populates="order", lazy="raise", cascade="all, delete-orphan")
    shipments: Mapped[list[Shipment]] = relationship(back_populates="order", lazy="raise", cascade="all, delete-orphan")
    refunds: Mapped[list[OrderRefund]] = relationship(
        back_populates="order", lazy="raise", order_by="OrderRefund.refunded_at", cascade="all, delete-orphan"
    )

    __mapper_args__: dict[str, Any] = {"version_id_col": version}


class OrderLine(Base):
    __tablename__ = "order_lines"
    __table_args__ = (UniqueConstraint("order_id", "line_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    line_no: Mapped[int] = mapped_column(Integer)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"), index=True)
    sku_code: Mapped[str] = mapped_column(String(64))
    product_name: Mapped[str] = mapped_column(String(200))
    category_code: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Amount)
    currency: Mapped[str] = mapped_column(String(3))
    stock_status: Mapped[str] = mapped_column(String(16), default="in_stock")

    order: Mapped[Order] = relationship(back_populates="lines", lazy="raise")


class OrderRefund(Base):
    """Money the shop gave back on its own platform, as its order feed reports it (a refund that
    Aftersales pays out itself lives in the refunds context)."""

    __tablename__ = "order_refunds"
    __table_args__ = (UniqueConstraint("order_id", "reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    reference: Mapped[str] = mapped_column(String(64))
    amount: Mapped[Decimal] = mapped_column(Amount)
    currency: Mapped[str] = mapped_column(String(3))
    refunded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(400), default="")
    # [{"line_no": 1, "quantity": 2}, …]: the lines and units given back, when the shop says.
    lines: Mapped[list[dict[str, int]]] = mapped_column(JSON, default=list)

    order: Mapped[Order] = relationship(back_populates="refunds", lazy="raise")


class Payment(Base):
    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    reference: Mapped[str] = mapped_column(String(80), unique=True)
    method: Mapped[str] = mapped_column(String(24))
    amount: Mapped[Decimal] = mapped_column(Amount)
    currency: Mapped[str] = mapped_column(String(3))
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime)

    order: Mapped[Order] = relationship(back_populates="payments", lazy="raise")


class Shipment(Base):
    __tablename__ = "shipments"
    __table_args__ = (
        UniqueConstraint("carrier", "tracking_number"),
        Index("ix_shipments_late_scan", "status", "promised_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    carrier: Mapped[str] = mapped_column(String(32))
    tracking_number: Mapped[str] = mapped_column(String(64), index=True)
    rider_user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    status: Mapped[str] = mapped_column(String(24))
    promised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    current_node: Mapped[str | None] = mapped_column(String(32))
    current_place: Mapped[str] = mapped_column(String(200), default="")
    last_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    order: Mapped[Order] = relationship(back_populates="shipments", lazy="raise")
    events: Mapped[list[LogisticsEvent]] = relationship(
        back_populates="shipment", lazy="raise", order_by="LogisticsEvent.occurred_at"
    )


class LogisticsEvent(Base):
    __tablename__ = "logistics_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[str] = mapped_column(String(80), unique=True)
    node: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    place: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    # The carrier's (or tracking platform's) own status code, kept as sent, e.g. "InTransit_003".
    carrier_code: Mapped[str] = mapped_column(String(64), default="", server_default="")
    # Why an exception scan is one (orders.domain.ExceptionReason); None for other nodes.
    exception_reason: Mapped[str | None] = mapped_column(String(24))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)

    shipment: Mapped[Shipment] = relationship(back_populates="events", lazy="raise")
