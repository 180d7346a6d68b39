"""Identifiers and secrets."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from aftersales.kit.errors import Invalid


def new_token(prefix: str = "as") -> str:
    """A high-entropy bearer token: prefix, underscore, 43 url-safe characters."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def token_digest(token: str) -> str:
    """Tokens carry 256 bits of entropy, so a fast hash is enough to store them."""
    return hashlib.sha256(token.encode()).hexdigest()


def short_code(n_bytes: int = 6) -> str:
    return secrets.token_hex(n_bytes)


def request_fingerprint(operation: str, payload: Any) -> str:
    """A digest of one request's meaning, stored with an idempotency key: the same content in
    another key order, or an amount written 10 or 10.00, gives the same digest."""

    def plain(value: object) -> object:
        if isinstance(value, Decimal):
            return str(value.normalize())
        if isinstance(value, datetime | date):
            return value.isoformat()
        raise TypeError(f"cannot fingerprint {type(value).__name__}")

    canonical = json.dumps([operation, payload], sort_keys=True, separators=(",", ":"), default=plain)
    return hashlib.sha256(canonical.encode()).hexdigest()


def refuse_other_request(idempotency_key: str, stored: str | None, fingerprint: str, made: str) -> None:
    """The key's first request made `made` and left `stored`: a request with other content under the
    same key is another request, refused rather than answered with the first result (which would
    silently drop what the caller meant). Rows from before fingerprints were kept (None) pass."""
    if stored not in (None, fingerprint):
        raise Invalid(
            f"The Idempotency-Key '{idempotency_key}' was already used for {made} with different content. "
            "Use a new key for a new request, or resend the identical request to get that result."
        )
