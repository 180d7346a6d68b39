"""Benchmark of one outreach-governor decision: the facts it reads (order window, opt-outs, consent,
the buyer's recent sends for the caps and the digest, a pending digest, an agent's last contact)
and the pure verdict, over a history of many buyers and messages.

    .venv/bin/python bench/governor.py                              # SQLite file, 20k buyers
    .venv/bin/python bench/governor.py --buyers 100000 --decisions 5000
    .venv/bin/python bench/governor.py --database-url postgresql://postgres@127.0.0.1:5432/postgres

A fresh database is migrated and filled in bulk (SQLAlchemy Core executemany, not through the
services): `--buyers` customers with one order each, 10 governed messages per buyer spread over
the last 30 days (half service-proactive, half marketing), an opt-out, a consent record and an
agent's contact for every fifth buyer. Then `--decisions` decisions for random buyers and both
classes are timed one by one, each in its own read transaction, as notify() makes them (the
write that follows a decision is not counted). Measured, not asserted: nothing here runs in the
test suite.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import structlog
from sqlalchemy import create_engine, insert, text

from aftersales.db.engine import dispose_all, get_engine
from aftersales.db.migrate import upgrade
from aftersales.db.uow import Database
from aftersales.kit.vocabulary import MessageClass
from aftersales.models import metadata
from aftersales.notifications import governor, outreach

NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai: no quiet hours in the way
PER_BUYER = 10
BATCH = 20_000


def _batches(rows: Iterator[dict[str, object]]) -> Iterator[list[dict[str, object]]]:
    batch: list[dict[str, object]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def fill(url: str, buyers: int) -> float:
    started = time.perf_counter()
    t = metadata.tables
    engine = get_engine(url)
    with engine.begin() as conn:
        conn.execute(
            insert(t["merchants"]),
            [
                {
                    "id": 1,
                    "code": "bench",
                    "name": "Bench",
                    "kind": "pop",
                    "credit_score": 100,
                    "tags": [],
                    "return_address": "",
                    "created_at": NOW,
                }
            ],
        )
        customers = (
            {
                "id": i,
                "external_id": f"B{i}",
                "name": f"Buyer {i}",
                "phone": "",
                "email": f"b{i}@example.com",
                "tier": "regular",
                "locale": "zh-CN",
                "owner_merchant_id": None,
                "email_notices": True,
                "created_at": NOW - timedelta(days=60),
            }
            for i in range(1, buyers + 1)
        )
        for batch in _batches(customers):
            conn.execute(insert(t["customers"]), batch)
        orders = (
            {
                "id": i,
                "number": f"BO{i}",
                "merchant_id": 1,
                "customer_id": i,
                "status": "completed" if i % 3 == 0 else "shipped",
                "currency": "CNY",
                "goods_total": 100,
                "shipping_fee": 0,
                "discount_total": 0,
                "payable_total": 100,
                "placed_at": NOW - timedelta(days=20),
                "completed_at": NOW - timedelta(days=i % 40) if i % 3 == 0 else None,
                "tags": [],
                "note": "",
                "source_version": 1,
                "source_updated_at": NOW,
                "version": 1,
                "created_at": NOW,
                "updated_at": NOW,
            }
            for i in range(1, buyers + 1)
        )
        for batch in _batches(orders):
            conn.execute(insert(t["orders"]), batch)
        rng = random.Random(7)
        messages = (
            {
                "customer_id": i,
                "message_class": "service_proactive" if k % 2 else "marketing",
                "idempotency_key": f"bench:{i}:{k}",
                "topic": "order.status_changed",
                "order_number": f"BO{i}",
                "merchant_id": 1,
                "subject": "s",
                "body": "b",
                "link": "",
                "status": "sent",
                "reason": "",
                "channels": "email,inapp",
                "created_at": (at := NOW - timedelta(seconds=rng.randrange(30 * 86400))),
                "send_after": None,
                "sent_at": at,
                "inbox_id": None,
                "email_id": None,
            }
            for i in range(1, buyers + 1)
            for k in range(PER_BUYER)
        )
        for batch in _batches(messages):
            conn.execute(insert(t["outreach_messages"]), batch)
        fifth = range(1, buyers + 1, 5)
        conn.execute(
            insert(t["outreach_opt_outs"]),
            [
                {
                    "customer_id": i,
                    "message_class": "marketing",
                    "channel": "sms",
                    "opted_out": True,
                    "source": "sms",
                    "at": NOW,
                }
                for i in fifth
            ],
        )
        conn.execute(
            insert(t["marketing_consents"]),
            [
                {
                    "customer_id": i,
                    "channel": "email",
                    "granted": True,
                    "wording_version": "v1",
                    "source": "checkout",
                    "recorded_by": "bench",
                    "at": NOW,
                }
                for i in fifth
            ],
        )
        conn.execute(
            insert(t["outreach_agent_contacts"]),
            [
                {
                    "customer_id": i,
                    "order_number": f"BO{i}",
                    "contacted_at": NOW - timedelta(hours=i % 5),
                    "idempotency_key": f"bench-reply:{i}",
                }
                for i in fifth
            ],
        )
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    return time.perf_counter() - started


def fresh_database(base_url: str | None, tmp: Path) -> tuple[str, str | None]:
    if base_url is None:
        return f"sqlite:///{tmp / f'governor-{uuid.uuid4().hex[:8]}.db'}", None
    name = f"governor_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base_url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base_url.rsplit("/", 1)[0] + f"/{name}", name


def drop_database(base_url: str, name: str) -> None:
    dispose_all()
    admin = create_engine(base_url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def decide_once(db: Database, buyer: int, klass: MessageClass) -> governor.Decision:
    with db.read() as uow:
        facts = outreach.gather(uow.session, buyer, klass, f"BO{buyer}", NOW)
        return governor.decide(klass, facts)


def measure(base_url: str | None, buyers: int, decisions: int, tmp: Path) -> dict[str, object]:
    url, pg_name = fresh_database(base_url, tmp)
    try:
        upgrade(url)
        fill_s = fill(url, buyers)
        db = Database(url)
        rng = random.Random(11)
        for _ in range(200):  # warm-up: compiled statements, pages in cache
            decide_once(db, rng.randrange(1, buyers + 1), MessageClass.SERVICE_PROACTIVE)
        times: list[float] = []
        cpu: list[float] = []
        outcomes: dict[str, int] = {}
        for n in range(decisions):
            klass = MessageClass.SERVICE_PROACTIVE if n % 2 else MessageClass.MARKETING
            buyer = rng.randrange(1, buyers + 1)
            started, started_cpu = time.perf_counter(), time.thread_time()
            decision = decide_once(db, buyer, klass)
            times.append(time.perf_counter() - started)
            cpu.append(time.thread_time() - started_cpu)
            label = f"{decision.action.value}:{decision.reason.value}" if decision.reason else decision.action.value
            outcomes[label] = outcomes.get(label, 0) + 1
        times.sort()
        cpu.sort()
        return {
            "cpu_p50_ms": statistics.median(cpu) * 1000,
            "cpu_p99_ms": cpu[int(len(cpu) * 0.99) - 1] * 1000,
            "fill_s": fill_s,
            "p50_ms": statistics.median(times) * 1000,
            "p99_ms": times[int(len(times) * 0.99) - 1] * 1000,
            "max_ms": times[-1] * 1000,
            "outcomes": outcomes,
        }
    finally:
        dispose_all()
        if base_url is not None and pg_name is not None:
            drop_database(base_url, pg_name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--buyers", type=int, default=20_000)
    parser.add_argument("--decisions", type=int, default=4_000)
    parser.add_argument("--database-url", default=None, help="PostgreSQL server URL; a database is created and dropped")
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    kind = "PostgreSQL" if args.database_url else "SQLite (file, WAL)"
    with tempfile.TemporaryDirectory(prefix="governor-bench-") as tmp:
        r = measure(args.database_url, args.buyers, args.decisions, Path(tmp))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    print(f"- database: {kind}; {args.buyers:,} buyers, {args.buyers * PER_BUYER:,} governed messages in 30 days")
    print(
        f"- machine: {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}; commit {commit}; date {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    print(f"- bulk fill {r['fill_s']:.1f} s; {args.decisions:,} decisions after 200 of warm-up")
    print(f"- decision wall clock: p50 {r['p50_ms']:.3f} ms, p99 {r['p99_ms']:.3f} ms, max {r['max_ms']:.3f} ms")
    print(f"- decision CPU time (this thread): p50 {r['cpu_p50_ms']:.3f} ms, p99 {r['cpu_p99_ms']:.3f} ms")
    print(f"- load average while it ran: {os.getloadavg()[0]:.1f}")
    print(f"- outcomes: {', '.join(f'{k} {v}' for k, v in sorted(r['outcomes'].items()))}")  # type: ignore[union-attr]


if __name__ == "__main__":
    main()
