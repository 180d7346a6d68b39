"""Merchant tasks (an urged order waits for the merchant by a deadline) and the staff inbox
(supervisors' breach alerts).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import aftersales.db.base

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "merchant_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("order_number", sa.String(length=64), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("created_at", aftersales.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", aftersales.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("handled_at", aftersales.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("handled_by", sa.String(length=120), nullable=False),
        sa.Column("handled_note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_merchant_tasks_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_merchant_tasks_merchant_id_merchants")
        ),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_merchant_tasks_order_id_orders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merchant_tasks")),
    )
    with op.batch_alter_table("merchant_tasks", schema=None) as batch_op:
        batch_op.create_index("ix_merchant_tasks_merchant_open", ["merchant_id", "handled_at", "due_at"], unique=False)
        batch_op.create_index("ix_merchant_tasks_order", ["order_id", "created_at"], unique=False)

    op.create_table(
        "staff_inbox_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=200), nullable=False),
        sa.Column("idempotency_key", sa.String(length=160), nullable=False),
        sa.Column("created_at", aftersales.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("read_at", aftersales.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_staff_inbox_messages_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_inbox_messages")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_staff_inbox_messages_idempotency_key")),
    )
    with op.batch_alter_table("staff_inbox_messages", schema=None) as batch_op:
        batch_op.create_index("ix_staff_inbox_user_created", ["user_id", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("staff_inbox_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_staff_inbox_user_created")
    op.drop_table("staff_inbox_messages")
    with op.batch_alter_table("merchant_tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_merchant_tasks_order")
        batch_op.drop_index("ix_merchant_tasks_merchant_open")
    op.drop_table("merchant_tasks")
