"""Refunds per order line and per business fact; what each case line asks for.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import aftersales.db.base

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

LIVE = sa.text("status <> 'failed'")


def upgrade() -> None:
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("business_key", sa.String(length=120), nullable=True))
    # Refunds from before business keys: each was its own fact, so its key is its idempotency key.
    op.execute("UPDATE refunds SET business_key = idempotency_key")
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.alter_column("business_key", existing_type=sa.String(length=120), nullable=False)
        batch_op.create_index(
            "uq_refunds_live_business_key",
            ["business_key"],
            unique=True,
            sqlite_where=LIVE,
            postgresql_where=LIVE,
        )

    op.create_table(
        "refund_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("refund_id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=False),
        sa.Column("amount", aftersales.db.base.Amount(precision=14, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["refund_id"], ["refunds.id"], name=op.f("fk_refund_lines_refund_id_refunds"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["order_line_id"], ["order_lines.id"], name=op.f("fk_refund_lines_order_line_id_order_lines")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refund_lines")),
    )
    with op.batch_alter_table("refund_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refund_lines_refund_id"), ["refund_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_refund_lines_order_line_id"), ["order_line_id"], unique=False)

    # What each case line asks for (its paid share); empty on cases from before, which fall back
    # to unit price × quantity.
    with op.batch_alter_table("case_lines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("amount", aftersales.db.base.Amount(precision=14, scale=2), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("case_lines", schema=None) as batch_op:
        batch_op.drop_column("amount")
    op.drop_table("refund_lines")
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_index("uq_refunds_live_business_key")
        batch_op.drop_column("business_key")
