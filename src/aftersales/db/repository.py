"""What every context's repository starts from: the caller's session (the unit of work owns the
transaction, a repository never commits) and a new row added to it."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Integer, Select, cast, func
from sqlalchemy.orm import Session

T = TypeVar("T", bound=tuple[Any, ...])


class Repository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, obj: object) -> None:
        self.session.add(obj)


def locked(stmt: Select[T], of: type) -> Select[T]:
    """The row stays locked until the transaction ends (PostgreSQL; SQLite has one writer at a time),
    and is read afresh even if the session held it already."""
    return stmt.with_for_update(of=of).execution_options(populate_existing=True)


def interval_index(session: Session, column: Any, since: datetime, seconds: int) -> ColumnElement[int]:
    """The number of whole `seconds`-long intervals between `since` and a timestamp column, computed
    by the database, so counting per interval groups in SQL instead of fetching every row. SQLite
    keeps UTC text (its clock rounds to the millisecond); PostgreSQL a timestamptz."""
    start = since.timestamp()
    if session.get_bind().dialect.name == "sqlite":
        # integer division: the column is never before `since` in these queries, so it floors
        return cast((cast(func.strftime("%s", column), Integer) - int(start)) / seconds, Integer)
    return cast(func.floor((func.extract("epoch", column) - start) / seconds), Integer)
