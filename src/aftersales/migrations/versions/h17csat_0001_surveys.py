"""Satisfaction surveys: one per ticket or case, with the time the sweep next looks at it.

Revision ID: h17csat_0001
Revises: h19track_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from aftersales.db.base import UTCDateTime

revision = "h17csat_0001"
down_revision = "h19track_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "surveys",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("subject_type", sa.String(length=16), nullable=False),
        sa.Column("subject_ref", sa.String(length=24), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=True),
        sa.Column("order_number", sa.String(length=64), nullable=False),
        sa.Column("agent_ids", sa.JSON(), nullable=False),
        sa.Column("closed_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("next_check_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("answered_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("result", sa.SmallInteger(), nullable=True),
        sa.Column("speed", sa.SmallInteger(), nullable=True),
        sa.Column("attitude", sa.SmallInteger(), nullable=True),
        sa.Column("reason_tags", sa.JSON(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveys")),
        sa.UniqueConstraint("subject_type", "subject_ref", name=op.f("uq_surveys_subject_type_subject_ref")),
    )
    op.create_index("ix_surveys_next_check_at", "surveys", ["next_check_at"])
    op.create_index("ix_surveys_sent_at", "surveys", ["sent_at"])
    op.create_index(op.f("ix_surveys_customer_id"), "surveys", ["customer_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_surveys_customer_id"), table_name="surveys")
    op.drop_index("ix_surveys_sent_at", table_name="surveys")
    op.drop_index("ix_surveys_next_check_at", table_name="surveys")
    op.drop_table("surveys")
