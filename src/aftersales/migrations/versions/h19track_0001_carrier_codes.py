"""Logistics events keep the carrier's own status code and, for an exception, its reason (refused,
damaged, bad address, failed delivery, customs hold, lost, other). Shipments gain the states
info_received and returned; shipment status is a plain string column, so only the new event
columns need a schema change.

Revision ID: h19track_0001
Revises: h16govern_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "h19track_0001"
down_revision = "h16govern_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("logistics_events") as batch:
        batch.add_column(sa.Column("carrier_code", sa.String(length=64), nullable=False, server_default=""))
        batch.add_column(sa.Column("exception_reason", sa.String(length=24), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("logistics_events") as batch:
        batch.drop_column("exception_reason")
        batch.drop_column("carrier_code")
