"""Orders as shop platforms send them: refunded and partially refunded orders with the refunds the
shop gave and their total, the tax within the total (inside the prices or added to them), the
platform's own id for the order, and room for the longer status names.

Revision ID: h19orders_0001
Revises: h17csat_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import aftersales.db.base

revision = "h19orders_0001"
down_revision = "h17csat_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.alter_column("status", existing_type=sa.String(length=16), type_=sa.String(length=24))
        batch_op.add_column(
            sa.Column("tax_total", aftersales.db.base.Amount(precision=14, scale=2), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("taxes_included", sa.Boolean(), server_default="1", nullable=False))
        batch_op.add_column(
            sa.Column(
                "refunded_total", aftersales.db.base.Amount(precision=14, scale=2), server_default="0", nullable=False
            )
        )
        batch_op.add_column(sa.Column("external_ref", sa.String(length=80), nullable=True))
        batch_op.create_unique_constraint("uq_orders_merchant_external_ref", ["merchant_id", "external_ref"])
    op.create_table(
        "order_refunds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("amount", aftersales.db.base.Amount(precision=14, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("refunded_at", aftersales.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=400), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_refunds_order_id_orders"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_refunds")),
        sa.UniqueConstraint("order_id", "reference", name=op.f("uq_order_refunds_order_id_reference")),
    )
    with op.batch_alter_table("order_refunds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_refunds_order_id"), ["order_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("order_refunds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_refunds_order_id"))
    op.drop_table("order_refunds")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint("uq_orders_merchant_external_ref", type_="unique")
        batch_op.drop_column("external_ref")
        batch_op.drop_column("refunded_total")
        batch_op.drop_column("taxes_included")
        batch_op.drop_column("tax_total")
        batch_op.alter_column("status", existing_type=sa.String(length=24), type_=sa.String(length=16))
