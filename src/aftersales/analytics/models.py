"""Analytics tables: the append-only metric events and their daily rollups.

`analytics_metric_events` is written once per source fact (unique idempotency key) and never
updated; `occurred_at` is its time column, the key to partition it by month on PostgreSQL.
`analytics_daily_rollups` holds, per local day, dimension and metric, what the dashboards read.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, Float, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from aftersales.db.base import Base, UTCDateTime


class MetricEvent(Base):
    __tablename__ = "analytics_metric_events"
    __table_args__ = (
        Index("ix_analytics_metric_events_name_day", "name", "local_date"),
        Index("ix_analytics_metric_events_occurred", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    name: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    local_date: Mapped[date] = mapped_column(Date)
    subject_type: Mapped[str] = mapped_column(String(16))  # ticket | case | order | refund | conversation
    subject_ref: Mapped[str] = mapped_column(String(64))  # its number (a ticket's T-…, a case's, an order's)
    ticket_number: Mapped[str] = mapped_column(String(24), default="", index=True)
    customer_id: Mapped[int | None] = mapped_column(Integer)
    order_number: Mapped[str] = mapped_column(String(64), default="")
    agent_id: Mapped[int | None] = mapped_column(Integer)
    team: Mapped[str] = mapped_column(String(64), default="")
    channel: Mapped[str] = mapped_column(String(16), default="")
    merchant_id: Mapped[int | None] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(64), default="")
    reason_tag: Mapped[str] = mapped_column(String(64), default="")
    carrier: Mapped[str] = mapped_column(String(32), default="")
    province: Mapped[str] = mapped_column(String(32), default="")
    city: Mapped[str] = mapped_column(String(32), default="")
    value_s: Mapped[float] = mapped_column(Float, default=0.0)
    value_business_s: Mapped[float] = mapped_column(Float, default=0.0)
    idempotency_key: Mapped[str] = mapped_column(String(160), unique=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DailyRollup(Base):
    __tablename__ = "analytics_daily_rollups"
    __table_args__ = (
        UniqueConstraint("day", "dim_type", "dim_id", "metric"),
        # A dashboard reads one dimension type over a range of days.
        Index("ix_analytics_daily_rollups_dim_day", "dim_type", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    dim_type: Mapped[str] = mapped_column(String(16))
    dim_id: Mapped[str] = mapped_column(String(64))
    metric: Mapped[str] = mapped_column(String(32))
    count: Mapped[int] = mapped_column(Integer, default=0)
    sum_s: Mapped[float] = mapped_column(Float, default=0.0)
    sum_business_s: Mapped[float] = mapped_column(Float, default=0.0)
    # 24 log buckets of the business value (domain.bucket_of), for p50/p90.
    histogram: Mapped[list[Any]] = mapped_column(JSON, default=list)
