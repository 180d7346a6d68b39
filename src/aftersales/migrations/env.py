"""Alembic environment: the database URL comes from settings unless the caller passes one.

The revisions under versions/ repeat the same table shapes (columns, indexes, foreign keys, the
upgrade/downgrade header) deliberately: each revision is a record of what already ran on real
databases and is never edited, so none of them may call a helper that a later change could alter.
"""

from __future__ import annotations

from alembic import context

from aftersales.config import get_settings
from aftersales.db.engine import make_engine
from aftersales.models import metadata as target_metadata

config = context.config


def _url() -> str:
    return config.attributes.get("database_url") or get_settings().database_url


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(_url())
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
