"""API tokens carry scopes; customers remember which merchant's feed created them.

Revision ID: 0011
Revises: 0010

Tokens issued before scopes existed get every scope their user's role may hold, so running
integrations keep working after the upgrade; the operator narrows them by issuing new tokens
with `aftersales token create --scope …` and revoking the old ones. The table below is a copy of
identity.domain.SCOPE_ROLES as it was when scopes came, so this migration never changes meaning.

Existing customers get no owner (the platform's): from now on a merchant's order feed may attach
orders to them but no longer rewrite their name, phone or email.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_STAFF = ["agent_t1", "agent_t2", "supervisor", "admin"]
_EVERYONE = [*_STAFF, "customer", "merchant", "warehouse", "rider", "arbitrator", "integration"]
SCOPE_ROLES: dict[str, list[str]] = {
    "orders:read": _EVERYONE,
    "orders:write": ["integration", "admin"],
    "orders:act": [*_STAFF, "customer", "merchant", "warehouse"],
    "logistics:write": ["integration", "admin", "rider", "warehouse"],
    "cases:read": [*_STAFF, "customer", "integration", "merchant", "warehouse", "arbitrator"],
    "cases:write": [*_STAFF, "customer", "integration", "merchant", "warehouse", "arbitrator"],
    "tickets:read": [*_STAFF, "customer", "integration", "merchant", "arbitrator"],
    "tickets:write": [*_STAFF, "customer", "integration", "merchant", "arbitrator"],
    "knowledge:read": _EVERYONE,
    "inbox:read": ["customer"],
    "inbox:write": ["customer"],
    "policies:read": _STAFF,
    "policies:write": ["admin"],
    "users:read": ["admin"],
}


def upgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scopes", sa.String(length=400), nullable=False, server_default=""))
    tokens = sa.table("api_tokens", sa.column("user_id", sa.Integer()), sa.column("scopes", sa.String()))
    users = sa.table("users", sa.column("id", sa.Integer()), sa.column("role", sa.String()))
    for role in _EVERYONE:
        granted = " ".join(sorted(scope for scope, roles in SCOPE_ROLES.items() if role in roles))
        op.execute(
            tokens.update()
            .where(tokens.c.user_id.in_(sa.select(users.c.id).where(users.c.role == role)))
            .values(scopes=granted)
        )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner_merchant_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_customers_owner_merchant_id_merchants"), "merchants", ["owner_merchant_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_customers_owner_merchant_id_merchants"), type_="foreignkey")
        batch_op.drop_column("owner_merchant_id")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("scopes")
