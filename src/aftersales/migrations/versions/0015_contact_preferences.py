"""A customer's contact preference: whether notices also go out by email.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_notices", sa.Boolean(), nullable=True))
    # Everyone got email notices before there was a choice; they keep getting them.
    op.execute(sa.text("UPDATE customers SET email_notices = :yes").bindparams(yes=True))
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.alter_column("email_notices", existing_type=sa.Boolean(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("email_notices")
