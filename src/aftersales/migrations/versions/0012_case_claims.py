"""Compensation caps and review escalation on cases; back-off for failing items of the periodic scans.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import aftersales.db.base

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("review_check_at", aftersales.db.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("review_sweep_failures", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch_op.add_column(
            sa.Column("review_escalated_at", aftersales.db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("compensation_cap", aftersales.db.base.Amount(precision=14, scale=2), nullable=True)
        )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.alter_column("review_sweep_failures", server_default=None)
        # Partial: only cases the review sweep still has to look at.
        batch_op.create_index(
            "ix_cases_review_check_at",
            ["review_check_at"],
            unique=False,
            sqlite_where=sa.text("review_check_at IS NOT NULL"),
            postgresql_where=sa.text("review_check_at IS NOT NULL"),
        )
        batch_op.create_index(batch_op.f("ix_cases_review_escalated_at"), ["review_escalated_at"], unique=False)
    # Cases waiting for a review are looked at by the sweep from their deadline on.
    op.execute(
        "UPDATE cases SET review_check_at = review_due_at "
        "WHERE status IN ('under_review', 'awaiting_evidence') AND review_due_at IS NOT NULL"
    )
    with op.batch_alter_table("sla_clocks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sweep_failures", sa.Integer(), nullable=False, server_default=sa.text("0")))
    with op.batch_alter_table("sla_clocks", schema=None) as batch_op:
        batch_op.alter_column("sweep_failures", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("sla_clocks", schema=None) as batch_op:
        batch_op.drop_column("sweep_failures")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_review_escalated_at"))
        batch_op.drop_index("ix_cases_review_check_at")
        batch_op.drop_column("compensation_cap")
        batch_op.drop_column("review_escalated_at")
        batch_op.drop_column("review_sweep_failures")
        batch_op.drop_column("review_check_at")
