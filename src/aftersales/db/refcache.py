"""Reference data that rarely changes (SLA policies, calendars, public days), read once per process
and kept until an administrator changes it, in this process or any other.

Each area has a version row in `reference_versions`. Whenever a session flushes a new, changed or
deleted row of a watched model, the area's version changes in the same transaction (so it commits
or rolls back with the change itself). A version is a fresh random number, not a counter: a
version never comes back, even when the row is deleted and made again (a restored backup, a test
that empties every table), so a value cached under an old version is never taken for current.
A reader reads all versions once per transaction (one small statement) and reuses its cached value
while the version it was loaded under is still current.

Why this is correct across processes: the version is read before the data. A value loaded under
version V is at least as new as V (at worst newer, which costs one extra reload later). A session
that itself changed an area reads that area around the cache (its uncommitted rows are its own),
and never stores what it read. Writes that bypass the ORM's unit of work (bulk UPDATE/DELETE
statements or raw SQL on a watched table) are not seen: change reference data through the ORM.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import BigInteger, String, Table, event, insert, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from aftersales.db.base import Base

T = TypeVar("T")

_VERSIONS = "refcache_versions"  # session.info: area -> version read in this transaction
_CHANGED = "refcache_changed"  # session.info: areas this transaction changed


class ReferenceVersion(Base):
    """The version of an area of reference data: changes whenever the area's rows change."""

    __tablename__ = "reference_versions"

    area: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


_areas: dict[type, str] = {}
_values: dict[tuple[str, str], tuple[int, Any]] = {}
_lock = threading.Lock()
_listening = False


def watch(area: str, *models: type) -> None:
    """Writes to these models change `area` (called at import by the context that owns them)."""
    global _listening
    with _lock:
        for model in models:
            _areas[model] = area
        if not _listening:
            event.listen(Session, "before_flush", _note_changes)
            event.listen(Session, "after_transaction_end", _forget)
            _listening = True


def cached(session: Session, area: str, name: str, load: Callable[[Session], T]) -> T:
    """`load(session)`'s value, from this process's cache while `area` has not changed since it was
    loaded. The value is shared between threads: return immutable values only."""
    if area in session.info.get(_CHANGED, ()):
        return load(session)
    version = _versions(session).get(area, 0)
    key = (area, name)
    hit = _values.get(key)
    if hit is not None and hit[0] == version:
        return hit[1]
    value = load(session)
    with _lock:  # a slower reader may store an older value: the next reader sees its version and reloads
        _values[key] = (version, value)
    return value


def clear() -> None:
    """Forget every cached value (tests that change reference data behind the ORM's back)."""
    with _lock:
        _values.clear()


def _versions(session: Session) -> dict[str, int]:
    versions: dict[str, int] | None = session.info.get(_VERSIONS)
    if versions is None:
        rows = session.execute(select(ReferenceVersion.area, ReferenceVersion.version))
        versions = {area: version for area, version in rows}
        session.info[_VERSIONS] = versions
    return versions


def _note_changes(session: Session, _context: Any, _instances: Any) -> None:
    changed = {
        area
        for rows in (session.new, session.dirty, session.deleted)
        for obj in rows
        if (area := _areas.get(type(obj))) is not None
    }
    mine: set[str] = session.info.setdefault(_CHANGED, set())
    if not changed - mine:  # nearly every flush: nothing watched, or already counted in this transaction
        return
    table = ReferenceVersion.__table__
    assert isinstance(table, Table)
    connection = session.connection()
    for area in changed - mine:
        version = secrets.randbits(62) + 1
        bumped = connection.execute(update(table).where(table.c.area == area).values(version=version)).rowcount
        if not bumped:
            connection.execute(insert(table).values(area=area, version=version))
        mine.add(area)


def _forget(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the outermost transaction ended: the next one reads afresh
        session.info.pop(_VERSIONS, None)
        session.info.pop(_CHANGED, None)
