"""Benchmark of the service dashboards: each one's p50 at N tickets (≈ 10 metric events each).

    .venv/bin/python bench/dashboard.py                                   # SQLite file, 1M tickets
    .venv/bin/python bench/dashboard.py --tickets 20000
    .venv/bin/python bench/dashboard.py --database-url postgresql://postgres@127.0.0.1:5432/postgres

A fresh database is migrated; metric events for N tickets spread over 365 days (200 agents, 20
teams, 5 channels, 300 merchants) are bulk-inserted (executemany on SQLite, COPY on PostgreSQL;
not through the handlers, which would take hours at 10M); `aftersales analytics rebuild` builds
the rollups (timed); then each dashboard (by day, agent, team, channel, merchant, over the last 30
days) and a drill-down are timed over several rounds and their p50 reported. Measured, not asserted.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import structlog
from sla_sweep import _sqlite_value, drop_database, fresh_database

from aftersales.analytics import service
from aftersales.analytics.domain import DASHBOARD_DIMS, DimType
from aftersales.db.engine import dispose_all, get_engine
from aftersales.db.migrate import upgrade
from aftersales.db.uow import Database

LAST_DAY = date(2026, 11, 30)
DAYS = 365
COLUMNS = (
    "name, occurred_at, local_date, subject_type, subject_ref, ticket_number, customer_id, order_number, agent_id, "
    "team, channel, merchant_id, category, reason_tag, carrier, province, city, value_s, value_business_s, "
    "idempotency_key, recorded_at"
)
CHANNELS = ("web", "chat", "email", "phone", "api")
PER_TICKET = (
    ("ticket_created", 0.0), ("first_reply", 900.0), ("reply", 0.0), ("reply", 0.0), ("reply", 0.0),
    ("resolved", 36_000.0), ("sla_met", 0.0), ("sla_met", 0.0), ("one_touch", 0.0), ("order_placed", 0.0),
)  # fmt: skip


def events(n: int, seed: int = 17) -> Iterator[tuple[object, ...]]:
    rng = random.Random(seed)
    for i in range(n):
        day = LAST_DAY - timedelta(days=rng.randrange(DAYS))
        at = datetime(day.year, day.month, day.day, rng.randrange(24), rng.randrange(60), tzinfo=UTC)
        number = f"T{i:08d}"
        agent, team, channel = rng.randrange(1, 201), f"team-{rng.randrange(20)}", rng.choice(CHANNELS)
        merchant = rng.randrange(1, 301)
        for k, (name, mean) in enumerate(PER_TICKET):
            if name == "one_touch" and rng.random() < 0.5:
                name = "sla_breached"
            value = rng.lognormvariate(math.log(mean), 1.0) if mean else 0.0
            yield (name, at, day, "ticket", number, number, i, f"SO{i}", agent, team, channel, merchant,
                   "complaint", "product.defect", "", "", "", value, value * 0.6, f"{number}:{k}", at)  # fmt: skip


def fill(url: str, n: int) -> float:
    started = time.perf_counter()
    raw = get_engine(url).raw_connection()
    try:
        cursor = raw.cursor()
        if url.startswith("sqlite"):
            marks = ", ".join("?" * len(COLUMNS.split(",")))
            insert = f"INSERT INTO analytics_metric_events ({COLUMNS}) VALUES ({marks})"  # noqa: S608 - constants only
            batch: list[tuple[object, ...]] = []
            for row in events(n):
                batch.append(tuple(_sqlite_value(v) if isinstance(v, datetime) else v for v in row))
                if len(batch) == 50_000:
                    cursor.executemany(insert, batch)
                    batch.clear()
            if batch:
                cursor.executemany(insert, batch)
        else:
            with cursor.copy(f"COPY analytics_metric_events ({COLUMNS}) FROM STDIN") as copy:
                for row in events(n):
                    copy.write_row(row)
        raw.commit()
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    return time.perf_counter() - started


def p50_ms(action: object, rounds: int) -> float:
    times = []
    for round_no in range(rounds + 1):
        started = time.perf_counter()
        action()  # type: ignore[operator]
        if round_no:  # the first round warms caches and is not counted
            times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def measure(base_url: str | None, tickets: int, rounds: int, tmp: Path) -> dict[str, object]:
    url, pg_name = fresh_database(base_url, tmp)
    try:
        upgrade(url)
        insert_s = fill(url, tickets)
        db = Database(url)
        started = time.perf_counter()
        n_events, n_rollups = service.rebuild(db)
        rebuild_s = time.perf_counter() - started
        first = LAST_DAY - timedelta(days=29)
        result: dict[str, object] = {"tickets": tickets, "metric_events": n_events, "rollup_rows": n_rollups,
                                     "insert_s": round(insert_s, 1), "rebuild_s": round(rebuild_s, 1)}  # fmt: skip
        for dim in DASHBOARD_DIMS:
            name = "day" if dim is DimType.ALL else dim.value
            result[f"dashboard_{name}_p50_ms"] = round(
                p50_ms(lambda dim=dim: service.dashboard(db, first, LAST_DAY, dim), rounds), 1
            )
        result["drill_p50_ms"] = round(
            p50_ms(lambda: service.drill(db, "resolved", first, LAST_DAY, DimType.AGENT, "7"), rounds), 1
        )
        return result
    finally:
        dispose_all()
        if base_url is not None and pg_name is not None:
            drop_database(base_url, pg_name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--database-url", default=None, help="PostgreSQL server URL; a database is created")
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    kind = "PostgreSQL" if args.database_url else "SQLite (file, WAL)"
    with tempfile.TemporaryDirectory(prefix="dashboard-bench-") as tmp:
        result = measure(args.database_url, args.tickets, args.rounds, Path(tmp))
    result |= {"database": kind, "python": platform.python_version(), "machine": platform.machine()}
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
