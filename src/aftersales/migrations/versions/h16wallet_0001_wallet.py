"""The wallet: customers' coupons and store credit, declared force-majeure periods, the simulated
coupon issuer's ledger; and the VIP members' extra coupon switched back on, now that the wallet
issues it (h12money_0001 had switched it off because nothing did).

Revision ID: h16wallet_0001
Revises: h19orders_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import aftersales.db.base
from aftersales.db.base import UTCDateTime
from aftersales.kit import clock

revision = "h16wallet_0001"
down_revision = "h19orders_0002"
branch_labels = None
depends_on = None

BY = "migration h16wallet_0001"
# As src/aftersales/rules/policies/defaults.yaml ships it now.
VIP_COUPON = ("vip_extra_coupon", "会员售后加赠优惠券", "VIP members get an extra coupon")

policies = sa.table(
    "policies",
    sa.column("key", sa.String),
    sa.column("name_zh", sa.String),
    sa.column("name_en", sa.String),
    sa.column("enabled", sa.Boolean),
    sa.column("version", sa.Integer),
    sa.column("updated_at", UTCDateTime(timezone=True)),
    sa.column("updated_by", sa.String),
)


def upgrade() -> None:
    op.create_table(
        "coupon_issuer_sim",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=120), nullable=False),
        sa.Column("customer_ref", sa.String(length=64), nullable=False),
        sa.Column("value", aftersales.db.base.Amount(precision=14, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("expires_at", aftersales.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("issued_at", aftersales.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupon_issuer_sim")),
        sa.UniqueConstraint("code", name=op.f("uq_coupon_issuer_sim_code")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_coupon_issuer_sim_idempotency_key")),
    )
    op.create_table(
        "wallet_force_majeure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=100), nullable=False),
        sa.Column("starts_at", aftersales.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", aftersales.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("declared_by", sa.String(length=120), nullable=False),
        sa.Column("declared_at", aftersales.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_force_majeure")),
    )
    with op.batch_alter_table("wallet_force_majeure", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wallet_force_majeure_starts_at"), ["starts_at"], unique=False)
    op.create_table(
        "wallet_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("value", aftersales.db.base.Amount(precision=14, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("issued_at", aftersales.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", aftersales.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", aftersales.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("source_kind", sa.String(length=16), nullable=False),
        sa.Column("source_ref", sa.String(length=120), nullable=False),
        sa.Column("trigger", sa.String(length=24), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("order_number", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_wallet_entries_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_entries")),
        sa.UniqueConstraint("code", name=op.f("uq_wallet_entries_code")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_wallet_entries_idempotency_key")),
    )
    with op.batch_alter_table("wallet_entries", schema=None) as batch_op:
        batch_op.create_index("ix_wallet_entries_customer", ["customer_id", "issued_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_wallet_entries_order_number"), ["order_number"], unique=False)

    key, name_zh, name_en = VIP_COUPON
    op.execute(
        policies.update()
        .where(policies.c.key == key, sa.or_(policies.c.enabled.is_(False), policies.c.name_en != name_en))
        .values(
            enabled=True,
            name_zh=name_zh,
            name_en=name_en,
            version=policies.c.version + 1,
            updated_at=clock.now(),
            updated_by=BY,
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("wallet_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wallet_entries_order_number"))
        batch_op.drop_index("ix_wallet_entries_customer")
    op.drop_table("wallet_entries")
    with op.batch_alter_table("wallet_force_majeure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wallet_force_majeure_starts_at"))
    op.drop_table("wallet_force_majeure")
    op.drop_table("coupon_issuer_sim")
    # Nothing issues the VIP coupon without the wallet: switch it off again.
    key, _, _ = VIP_COUPON
    op.execute(policies.update().where(policies.c.key == key).values(enabled=False))
