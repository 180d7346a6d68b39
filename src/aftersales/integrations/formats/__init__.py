"""Shop platforms' order formats, each mapped to our order by a pure reader (no database, no
network): read(payload, Context) → [MappedOrder | MappedRefunds | OrderCallback]."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aftersales.integrations.formats import bigcommerce, magento2, saleor, shopify, woocommerce
from aftersales.integrations.formats.common import Context, Mapped

Reader = Callable[[Any, Context], list[Mapped]]

READERS: dict[str, Reader] = {
    "shopify": shopify.read,
    "woocommerce": woocommerce.read,
    "magento2": magento2.read,
    "bigcommerce": bigcommerce.read,
    "saleor": saleor.read,
}
