"""The staffing roster: agents on shift per skill group and 30-minute interval.

Revision ID: h18_0001
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from aftersales.db.base import UTCDateTime

revision = "h18_0001"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scheduling_roster",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("group_key", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("interval", sa.Integer(), nullable=False),
        sa.Column("agents", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduling_roster")),
        sa.UniqueConstraint("group_key", "day", "interval", name=op.f("uq_scheduling_roster_group_key_day_interval")),
    )
    op.create_index(op.f("ix_scheduling_roster_day"), "scheduling_roster", ["day"])


def downgrade() -> None:
    op.drop_index(op.f("ix_scheduling_roster_day"), table_name="scheduling_roster")
    op.drop_table("scheduling_roster")
