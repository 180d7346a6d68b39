"""Test fixtures: a real database per run (SQLite file or a fresh PostgreSQL database), migrated
with Alembic, emptied between tests; the app over HTTP; factories for users and orders.

AFTERSALES_TEST_DB=sqlite|postgresql picks the database; AFTERSALES_TEST_PG_URL names the
PostgreSQL server (scripts/ensure-postgres.sh provides one).
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

# Before any aftersales import: the queue runs tasks inline and settings come from here.
os.environ["AFTERSALES_QUEUE_IMMEDIATE"] = "true"
os.environ["AFTERSALES_ENV"] = "test"
os.environ["AFTERSALES_LOG_JSON"] = "false"
os.environ["AFTERSALES_LOG_LEVEL"] = "WARNING"
os.environ.setdefault("AFTERSALES_SECRET_KEY", "test-secret-key-that-is-long-enough-0123456789")
os.environ.setdefault("AFTERSALES_REFUND_GATEWAY_CALLBACK_SECRET", "test-callback-secret-long-enough-0123456789")
# Whatever a test install makes for itself stays out of the working directory.
os.environ.setdefault("AFTERSALES_DATA_DIR", tempfile.mkdtemp(prefix="aftersales-test-data-"))

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from aftersales.config import Settings, reset_settings
from aftersales.db import refcache
from aftersales.db.engine import dispose_all
from aftersales.db.migrate import upgrade
from aftersales.db.uow import Database
from aftersales.main import create_app
from aftersales.models import metadata

from .factories import Factory

DB_KIND = os.environ.get("AFTERSALES_TEST_DB", "sqlite")
PG_URL = os.environ.get("AFTERSALES_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _tables_children_first() -> list[str]:
    return [table.name for table in reversed(metadata.sorted_tables)]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser journeys run last: Playwright's sync API keeps an event loop running in the main
    thread for the rest of the session, which would break later tests that call asyncio.run()."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


def pytest_report_header() -> str:
    return f"aftersales test database: {DB_KIND}"


@pytest.fixture(autouse=True)
def relays_answering(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no memory of a relay that did not answer in an earlier test."""
    from aftersales.notifications import mailer

    monkeypatch.setattr(mailer, "relays", mailer.RelayWatch())


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if DB_KIND == "sqlite":
        path = Path(tmp_path_factory.mktemp("db")) / "aftersales.db"
        url = f"sqlite:///{path}"
        upgrade(url)
        yield url
        return
    if DB_KIND != "postgresql":
        raise pytest.UsageError(f"AFTERSALES_TEST_DB must be sqlite or postgresql, not {DB_KIND!r}")
    name = f"aftersales_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        dispose_all()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def settings(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("AFTERSALES_DATABASE_URL", database_url)
    reset_settings()
    yield Settings(database_url=database_url, env="test", queue_immediate=True, log_json=False)
    reset_settings()


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database(settings.database_url)
    yield database
    with database.write() as uow:
        if database.is_sqlite:
            for table in _tables_children_first():
                uow.session.execute(text(f"DELETE FROM {table}"))
        else:
            uow.session.execute(text(f"TRUNCATE {', '.join(_tables_children_first())} RESTART IDENTITY CASCADE"))
        uow.commit()
    refcache.clear()  # the tables were emptied behind the ORM's back


@pytest.fixture
def app(settings: Settings, db: Database):  # type: ignore[no-untyped-def]
    return create_app(settings)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, base_url="http://127.0.0.1") as test_client:
        yield test_client


@pytest.fixture
def factory(db: Database) -> Factory:
    return Factory(db)
