"""Secrets an install makes for itself: random values kept in one JSON file readable by its owner
only (0600), made once and then read by every process (web, worker, mail-in) of the install."""

from __future__ import annotations

import fcntl
import json
import os
import secrets
from collections.abc import Iterable
from pathlib import Path


def _read(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    values = json.loads(text)
    if not isinstance(values, dict) or not all(isinstance(v, str) and v for v in values.values()):
        raise ValueError(f"{path} is not a JSON object of secrets; move it away to make new ones")
    if os.name == "posix" and path.stat().st_mode & 0o077:
        path.chmod(0o600)  # copied or restored with looser rights: only the owner may read it
    return values


def load_or_create(path: Path, names: Iterable[str]) -> dict[str, str]:
    """The secrets named, from `path`; those missing are made (48 random bytes, URL-safe) and added.

    Processes starting together take a lock on a side file, so they all end up with the same values;
    the file is replaced whole (written aside, then renamed), so no reader sees half of it."""
    wanted = list(names)
    known = _read(path)
    if all(name in known for name in wanted):
        return known
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        known = _read(path)
        missing = [name for name in wanted if name not in known]
        if missing:
            known |= {name: secrets.token_urlsafe(48) for name in missing}
            aside = path.with_name(f".{path.name}.{os.getpid()}")
            fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(known, out, indent=2, sort_keys=True)
                out.flush()
                os.fsync(out.fileno())
            os.replace(aside, path)
    return known
