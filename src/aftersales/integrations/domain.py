"""Shop platforms connected to Aftersales: which ones, how each signs its webhooks, how a delivery
is known again, and what a delivery became. Pure: no database, no network."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Platform(StrEnum):
    SHOPIFY = "shopify"
    WOOCOMMERCE = "woocommerce"
    MAGENTO2 = "magento2"
    BIGCOMMERCE = "bigcommerce"
    SALEOR = "saleor"


class DeliveryResult(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    FAILED = "failed"  # kept with its reason and body, for an administrator to replay


# Webhook bodies above this are refused (413) before they are read further.
MAX_BODY_BYTES = 1024 * 1024
# Standard Webhooks (BigCommerce): a signed timestamp this far from our clock is refused.
TIMESTAMP_TOLERANCE = timedelta(minutes=5)
# What each sealed value is for (kit.sealing derives a separate key for each).
SECRET_PURPOSE = "integration-secret"  # noqa: S105 (a label, not a secret)
TOKEN_PURPOSE = "integration-api-token"  # noqa: S105


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    reason: str = ""


def _header(headers: Mapping[str, str], name: str) -> str:
    return headers.get(name.lower(), "").strip()


def _b64_hmac(secret: bytes, message: bytes) -> str:
    return base64.b64encode(hmac.new(secret, message, hashlib.sha256).digest()).decode()


def verify(platform: Platform, secret: str, headers: Mapping[str, str], body: bytes, now: datetime) -> Verdict:
    """Whether a webhook was signed with the integration's secret, in the platform's own scheme.
    `headers` have lower-case names. Every comparison is constant-time."""
    if not secret:
        return Verdict(False, "the integration has no secret")
    key = secret.encode()
    if platform is Platform.SHOPIFY:
        return _equal(_header(headers, "X-Shopify-Hmac-Sha256"), _b64_hmac(key, body), "X-Shopify-Hmac-Sha256")
    if platform is Platform.WOOCOMMERCE:
        return _equal(_header(headers, "X-WC-Webhook-Signature"), _b64_hmac(key, body), "X-WC-Webhook-Signature")
    if platform is Platform.SALEOR:
        sent = _header(headers, "Saleor-Signature")
        if sent.count(".") == 2:
            return Verdict(
                False,
                "Saleor-Signature is a JWS (RS256); give the webhook a secretKey so Saleor signs with HMAC-SHA256",
            )
        return _equal(sent.lower(), hmac.new(key, body, hashlib.sha256).hexdigest(), "Saleor-Signature")
    if platform is Platform.BIGCOMMERCE:
        return _standard_webhook(secret, headers, body, now)
    # Magento 2 sends no webhooks of its own: its orders come through the CLI (REST responses).
    return Verdict(False, f"{platform.value} does not send signed webhooks; import its orders with the CLI")


def _equal(sent: str, expected: str, header: str) -> Verdict:
    if not sent:
        return Verdict(False, f"no {header} header")
    if not hmac.compare_digest(sent.encode(), expected.encode()):
        return Verdict(False, f"{header} does not match the body signed with this integration's secret")
    return Verdict(True)


def _standard_webhook(secret: str, headers: Mapping[str, str], body: bytes, now: datetime) -> Verdict:
    """BigCommerce signs as the Standard Webhooks specification says: webhook-signature holds
    "v1,<base64 HMAC-SHA256 of '{webhook-id}.{webhook-timestamp}.{body}'>" (several, space apart)."""
    msg_id, stamp, sent = (_header(headers, h) for h in ("webhook-id", "webhook-timestamp", "webhook-signature"))
    if not (msg_id and stamp and sent):
        return Verdict(False, "no webhook-id, webhook-timestamp and webhook-signature headers")
    if not stamp.isdigit() or abs(now.timestamp() - int(stamp)) > TIMESTAMP_TOLERANCE.total_seconds():
        return Verdict(False, "webhook-timestamp is not within 5 minutes of now")
    key = secret.encode()
    if secret.startswith("whsec_"):
        try:
            key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
        except (binascii.Error, ValueError):
            return Verdict(False, "the integration's whsec_ secret is not base64")
    expected = _b64_hmac(key, f"{msg_id}.{stamp}.".encode() + body)
    for candidate in sent.split():
        version, _, signature = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(signature.encode(), expected.encode()):
            return Verdict(True)
    return Verdict(False, "webhook-signature does not match the body signed with this integration's secret")


def event_id(platform: Platform, headers: Mapping[str, str], body: bytes, body_hash_field: str = "") -> str:
    """What identifies a delivery, so the same event twice changes nothing: the platform's own id
    header where it sends one, else the body's own digest (the same body is the same event)."""
    names = {
        Platform.SHOPIFY: ("X-Shopify-Event-Id", "X-Shopify-Webhook-Id"),
        Platform.WOOCOMMERCE: ("X-WC-Webhook-Delivery-ID",),
        Platform.BIGCOMMERCE: ("webhook-id",),
        Platform.SALEOR: (),
        Platform.MAGENTO2: (),
    }[platform]
    for name in names:
        value = _header(headers, name)
        if value:
            return f"{name.lower()}:{value}"[:128]
    if body_hash_field:
        return f"hash:{body_hash_field}"[:128]
    return "sha256:" + hashlib.sha256(body).hexdigest()


def topic(platform: Platform, headers: Mapping[str, str]) -> str:
    name = {
        Platform.SHOPIFY: "X-Shopify-Topic",
        Platform.WOOCOMMERCE: "X-WC-Webhook-Topic",
        Platform.SALEOR: "Saleor-Event",
        Platform.BIGCOMMERCE: "",
        Platform.MAGENTO2: "",
    }[platform]
    return _header(headers, name)[:80] if name else ""


def is_ping(platform: Platform, headers: Mapping[str, str], body: bytes) -> bool:
    """WooCommerce's first delivery on saving a webhook: a form body "webhook_id=…", not an order."""
    return platform is Platform.WOOCOMMERCE and body.startswith(b"webhook_id=")


def secret_hint(secret: str) -> str:
    """Enough of a secret to tell two apart on a page, never enough to use it."""
    return f"…{secret[-4:]}" if len(secret) >= 12 else "…"
