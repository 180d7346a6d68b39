"""What every context's repository starts from: the caller's session (the unit of work owns the
transaction, a repository never commits) and a new row added to it."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select
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
