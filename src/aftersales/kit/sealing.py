"""Secrets kept encrypted at rest with the standard library only: HMAC-SHA256 as a pseudo-random
function in counter mode for the key stream, and HMAC-SHA256 over nonce and ciphertext as the tag
(encrypt-then-MAC, separate keys derived from one). For short secrets that must be read back
(a webhook's shared HMAC key cannot be hashed: it has to sign). docs/decisions/0040-h19orders-…"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

VERSION = b"s1"
_NONCE = 16
_TAG = 32


class SealError(ValueError):
    """A sealed value that was tampered with, or sealed under another key."""


def _keys(key: bytes, purpose: str) -> tuple[bytes, bytes]:
    root = hmac.new(key, b"aftersales-seal:" + purpose.encode(), hashlib.sha256).digest()
    return (
        hmac.new(root, b"encrypt", hashlib.sha256).digest(),
        hmac.new(root, b"authenticate", hashlib.sha256).digest(),
    )


def _stream(key: bytes, nonce: bytes, length: int) -> bytes:
    blocks = (length + 31) // 32
    return b"".join(hmac.new(key, nonce + i.to_bytes(8, "big"), hashlib.sha256).digest() for i in range(blocks))[
        :length
    ]


def seal(plain: str, key: bytes, purpose: str) -> str:
    enc, mac = _keys(key, purpose)
    nonce = secrets.token_bytes(_NONCE)
    data = plain.encode()
    cipher = bytes(a ^ b for a, b in zip(data, _stream(enc, nonce, len(data)), strict=True))
    tag = hmac.new(mac, VERSION + nonce + cipher, hashlib.sha256).digest()
    return (VERSION + b"." + base64.urlsafe_b64encode(nonce + cipher + tag)).decode()


def unseal(sealed: str, key: bytes, purpose: str) -> str:
    enc, mac = _keys(key, purpose)
    version, _, body = sealed.encode().partition(b".")
    try:
        raw = base64.urlsafe_b64decode(body)
    except ValueError as exc:
        raise SealError("not a sealed value") from exc
    if version != VERSION or len(raw) < _NONCE + _TAG:
        raise SealError("not a sealed value")
    nonce, cipher, tag = raw[:_NONCE], raw[_NONCE:-_TAG], raw[-_TAG:]
    if not hmac.compare_digest(tag, hmac.new(mac, VERSION + nonce + cipher, hashlib.sha256).digest()):
        raise SealError("sealed under another key, or altered")
    return bytes(a ^ b for a, b in zip(cipher, _stream(enc, nonce, len(cipher)), strict=True)).decode()
