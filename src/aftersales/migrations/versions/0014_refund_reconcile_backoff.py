"""Refunds the reconciliation could not read are looked at again after a growing delay, so one odd
refund never holds back the others.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import aftersales.db.base

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reconcile_failures", sa.Integer(), nullable=False, server_default=sa.text("0")))
        batch_op.add_column(sa.Column("reconcile_after", aftersales.db.base.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.alter_column("reconcile_failures", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_column("reconcile_after")
        batch_op.drop_column("reconcile_failures")
