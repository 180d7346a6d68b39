"""Shop platforms' order webhooks through the integrations service, one at a time, on a fresh
SQLite database: N signed Shopify deliveries of distinct orders (new customer, two lines, SKUs
registered on first sight), then the same N again (known event ids: nothing changes).

    python bench/order_webhooks.py [--deliveries 500]

Prints JSON figures (deliveries per second, p50/p99). The issue's target (10,000 mixed deliveries at
200 per second on SQLite) is not met by this one-at-a-time path; see docs/integrations.md.
"""

from __future__ import annotations

import argparse
import base64
import copy
import hashlib
import hmac
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "integrations" / "shopify_order_create.json"
SECRET = "bench-secret-0123456789abcdef"  # noqa: S105 - the bench's throwaway secret


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", type=int, default=500)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="aftersales-bench-hooks-")
    url = f"sqlite:///{folder}/bench.db"
    os.environ.update(AFTERSALES_DATABASE_URL=url, AFTERSALES_DATA_DIR=folder, AFTERSALES_LOG_LEVEL="WARNING")

    from aftersales.db.migrate import upgrade
    from aftersales.db.uow import Database
    from aftersales.integrations import service
    from aftersales.integrations.domain import Platform
    from aftersales.integrations.schemas import IntegrationIn
    from aftersales.kit.access import SYSTEM
    from aftersales.orders import service as orders
    from aftersales.orders.domain import MerchantKind
    from aftersales.orders.schemas import MerchantIn

    upgrade(url)
    db = Database(url)
    key = b"bench-install-key"
    orders.upsert_merchant(db, MerchantIn(code="shop1", name="Shop One", kind=MerchantKind.POP))
    hook = service.create_integration(
        db, key, IntegrationIn(platform=Platform.SHOPIFY, merchant_code="shop1", name="bench", secret=SECRET), SYSTEM
    )
    base = json.loads(FIXTURE.read_text())
    bodies = []
    for i in range(args.deliveries):
        order = copy.deepcopy(base)
        order["id"], order["name"] = 7_000_000 + i, f"#B{i}"
        order["customer"]["id"] = 90_000 + i
        bodies.append(json.dumps(order).encode())

    def send(i: int, body: bytes) -> float:
        signature = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
        headers = {"x-shopify-hmac-sha256": signature, "x-shopify-webhook-id": f"evt-{i}"}
        start = time.perf_counter()
        service.receive_webhook(db, key, "shopify", hook.id, headers, body)
        return time.perf_counter() - start

    figures = {}
    for label in ("new orders", "replays"):
        started = time.perf_counter()
        times = sorted(send(i, body) for i, body in enumerate(bodies))
        wall = time.perf_counter() - started
        figures[label] = {
            "deliveries": len(times),
            "per_second": round(len(times) / wall, 1),
            "p50_ms": round(statistics.median(times) * 1000, 1),
            "p99_ms": round(times[int(len(times) * 0.99) - 1] * 1000, 1),
        }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
