"""HTTP-test settings: cheap password hashing, so dozens of accounts and sign-ins stay fast."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from aftersales.identity import service as identity_service


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    # argon2 at production cost takes ~0.15 s per hash and per check; these tests are about HTTP,
    # not about the hash's cost, so they use the same algorithm with the smallest parameters.
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(identity_service, "_hasher", cheap, raising=False)
