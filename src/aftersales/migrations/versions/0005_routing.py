"""routing: skill groups, agent profiles, memberships, routed work and its transfer history

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-23 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import aftersales.db.base

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "routing_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name_zh", sa.String(length=120), nullable=False),
        sa.Column("name_en", sa.String(length=120), nullable=False),
        sa.Column("tier", sa.String(length=4), nullable=False),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=True),
        sa.Column("escalation_key", sa.String(length=64), nullable=True),
        sa.Column("created_at", aftersales.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_groups")),
        sa.UniqueConstraint("key", name=op.f("uq_routing_groups_key")),
    )
    with op.batch_alter_table("routing_groups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_routing_groups_merchant_id"), ["merchant_id"], unique=False)

    op.create_table(
        "routing_agents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=40), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column("tier", sa.String(length=4), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("status_changed_at", aftersales.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("max_chats", sa.Integer(), nullable=False),
        sa.Column("max_tickets", sa.Integer(), nullable=False),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("last_assigned_at", aftersales.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("assigned_total", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_routing_agents_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_agents")),
        sa.UniqueConstraint("user_id", name=op.f("uq_routing_agents_user_id")),
    )

    op.create_table(
        "routing_memberships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["routing_agents.id"],
            name=op.f("fk_routing_memberships_agent_id_routing_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["routing_groups.id"],
            name=op.f("fk_routing_memberships_group_id_routing_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_memberships")),
        sa.UniqueConstraint("group_id", "agent_id", name=op.f("uq_routing_memberships_group_id_agent_id")),
    )
    with op.batch_alter_table("routing_memberships", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_routing_memberships_agent_id"), ["agent_id"], unique=False)

    op.create_table(
        "routing_work",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("group_key", sa.String(length=64), nullable=False),
        sa.Column("required_skills", sa.JSON(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("vip", sa.Boolean(), nullable=False),
        sa.Column("order_value", aftersales.db.base.Amount(precision=14, scale=2), nullable=True),
        sa.Column("merchant_id", sa.Integer(), nullable=True),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("problem_type", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("enqueued_at", aftersales.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("assigned_to", sa.Integer(), nullable=True),
        sa.Column("assigned_at", aftersales.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_at", aftersales.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("passed_over", sa.JSON(), nullable=False),
        sa.Column("assignments", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_work")),
        sa.UniqueConstraint("kind", "ref", name=op.f("uq_routing_work_kind_ref")),
    )
    with op.batch_alter_table("routing_work", schema=None) as batch_op:
        batch_op.create_index("ix_routing_work_state_group", ["state", "group_key"], unique=False)
        batch_op.create_index("ix_routing_work_assignee_state", ["assigned_to", "state"], unique=False)

    op.create_table(
        "routing_transfers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_id", sa.Integer(), nullable=False),
        sa.Column("move", sa.String(length=12), nullable=False),
        sa.Column("from_user_id", sa.Integer(), nullable=True),
        sa.Column("to_user_id", sa.Integer(), nullable=True),
        sa.Column("from_group", sa.String(length=64), nullable=False),
        sa.Column("to_group", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("at", aftersales.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["work_id"], ["routing_work.id"], name=op.f("fk_routing_transfers_work_id_routing_work"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_transfers")),
    )
    with op.batch_alter_table("routing_transfers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_routing_transfers_work_id"), ["work_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("routing_transfers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_routing_transfers_work_id"))
    op.drop_table("routing_transfers")
    with op.batch_alter_table("routing_work", schema=None) as batch_op:
        batch_op.drop_index("ix_routing_work_assignee_state")
        batch_op.drop_index("ix_routing_work_state_group")
    op.drop_table("routing_work")
    with op.batch_alter_table("routing_memberships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_routing_memberships_agent_id"))
    op.drop_table("routing_memberships")
    op.drop_table("routing_agents")
    with op.batch_alter_table("routing_groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_routing_groups_merchant_id"))
    op.drop_table("routing_groups")
