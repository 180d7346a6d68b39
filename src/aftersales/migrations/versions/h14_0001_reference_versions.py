"""Reference data versions: a counter per area (SLA policies, calendars, public days; the rules' policies; routing groups and memberships) that goes up in
the transaction that changes the area, so every process knows when its cached copy is stale
(aftersales.db.refcache).

Revision ID: h14_0001
Revises: h20learn_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "h14_0001"
down_revision = "h20learn_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "reference_versions",
        sa.Column("area", sa.String(length=40), primary_key=True),
        sa.Column("version", sa.BigInteger(), nullable=False, server_default="0"),
    )
    # The row exists before the first change, so two first writers never race to insert it.
    op.bulk_insert(
        table, [{"area": "sla", "version": 0}, {"area": "rules", "version": 0}, {"area": "routing", "version": 0}]
    )


def downgrade() -> None:
    op.drop_table("reference_versions")
