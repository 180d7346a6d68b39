"""Each platform's webhook signature scheme, and secrets sealed at rest, without a database."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from aftersales.integrations.domain import Platform, event_id, is_ping, secret_hint, verify
from aftersales.kit import sealing

NOW = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)
BODY = b'{"id": 1}'
SECRET = "s3cret-s3cret-s3cret"


def b64(key: bytes, message: bytes) -> str:
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


@pytest.mark.parametrize(
    ("platform", "header", "value"),
    [
        (Platform.SHOPIFY, "x-shopify-hmac-sha256", b64(SECRET.encode(), BODY)),
        (Platform.WOOCOMMERCE, "x-wc-webhook-signature", b64(SECRET.encode(), BODY)),
        (Platform.SALEOR, "saleor-signature", hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()),
    ],
)
def test_a_body_signed_with_the_secret_is_accepted_and_any_change_refused(
    platform: Platform, header: str, value: str
) -> None:
    assert verify(platform, SECRET, {header: value}, BODY, NOW).ok
    assert not verify(platform, SECRET, {header: value}, BODY + b" ", NOW).ok
    assert not verify(platform, "other-secret", {header: value}, BODY, NOW).ok
    assert not verify(platform, SECRET, {}, BODY, NOW).ok
    assert not verify(platform, "", {header: value}, BODY, NOW).ok


def _standard(secret_key: bytes, stamp: datetime, msg: str = "msg_1") -> dict[str, str]:
    ts = str(int(stamp.timestamp()))
    return {
        "webhook-id": msg,
        "webhook-timestamp": ts,
        "webhook-signature": "v1,bm9wZQ== v1," + b64(secret_key, f"{msg}.{ts}.".encode() + BODY),
    }


def test_bigcommerce_standard_webhook_signatures() -> None:
    assert verify(Platform.BIGCOMMERCE, SECRET, _standard(SECRET.encode(), NOW), BODY, NOW).ok
    whsec = "whsec_" + base64.b64encode(b"raw-key-bytes").decode()
    assert verify(Platform.BIGCOMMERCE, whsec, _standard(b"raw-key-bytes", NOW), BODY, NOW).ok
    late = _standard(SECRET.encode(), NOW - timedelta(minutes=6))
    assert "5 minutes" in verify(Platform.BIGCOMMERCE, SECRET, late, BODY, NOW).reason
    assert not verify(Platform.BIGCOMMERCE, SECRET, _standard(b"other", NOW), BODY, NOW).ok
    assert not verify(Platform.BIGCOMMERCE, SECRET, {}, BODY, NOW).ok


def test_magento_sends_no_webhooks_to_verify() -> None:
    assert not verify(Platform.MAGENTO2, SECRET, {}, BODY, NOW).ok


def test_event_ids_from_the_platforms_header_else_the_body() -> None:
    assert event_id(Platform.SHOPIFY, {"x-shopify-webhook-id": "abc"}, BODY) == "x-shopify-webhook-id:abc"
    assert event_id(Platform.SHOPIFY, {"x-shopify-event-id": "e1", "x-shopify-webhook-id": "abc"}, BODY).endswith("e1")
    assert event_id(Platform.SALEOR, {}, BODY) == event_id(Platform.SALEOR, {}, BODY)
    assert event_id(Platform.SALEOR, {}, BODY) != event_id(Platform.SALEOR, {}, BODY + b" ")
    assert event_id(Platform.BIGCOMMERCE, {}, BODY, "abc") == "hash:abc"


def test_woocommerce_ping_is_recognised() -> None:
    assert is_ping(Platform.WOOCOMMERCE, {}, b"webhook_id=12")
    assert not is_ping(Platform.SHOPIFY, {}, b"webhook_id=12")


def test_sealed_secrets_read_back_only_with_the_same_key_and_purpose() -> None:
    sealed = sealing.seal("shpss_abc", b"key-1", "integration-secret")
    assert "shpss_abc" not in sealed
    assert sealing.unseal(sealed, b"key-1", "integration-secret") == "shpss_abc"
    assert sealing.seal("shpss_abc", b"key-1", "integration-secret") != sealed  # a fresh nonce each time
    for key, purpose in ((b"key-2", "integration-secret"), (b"key-1", "integration-api-token")):
        with pytest.raises(sealing.SealError):
            sealing.unseal(sealed, key, purpose)
    tampered = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    with pytest.raises(sealing.SealError):
        sealing.unseal(tampered, b"key-1", "integration-secret")
    with pytest.raises(sealing.SealError):
        sealing.unseal("garbage", b"key-1", "integration-secret")


def test_a_secrets_hint_shows_four_characters_at_most() -> None:
    assert secret_hint("0123456789abcdef") == "…cdef"
    assert secret_hint("short") == "…"
