"""Fetching an order a webhook names only by its id (BigCommerce's v3 callbacks), over HTTP from
the base URL the integration gives (https://api.bigcommerce.com/stores/{store_hash} in
production; a local stand-in in tests). The standard library's client: one GET per resource, a
short timeout, answers bounded in size."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from aftersales.integrations.domain import MAX_BODY_BYTES
from aftersales.integrations.formats.common import MappingError

TIMEOUT_SECONDS = 10.0

# (base_url, token, order_id) → the order as the v2 API gives it, with its products and shipping
# addresses put in the order; raises FetchError.
OrderFetcher = Callable[[str, str, str], dict[str, Any]]


class FetchError(RuntimeError):
    pass


def _get(url: str, token: str) -> Any:
    request = urllib.request.Request(  # noqa: S310 (bigcommerce_order allows http(s) only)
        url, headers={"X-Auth-Token": token, "Accept": "application/json", "User-Agent": "aftersales"}
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310 (http(s) only)
            raw = answer.read(MAX_BODY_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise FetchError(f"GET {url} answered {exc.code}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise FetchError(f"GET {url} failed: {exc}") from exc
    if len(raw) > MAX_BODY_BYTES:
        raise FetchError(f"GET {url} answered more than {MAX_BODY_BYTES} bytes")
    if not raw.strip():
        return []  # BigCommerce answers 204 with no body for an empty list
    try:
        return json.loads(raw, parse_float=Decimal)
    except ValueError as exc:
        raise FetchError(f"GET {url} did not answer JSON") from exc


def bigcommerce_order(base_url: str, token: str, order_id: str) -> dict[str, Any]:
    if not base_url.startswith(("http://", "https://")):
        raise FetchError("the integration has no API base URL to fetch the order from")
    base = base_url.rstrip("/")
    order = _get(f"{base}/v2/orders/{order_id}", token)
    if not isinstance(order, dict):
        raise MappingError("data.id", f"the store answered no order for id {order_id}")
    order["products"] = _get(f"{base}/v2/orders/{order_id}/products", token)
    order["shipping_addresses"] = _get(f"{base}/v2/orders/{order_id}/shipping_addresses", token)
    return order
