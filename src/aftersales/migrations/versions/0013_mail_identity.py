"""Mail identity: who sent each received email (address, To/Cc, the MTA's Authentication-Results)
and whether a ticket's requester is verified.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Tickets opened before this release keep being treated as they were: verified.
    op.add_column("tickets", sa.Column("requester_verified", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.add_column("ticket_messages", sa.Column("email_from", sa.String(254), nullable=False, server_default=""))
    op.add_column(
        "ticket_messages", sa.Column("email_recipients", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
    )
    op.add_column("ticket_messages", sa.Column("email_auth", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))


def downgrade() -> None:
    with op.batch_alter_table("ticket_messages") as batch:
        batch.drop_column("email_auth")
        batch.drop_column("email_recipients")
        batch.drop_column("email_from")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("requester_verified")
