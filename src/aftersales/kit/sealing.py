"""Secrets kept encrypted at rest, for short secrets that must be read back (a webhook's shared HMAC
key cannot be hashed: it has to sign). Fernet from the `cryptography` package (AES-128-CBC with
HMAC-SHA256, authenticated), under a key derived per purpose with HKDF from the install's secret
key: see docs/decisions/0040-h19orders-integrations.md."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class SealError(ValueError):
    """A sealed value that was tampered with, or sealed under another key."""


def _fernet(key: bytes, purpose: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"aftersales-seal", info=purpose.encode()).derive(key)
    return Fernet(base64.urlsafe_b64encode(derived))


def seal(plain: str, key: bytes, purpose: str) -> str:
    return _fernet(key, purpose).encrypt(plain.encode()).decode()


def unseal(sealed: str, key: bytes, purpose: str) -> str:
    try:
        return _fernet(key, purpose).decrypt(sealed.encode()).decode()
    except (InvalidToken, ValueError) as exc:
        raise SealError("sealed under another key, or altered") from exc
