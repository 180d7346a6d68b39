"""Fixtures for integration tests: cheap password hashing and an outbox nobody drains behind our back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from sqlalchemy import event
from sqlalchemy.orm import Session

from aftersales.identity import service as identity_service
from aftersales.worker import wiring


@pytest.fixture(autouse=True)
def fast_password_hashing(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 with production parameters takes ~0.5 s per hash on a small CI box. Tests swap in the
    same algorithm with the smallest work factor; the code paths are unchanged. A test that asks for
    the `real_hashing` fixture keeps the production parameters."""
    if "real_hashing" in request.fixturenames:
        return
    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(identity_service, "_hasher", hasher)
    monkeypatch.setattr(identity_service, "_DUMMY_HASH", hasher.hash("not-a-real-password"))


@pytest.fixture
def real_hashing() -> None:
    """Marker fixture: keep production Argon2 parameters for this test."""


@pytest.fixture
def no_outbox_kick() -> Iterator[None]:
    """Once the web app has been built in this process (HTTP tests), every commit that writes an
    outbox row drains the outbox inline. Outbox tests drain by hand, so they switch that off."""
    hooks = [("after_flush", wiring._after_flush), ("after_commit", wiring._after_commit)]
    connected = [(name, fn) for name, fn in hooks if event.contains(Session, name, fn)]
    for name, fn in connected:
        event.remove(Session, name, fn)
    try:
        yield
    finally:
        for name, fn in connected:
            event.listen(Session, name, fn)
