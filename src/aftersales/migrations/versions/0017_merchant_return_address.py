"""Merchants keep the address their returns are sent to, shown on a case once its return is
approved. Merchants registered before have none until they give it (the page says so).
A booked pickup keeps the courier's booking reference.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("merchants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("return_address", sa.String(length=300), nullable=False, server_default=""))
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pickup_reference", sa.String(length=64), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("pickup_reference")
    with op.batch_alter_table("merchants", schema=None) as batch_op:
        batch_op.drop_column("return_address")
