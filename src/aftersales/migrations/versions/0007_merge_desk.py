"""Join the service-desk branches (SLA, routing, tickets) and index orders by recipient phone.

Revision ID: 0007
Revises: 0004, 0005, 0006
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision: tuple[str, ...] = ("0004", "0005", "0006")
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Agents search orders by the recipient's phone as well as the buyer's; without this index that
    # search scans every order.
    op.create_index("ix_orders_recipient_phone", "orders", ["recipient_phone"])


def downgrade() -> None:
    op.drop_index("ix_orders_recipient_phone", table_name="orders")
