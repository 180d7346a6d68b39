"""Proactive service: watches (next check per open order, indexed), intake cursors, incidents.

Revision ID: h16detect_0001
Revises: h16wallet_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from aftersales.db.base import UTCDateTime

revision = "h16detect_0001"
down_revision = "h16wallet_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "proactive_watches",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("next_check_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("changed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("checked_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_proactive_watches_order_id_orders"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proactive_watches")),
        sa.UniqueConstraint("order_id", name=op.f("uq_proactive_watches_order_id")),
    )
    op.create_index(
        "ix_proactive_watches_due",
        "proactive_watches",
        ["next_check_at"],
        sqlite_where=sa.text("next_check_at IS NOT NULL"),
        postgresql_where=sa.text("next_check_at IS NOT NULL"),
    )
    op.create_table(
        "proactive_cursors",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("last_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_proactive_cursors")),
    )
    op.create_table(
        "proactive_incidents",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("order_number", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("episode", sa.String(length=160), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("first_signal_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("detected_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("notified_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("eta_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_checkpoint", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("ticket_number", sa.String(length=24), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_proactive_incidents_order_id_orders"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proactive_incidents")),
        sa.UniqueConstraint("episode", name=op.f("uq_proactive_incidents_episode")),
    )
    op.create_index("ix_proactive_incidents_order", "proactive_incidents", ["order_id", "state"])
    op.create_index("ix_proactive_incidents_state", "proactive_incidents", ["state", "detected_at"])


def downgrade() -> None:
    op.drop_index("ix_proactive_incidents_state", table_name="proactive_incidents")
    op.drop_index("ix_proactive_incidents_order", table_name="proactive_incidents")
    op.drop_table("proactive_incidents")
    op.drop_table("proactive_cursors")
    op.drop_index("ix_proactive_watches_due", table_name="proactive_watches")
    op.drop_table("proactive_watches")
