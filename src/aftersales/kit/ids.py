"""Identifiers and secrets."""

from __future__ import annotations

import hashlib
import secrets


def new_token(prefix: str = "as") -> str:
    """A high-entropy bearer token: prefix, underscore, 43 url-safe characters."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def token_digest(token: str) -> str:
    """Tokens carry 256 bits of entropy, so a fast hash is enough to store them."""
    return hashlib.sha256(token.encode()).hexdigest()


def short_code(n_bytes: int = 6) -> str:
    return secrets.token_hex(n_bytes)
