"""The assistant learns from hand-offs: a customer's consent per conversation, and the labelled
examples (a message, the bot's intent, a person's intent) that `aftersales assistant retrain`
trains on once approved.

Revision ID: h20learn_0001
Revises: h18_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import aftersales.db.base

revision = "h20learn_0001"
down_revision = "h18_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chat_learning_consents",
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("consented", sa.Boolean(), nullable=False),
        sa.Column("decided_at", aftersales.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_chat_learning_consents_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_chat_learning_consents")),
    )
    op.create_table(
        "chat_learning_examples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("predicted_intent", sa.String(length=32), nullable=False),
        sa.Column("corrected_intent", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("consent_at", aftersales.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("labelled_by", sa.String(length=120), nullable=False),
        sa.Column("labelled_at", aftersales.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by", sa.String(length=120), nullable=False),
        sa.Column("reviewed_at", aftersales.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", aftersales.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_chat_learning_examples_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["chat_messages.id"],
            name=op.f("fk_chat_learning_examples_message_id_chat_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_learning_examples")),
        sa.UniqueConstraint("message_id", name="uq_chat_learning_examples_message"),
    )
    with op.batch_alter_table("chat_learning_examples", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_chat_learning_examples_conversation_id"), ["conversation_id"], unique=False
        )
        batch_op.create_index("ix_chat_learning_examples_status", ["status", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("chat_learning_examples", schema=None) as batch_op:
        batch_op.drop_index("ix_chat_learning_examples_status")
        batch_op.drop_index(batch_op.f("ix_chat_learning_examples_conversation_id"))
    op.drop_table("chat_learning_examples")
    op.drop_table("chat_learning_consents")
