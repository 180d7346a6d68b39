"""sla: policies, calendars, public days, clocks and metric events

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import aftersales.db.base

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sla_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_type", sa.String(length=24), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("metric", sa.String(length=24), nullable=False),
        sa.Column("target_minutes", sa.Integer(), nullable=False),
        sa.Column("warn_percent", sa.Integer(), nullable=False),
        sa.Column("business_hours", sa.Boolean(), nullable=False),
        sa.Column("calendar_key", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", aftersales.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_policies")),
        sa.UniqueConstraint(
            "ticket_type", "priority", "metric", name=op.f("uq_sla_policies_ticket_type_priority_metric")
        ),
    )
    op.create_table(
        "sla_calendars",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name_zh", sa.String(length=120), nullable=False),
        sa.Column("name_en", sa.String(length=120), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("always_open", sa.Boolean(), nullable=False),
        sa.Column("chinese_holidays", sa.Boolean(), nullable=False),
        sa.Column("weekly", sa.JSON(), nullable=False),
        sa.Column("closures", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", aftersales.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_calendars")),
        sa.UniqueConstraint("key", name=op.f("uq_sla_calendars_key")),
    )
    op.create_table(
        "sla_public_days",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("updated_at", aftersales.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_public_days")),
        sa.UniqueConstraint("day", name=op.f("uq_sla_public_days_day")),
    )
    op.create_table(
        "sla_clocks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_kind", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(length=24), nullable=False),
        sa.Column("ticket_type", sa.String(length=24), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("team", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("calendar_key", sa.String(length=64), nullable=False),
        sa.Column("target_seconds", sa.Integer(), nullable=False),
        sa.Column("warn_seconds", sa.Integer(), nullable=False),
        sa.Column("used_seconds", sa.Integer(), nullable=False),
        sa.Column("started_at", aftersales.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("segment_started_at", aftersales.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("target_at", aftersales.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("warn_at", aftersales.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_check_at", aftersales.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("paused_at", aftersales.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("warned_at", aftersales.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("breached_at", aftersales.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("stopped_at", aftersales.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_clocks")),
        sa.UniqueConstraint(
            "subject_kind", "subject_id", "metric", name=op.f("uq_sla_clocks_subject_kind_subject_id_metric")
        ),
    )
    with op.batch_alter_table("sla_clocks", schema=None) as batch_op:
        # Partial: only clocks with something left to check, so the sweep's index stays small.
        batch_op.create_index(
            "ix_sla_clocks_next_check_at",
            ["next_check_at"],
            unique=False,
            sqlite_where=sa.text("next_check_at IS NOT NULL"),
            postgresql_where=sa.text("next_check_at IS NOT NULL"),
        )
    op.create_table(
        "sla_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clock_id", sa.Integer(), nullable=False),
        sa.Column("subject_kind", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(length=24), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("occurred_at", aftersales.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("elapsed_seconds", sa.Integer(), nullable=False),
        sa.Column("target_seconds", sa.Integer(), nullable=False),
        sa.Column("ticket_type", sa.String(length=24), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("team", sa.String(length=64), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_events")),
    )
    with op.batch_alter_table("sla_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sla_events_clock_id"), ["clock_id"], unique=False)
        batch_op.create_index("ix_sla_events_occurred_kind", ["occurred_at", "kind"], unique=False)
        batch_op.create_index("ix_sla_events_subject", ["subject_kind", "subject_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sla_events", schema=None) as batch_op:
        batch_op.drop_index("ix_sla_events_subject")
        batch_op.drop_index("ix_sla_events_occurred_kind")
        batch_op.drop_index(batch_op.f("ix_sla_events_clock_id"))
    op.drop_table("sla_events")
    with op.batch_alter_table("sla_clocks", schema=None) as batch_op:
        batch_op.drop_index("ix_sla_clocks_next_check_at")
    op.drop_table("sla_clocks")
    op.drop_table("sla_public_days")
    op.drop_table("sla_calendars")
    op.drop_table("sla_policies")
