"""Unit of work: one transaction per use case; services never commit themselves."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker

from aftersales.config import get_settings
from aftersales.db.engine import SQLITE_WRITE_LOCK, session_factory


class UnitOfWork:
    """Opens a session; `commit()` makes the work durable, leaving without it rolls back.

    On SQLite a writing unit of work holds the process-wide write lock for its whole
    transaction, so writers queue in-process instead of spinning on SQLite's file lock.
    """

    def __init__(self, factory: sessionmaker[Session], *, write: bool = True, sqlite: bool = False) -> None:
        self._factory = factory
        self._write = write
        self._sqlite = sqlite
        self._locked = False
        self.session: Session

    def __enter__(self) -> UnitOfWork:
        if self._write and self._sqlite:
            SQLITE_WRITE_LOCK.acquire()
            self._locked = True
        self.session = self._factory()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            # close() rolls back whatever was not committed and detaches objects without
            # expiring them, so results read inside the unit of work stay usable after it.
            self.session.close()
        finally:
            if self._locked:
                SQLITE_WRITE_LOCK.release()
                self._locked = False

    def commit(self) -> None:
        self.session.commit()

    def flush(self) -> None:
        self.session.flush()


class Database:
    """Hands out units of work for one database URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.factory = session_factory(url)

    def write(self) -> UnitOfWork:
        return UnitOfWork(self.factory, write=True, sqlite=self.is_sqlite)

    def read(self) -> UnitOfWork:
        return UnitOfWork(self.factory, write=False, sqlite=self.is_sqlite)


def configured_database(*, make_data_dirs: bool = False) -> Database:
    """The database the settings name, for work that runs outside a request (outbox handlers,
    queued tasks, the command line); pages get theirs from the app (web.deps.get_db).
    `make_data_dirs` creates the SQLite file's folder first (the CLI may run before anything else)."""
    settings = get_settings()
    if make_data_dirs:
        settings.ensure_data_dirs()
    return Database(settings.database_url)
