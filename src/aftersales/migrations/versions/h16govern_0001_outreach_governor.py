"""The outreach governor: governed messages and every decision on them, the buyers' opt-outs per
class × channel, proof of marketing consent, agents' contacts heard from tickets, and outgoing SMS.

Revision ID: h16govern_0001
Revises: h12money_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from aftersales.db.base import UTCDateTime

revision = "h16govern_0001"
down_revision = "h12money_0001"
branch_labels = None
depends_on = None


def _customer_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f(f"fk_{table}_customer_id_customers"))


def upgrade() -> None:
    op.create_table(
        "outreach_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("message_class", sa.String(length=24), nullable=False),
        sa.Column("idempotency_key", sa.String(length=160), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("order_number", sa.String(length=64), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("channels", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("send_after", UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("inbox_id", sa.Integer(), nullable=True),
        sa.Column("email_id", sa.Integer(), nullable=True),
        _customer_fk("outreach_messages"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outreach_messages")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_outreach_messages_idempotency_key")),
    )
    op.create_index("ix_outreach_customer_class_sent", "outreach_messages", ["customer_id", "message_class", "sent_at"])
    op.create_index("ix_outreach_status_send_after", "outreach_messages", ["status", "send_after"])
    op.create_index("ix_outreach_customer_status", "outreach_messages", ["customer_id", "message_class", "status"])
    op.create_table(
        "outreach_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=True),
        sa.Column("message_class", sa.String(length=24), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("decided_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["outreach_messages.id"], name=op.f("fk_outreach_decisions_message_id_outreach_messages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outreach_decisions")),
    )
    op.create_index("ix_outreach_decisions_customer_at", "outreach_decisions", ["customer_id", "decided_at"])
    op.create_index("ix_outreach_decisions_merchant_at", "outreach_decisions", ["merchant_id", "decided_at"])
    op.create_table(
        "outreach_opt_outs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("message_class", sa.String(length=24), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        _customer_fk("outreach_opt_outs"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outreach_opt_outs")),
    )
    op.create_index(
        "ix_outreach_opt_outs_customer", "outreach_opt_outs", ["customer_id", "message_class", "channel", "id"]
    )
    op.create_table(
        "marketing_consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("wording_version", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("recorded_by", sa.String(length=120), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        _customer_fk("marketing_consents"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marketing_consents")),
    )
    op.create_index("ix_marketing_consents_customer", "marketing_consents", ["customer_id", "channel", "id"])
    op.create_table(
        "outreach_agent_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("order_number", sa.String(length=64), nullable=False),
        sa.Column("contacted_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("idempotency_key", sa.String(length=160), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outreach_agent_contacts")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_outreach_agent_contacts_idempotency_key")),
    )
    op.create_index(
        "ix_outreach_agent_contacts_order",
        "outreach_agent_contacts",
        ["customer_id", "order_number", "contacted_at"],
    )
    op.create_table(
        "sms_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("to_phone", sa.String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("message_class", sa.String(length=24), nullable=False),
        sa.Column("idempotency_key", sa.String(length=160), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_messages")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_sms_messages_idempotency_key")),
    )
    op.create_index("ix_sms_status_next", "sms_messages", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_table("sms_messages")
    op.drop_table("outreach_agent_contacts")
    op.drop_table("marketing_consents")
    op.drop_table("outreach_opt_outs")
    op.drop_table("outreach_decisions")
    op.drop_table("outreach_messages")
