"""The VIP benefit policies (waived return shipping, an extra coupon, an extended warranty) are
switched off in databases created before the shipped policies were: nothing carries those offers
out, so an enabled one promises what never happens. `load_defaults` only adds missing policies,
so without this step older databases would keep promising them. Their names say so, as the
shipped file does. Each changed row gets a new version, so an editor open on it gets a conflict.

Revision ID: h12money_0001
Revises: h15_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from aftersales.db.base import UTCDateTime
from aftersales.kit import clock

revision = "h12money_0001"
down_revision = "h15_0001"
branch_labels = None
depends_on = None

# key → (name_zh, name_en), as src/aftersales/rules/policies/defaults.yaml ships them now.
NOT_CARRIED_OUT = {
    "vip_waived_return_shipping": (
        "会员免退货运费（未实施）",
        "VIP members get return shipping waived (not carried out)",
    ),
    "vip_extra_coupon": ("会员售后加赠优惠券（未实施）", "VIP members get an extra coupon (not carried out)"),
    "vip_appliance_extended_warranty": (
        "会员家电延长保修（未实施）",
        "VIP members get an extended warranty on home appliances (not carried out)",
    ),
}
BY = "migration h12money_0001"

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
    now = clock.now()
    for key, (name_zh, name_en) in NOT_CARRIED_OUT.items():
        op.execute(
            policies.update()
            .where(policies.c.key == key, sa.or_(policies.c.enabled.is_(True), policies.c.name_en != name_en))
            .values(
                enabled=False,
                name_zh=name_zh,
                name_en=name_en,
                version=policies.c.version + 1,
                updated_at=now,
                updated_by=BY,
            )
        )


def downgrade() -> None:
    # Nothing to undo: switching the offers back on would bring back promises nobody keeps.
    pass
