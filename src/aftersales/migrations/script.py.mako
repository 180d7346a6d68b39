"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}
"""

# Frozen history: migrations repeat each other's shape on purpose and share no helpers with each
# other, so what a migration does cannot change after it ran.

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import aftersales.db.base
${imports if imports else ""}

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
