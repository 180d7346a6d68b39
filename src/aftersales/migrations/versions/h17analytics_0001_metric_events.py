"""Analytics: the append-only metric events and their daily rollups.

Revision ID: h17analytics_0001
Revises: h16detect_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from aftersales.db.base import UTCDateTime

revision = "h17analytics_0001"
down_revision = "h16detect_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "analytics_metric_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("occurred_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("subject_type", sa.String(length=16), nullable=False),
        sa.Column("subject_ref", sa.String(length=64), nullable=False),
        sa.Column("ticket_number", sa.String(length=24), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("order_number", sa.String(length=64), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("team", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=True),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("reason_tag", sa.String(length=64), nullable=False),
        sa.Column("carrier", sa.String(length=32), nullable=False),
        sa.Column("province", sa.String(length=32), nullable=False),
        sa.Column("city", sa.String(length=32), nullable=False),
        sa.Column("value_s", sa.Float(), nullable=False),
        sa.Column("value_business_s", sa.Float(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=160), nullable=False),
        sa.Column("recorded_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_metric_events")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_analytics_metric_events_idempotency_key")),
    )
    op.create_index("ix_analytics_metric_events_name_day", "analytics_metric_events", ["name", "local_date"])
    op.create_index("ix_analytics_metric_events_occurred", "analytics_metric_events", ["occurred_at"])
    op.create_index(op.f("ix_analytics_metric_events_ticket_number"), "analytics_metric_events", ["ticket_number"])
    op.create_table(
        "analytics_daily_rollups",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("dim_type", sa.String(length=16), nullable=False),
        sa.Column("dim_id", sa.String(length=64), nullable=False),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("sum_s", sa.Float(), nullable=False),
        sa.Column("sum_business_s", sa.Float(), nullable=False),
        sa.Column("histogram", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_daily_rollups")),
        sa.UniqueConstraint(
            "day", "dim_type", "dim_id", "metric", name=op.f("uq_analytics_daily_rollups_day_dim_type_dim_id_metric")
        ),
    )
    op.create_index("ix_analytics_daily_rollups_dim_day", "analytics_daily_rollups", ["dim_type", "day"])


def downgrade() -> None:
    op.drop_index("ix_analytics_daily_rollups_dim_day", table_name="analytics_daily_rollups")
    op.drop_table("analytics_daily_rollups")
    op.drop_index(op.f("ix_analytics_metric_events_ticket_number"), table_name="analytics_metric_events")
    op.drop_index("ix_analytics_metric_events_occurred", table_name="analytics_metric_events")
    op.drop_index("ix_analytics_metric_events_name_day", table_name="analytics_metric_events")
    op.drop_table("analytics_metric_events")
