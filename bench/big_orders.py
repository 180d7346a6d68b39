"""Order and case pages with a million orders in the database.

One delivered order (lines, payment, shipment, two carrier scans, its timeline) is written through
the real services; then it is cloned with INSERT ... SELECT over a generated series, table by table,
straight in SQL: 1M orders with their lines, payments, shipments, scans and timeline rows over
10,000 customers, in minutes. Then a real `aftersales serve` answers, one request at a time:
the order page and the order list as a signed-in agent and as a customer, the case page for cases
submitted through the API on random orders, and the API's order read.

    python bench/big_orders.py [--orders 1000000] [--db sqlite|postgresql] [--requests 200]

Prints JSON figures; bench/run.py turns them into the section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import random
import re
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import harness

CUSTOMERS = 10_000
PASSWORD = "bench-password-123"  # noqa: S105 - the bench's throwaway accounts

CLONE = r"""
import json, sys, time
from sqlalchemy import create_engine, text
from aftersales.config import get_settings
from aftersales.models import metadata

N, CUSTOMERS = int(sys.argv[1]), int(sys.argv[2])
url = get_settings().database_url
pg = url.startswith("postgresql")
engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1) if pg else url)
tables = metadata.tables

def series(n):
    if pg:
        return "", f"generate_series(1, {n}) AS s(i)"
    return f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) ", "s"

def clone(conn, name, source, where, overrides, prefix=""):
    cols = [c.name for c in tables[name].columns if c.name != "id"]
    exprs = [overrides.get(c, f"t.{c}") for c in cols]
    started = time.monotonic()
    insert = f"INSERT INTO {name} ({', '.join(cols)}) SELECT {', '.join(exprs)} FROM {source} WHERE {where}"
    conn.execute(text(prefix + insert))
    print(f"  {name}: {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)

with engine.begin() as conn:
    if not pg:
        conn.execute(text("PRAGMA journal_mode=WAL"))
        conn.execute(text("PRAGMA synchronous=OFF"))
    tid = conn.execute(text("SELECT id FROM orders WHERE number = 'BIG-TEMPLATE'")).scalar_one()
    cid = conn.execute(text("SELECT customer_id FROM orders WHERE id = :t"), {"t": tid}).scalar_one()
    ship = conn.execute(text("SELECT id FROM shipments WHERE order_id = :t"), {"t": tid}).scalar_one()
    max_order = conn.execute(text("SELECT max(id) FROM orders")).scalar_one()
    max_ship = conn.execute(text("SELECT max(id) FROM shipments")).scalar_one()
    max_customer = conn.execute(text("SELECT max(id) FROM customers")).scalar_one()

    prefix, src = series(CUSTOMERS)
    clone(conn, "customers", f"{src}, customers t", f"t.id = {cid}",
          {"external_id": "'BIGC' || s.i", "phone": "'139' || s.i"}, prefix)
    first_customer = max_customer + 1
    prefix, src = series(N)
    clone(conn, "orders", f"{src}, orders t", f"t.id = {tid}",
          {"number": "'BIG' || s.i", "customer_id": f"{first_customer} + ((s.i - 1) % {CUSTOMERS})"}, prefix)
    new = f"o.id > {max_order}"
    clone(conn, "order_lines", "orders o JOIN order_lines t ON t.order_id = " + str(tid), new, {"order_id": "o.id"})
    clone(conn, "payments", "orders o JOIN payments t ON t.order_id = " + str(tid), new,
          {"order_id": "o.id", "reference": "'P' || o.number"})
    clone(conn, "shipments", "orders o JOIN shipments t ON t.order_id = " + str(tid), new,
          {"order_id": "o.id", "tracking_number": "'T' || o.number"})
    clone(conn, "logistics_events", "shipments s JOIN logistics_events t ON t.shipment_id = " + str(ship),
          f"s.id > {max_ship}", {"shipment_id": "s.id", "event_id": "t.event_id || '-' || s.id"})
    clone(conn, "timeline_events",
          f"orders o JOIN timeline_events t ON t.subject_type = 'order' AND t.subject_id = {tid}", new,
          {"subject_id": "o.id"})
if pg:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
else:
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
print(json.dumps({"first_customer": first_customer}))
"""

SETUP = r"""
import json, sys
from aftersales.config import get_settings
from aftersales.db.uow import Database
from aftersales.identity import service as identity
from aftersales.kit.access import Role
from aftersales.orders import service as orders
from bench.seed_shop import FEED, catalogue, delivered_order

db = Database(get_settings().database_url)
catalogue(db)
order, scans = delivered_order("BIG-TEMPLATE", 0, 3)
orders.upsert_order(db, order, FEED)
for scan in scans:
    orders.record_logistics_event(db, scan, FEED)
"""

USERS = r"""
import json, sys
from aftersales.config import get_settings
from aftersales.db.uow import Database
from aftersales.identity import service as identity
from aftersales.kit.access import Role
from aftersales.orders import service as orders

db = Database(get_settings().database_url)
customer_id = orders.customer_id_for(db, "BIGC1")
identity.create_user(db, username="big-agent", password=sys.argv[1], role=Role.AGENT_T1)
identity.create_user(db, username="big-customer", password=sys.argv[1], role=Role.CUSTOMER, customer_id=customer_id)
identity.create_user(db, username="big-admin", password=sys.argv[1], role=Role.ADMIN)
print(json.dumps({"token": identity.create_token(db, "big-admin", name="bench").token}))
"""


class Browser:
    """A signed-in person: cookies kept, CSRF token read from the login form."""

    def __init__(self, base: str, username: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        form = self.get("/login")[1]
        token = re.search(r'name="csrf-token" content="([^"]+)"', form)
        assert token, "no CSRF token on the login page"
        data = urllib.parse.urlencode(
            {"username": username, "password": PASSWORD, "csrf_token": token.group(1), "next": "/"}
        ).encode()
        with self.opener.open(urllib.request.Request(f"{base}/login", data=data), timeout=30) as answer:  # noqa: S310
            assert answer.status == 200, answer.status

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
        request = urllib.request.Request(f"{self.base}{path}", headers=headers or {})  # noqa: S310
        with self.opener.open(request, timeout=60) as answer:
            return answer.status, answer.read().decode()


def timed(name: str, fetch: Any, paths: list[str]) -> dict[str, float]:
    harness.log(f"  {name}: {len(paths)} requests")
    latencies = []
    for path in paths:
        started = time.perf_counter()
        status, _ = fetch(path)
        latencies.append(time.perf_counter() - started)
        assert status == 200, (path, status)
    latencies.sort()
    return {
        "requests": len(latencies),
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "mean_ms": statistics.fmean(latencies) * 1000,
    }


def post_case(base: str, token: str, number: str) -> str:
    body = {
        "order_number": number,
        "kind": "return_refund",
        "reason": "defect",
        "lines": [{"line_no": 1, "quantity": 1}],
    }
    request = urllib.request.Request(  # noqa: S310 - our own server on 127.0.0.1
        f"{base}/api/v1/cases",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310
        return str(json.loads(answer.read())["number"])


def measure(kind: str, orders: int, requests: int) -> dict[str, Any]:
    rng = random.Random(6)
    with tempfile.TemporaryDirectory(prefix=f"aftersales-big-{kind}-") as tmp:
        workdir = Path(tmp)
        with harness.fresh_database(kind, workdir) as url:
            env = harness.child_env(url, workdir)
            harness.run([harness.AFTERSALES, "migrate"], env, workdir)
            harness.run_python(SETUP, env, workdir)
            harness.log(f"{kind}: cloning {orders:,} orders in SQL")
            started = time.monotonic()
            harness.run(
                [sys.executable, "-c", CLONE, str(orders - 1), str(CUSTOMERS)],
                {**env, "PYTHONPATH": str(harness.ROOT)},
                workdir,
            )
            load_seconds = time.monotonic() - started
            harness.log(f"{kind}: {orders:,} orders in {load_seconds:.0f} s")
            users = harness.run(
                [sys.executable, "-c", USERS, PASSWORD], {**env, "PYTHONPATH": str(harness.ROOT)}, workdir
            )
            token = json.loads(users.strip().splitlines()[-1])["token"]
            with harness.serving(env, workdir, worker=False) as live:
                agent, customer = Browser(live.url, "big-agent"), Browser(live.url, "big-customer")
                random_orders = [f"BIG{rng.randint(1, orders - 1)}" for _ in range(requests)]
                # BIGC1's orders: every CUSTOMERS-th clone, starting at BIG1.
                own = [
                    f"BIG{1 + CUSTOMERS * rng.randint(0, max(0, (orders - 2) // CUSTOMERS))}" for _ in range(requests)
                ]
                cases = [post_case(live.url, token, n) for n in random_orders[:20]]
                own_cases = [post_case(live.url, token, n) for n in sorted(set(own))[:5]]
                api = {"Authorization": f"Bearer {token}"}
                warm = [agent.get(f"/orders/{n}") for n in random_orders[:5]]
                assert all(status == 200 for status, _ in warm)
                some = random_orders[: min(requests, 100)]
                measurements: list[tuple[str, Any, list[str]]] = [
                    ("order page, agent", agent.get, [f"/orders/{n}" for n in random_orders]),
                    ("order page, customer", customer.get, [f"/orders/{n}" for n in own]),
                    ("order list, customer (page 1)", customer.get, ["/orders"] * len(some)),
                    # A full-text search scans: few requests, each may take seconds at 1M orders.
                    ("order search by number, agent", agent.get, [f"/orders?q={n}" for n in some[:20]]),
                    ("case page, agent", agent.get, [f"/cases/{cases[i % len(cases)]}" for i in range(requests)]),
                    (
                        "case page, customer",
                        customer.get,
                        [f"/cases/{own_cases[i % len(own_cases)]}" for i in range(requests)],
                    ),
                    ("API order read", lambda p: agent.get(p, api), [f"/api/v1/orders/{n}" for n in random_orders]),
                ]
                figures: dict[str, Any] = {"orders": orders, "load_seconds": load_seconds}
                for name, fetch, paths in measurements:
                    figures[name] = timed(name, fetch, paths)
                figures["rss_mb"] = harness.RssSampler(live.pid).rss() / 2**20
    return figures


def section(results: dict[str, Any], command: str) -> str:
    rows = []
    for kind, figures in results.items():
        for name, f in figures.items():
            if isinstance(f, dict):
                rows.append(
                    (name, kind, f"{f['p50_ms']:.1f}", f"{f['p99_ms']:.1f}", f"{f['mean_ms']:.1f}", str(f["requests"]))
                )
    loads = "; ".join(
        f"{kind}: {f['orders']:,} orders cloned in {f['load_seconds']:.0f} s, "
        f"server RSS {f['rss_mb']:.0f} MB after the run"
        for kind, f in results.items()
    )
    return (
        f"- command: `{command}`\n"
        "- data: one order written through the services (3 units, a payment, a shipment, two scans, its "
        f"timeline), cloned in SQL over {CUSTOMERS:,} customers; {loads}\n"
        "- requests: one at a time from one client on 127.0.0.1 (latency, not throughput), to random "
        "orders; the customer reads their own orders and cases; cases submitted through the API first\n"
        + (
            ""
            if "postgresql" in results
            else "- PostgreSQL: not measured in this run (skipped, or no server answered)\n"
        )
        + "\n"
        + harness.table(rows, ("request", "database", "p50 ms", "p99 ms", "mean ms", "requests"))
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], action="append")
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    results = {kind: measure(kind, args.orders, args.requests) for kind in args.db or ["sqlite"]}
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
