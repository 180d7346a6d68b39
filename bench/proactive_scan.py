"""Benchmark of the proactive scan: its time with 1k, 100k (or 1M) open parcels and the same number due.

    .venv/bin/python bench/proactive_scan.py                       # SQLite file, 1k and 100k open, 1k due
    .venv/bin/python bench/proactive_scan.py --sizes 1000 1000000 --due 1000

For each size a fresh database is migrated and N shipped orders with a parcel in transit are
bulk-inserted (executemany; not through the services, which would take hours at 1M), each with
its proactive watch: `--due` of them were last scanned four days ago (two working days and more) and their check has
come (a stalled parcel each), the rest were scanned an hour ago and are due over the coming days.
`service.scan` (intake, check, tickets and notices) is timed over several rounds, the incidents and
notices of a round removed and the due watches put back in between. The figure is the ratio of the
scan time at the largest size to the smallest: an index-driven scan stays near 1. Measured, not
asserted: nothing here runs in the test suite.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import structlog
from sqlalchemy import text

from aftersales.db.engine import dispose_all, get_engine
from aftersales.db.migrate import upgrade
from aftersales.db.uow import Database
from aftersales.proactive import service

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # a Wednesday, 10:00 in Shanghai
ORDER_COLUMNS = (
    "id, number, merchant_id, customer_id, status, currency, goods_total, shipping_fee, discount_total, "
    "payable_total, placed_at, paid_at, recipient_name, recipient_phone, address_region, address_detail, tags, "
    "note, source_version, source_updated_at, version, created_at, updated_at"
)
SHIPMENT_COLUMNS = (
    "id, order_id, carrier, tracking_number, status, shipped_at, current_node, current_place, last_event_at"
)


def _v(value: object) -> object:
    return value.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(value, datetime) else value


def rows(n: int, due: int) -> Iterator[tuple[tuple[object, ...], tuple[object, ...], tuple[object, ...]]]:
    for i in range(1, n + 1):
        last = NOW - timedelta(days=4) if i <= due else NOW - timedelta(hours=1)
        paid = last - timedelta(hours=6)
        order = (i, f"BP{i:09d}", 1, 1, "shipped", "CNY", "99.00", "0.00", "0.00", "99.00", paid, paid, "李娜",
                 "13800138000", "上海市 浦东新区", "世纪大道 1 号", "[]", "", 1, paid, 1, paid, paid)  # fmt: skip
        shipment = (i, i, "SF", f"SFB{i:010d}", "in_transit", last, "departed_hub", "杭州转运中心", last)
        check = NOW - timedelta(minutes=1) if i <= due else NOW + timedelta(hours=1 + (i * 37) % 200)
        watch = (i, check, 0)
        yield order, shipment, watch


def fill(url: str, n: int, due: int) -> float:
    started = time.perf_counter()
    raw = get_engine(url).raw_connection()
    try:
        cur = raw.cursor()
        cur.execute(
            "INSERT INTO merchants (id, code, name, kind, credit_score, tags, return_address, created_at) "
            "VALUES (1, 'selfop', 'bench', 'self_operated', 100, '[]', '', ?)",
            (_v(NOW),),
        )
        cur.execute(
            "INSERT INTO customers (id, external_id, name, phone, email, tier, locale, email_notices, created_at) "
            "VALUES (1, 'C1', '李娜', '13800138000', '', 'regular', 'zh-CN', 0, ?)",
            (_v(NOW),),
        )
        for name in ("timeline", "logistics"):
            cur.execute("INSERT INTO proactive_cursors (name, last_id, updated_at) VALUES (?, 0, ?)", (name, _v(NOW)))
        insert_order = f"INSERT INTO orders ({ORDER_COLUMNS}) VALUES ({', '.join('?' * 23)})"  # noqa: S608
        insert_ship = f"INSERT INTO shipments ({SHIPMENT_COLUMNS}) VALUES ({', '.join('?' * 9)})"  # noqa: S608
        insert_watch = "INSERT INTO proactive_watches (order_id, next_check_at, failures) VALUES (?, ?, ?)"
        batch: list[tuple[tuple[object, ...], tuple[object, ...], tuple[object, ...]]] = []

        def flush() -> None:
            cur.executemany(insert_order, [tuple(_v(x) for x in o) for o, _s, _w in batch])
            cur.executemany(insert_ship, [tuple(_v(x) for x in s) for _o, s, _w in batch])
            cur.executemany(insert_watch, [tuple(_v(x) for x in w) for _o, _s, w in batch])
            batch.clear()

        for row in rows(n, due):
            batch.append(row)
            if len(batch) == 20_000:
                flush()
        if batch:
            flush()
        raw.commit()
        cur.execute("ANALYZE")
        raw.commit()
        cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()
    return time.perf_counter() - started


def reset(db: Database, due: int) -> None:
    with db.write() as uow:
        s = uow.session
        for table in ("proactive_incidents", "timeline_events", "inbox_messages", "outbox"):
            s.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - constants only
        s.execute(text("UPDATE proactive_cursors SET last_id = 0"))
        s.execute(
            text("UPDATE proactive_watches SET next_check_at = :at WHERE order_id <= :due"),
            {"at": NOW - timedelta(minutes=1), "due": due},
        )
        uow.commit()
    with get_engine(db.url).connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def measure(n: int, due: int, rounds: int, tmp: Path) -> dict[str, float]:
    url = f"sqlite:///{tmp / f'proactive-{n}.db'}"
    try:
        upgrade(url)
        insert_s = fill(url, n, due)
        db = Database(url)
        times = []
        for round_no in range(rounds + 1):
            reset(db, due)
            started = time.perf_counter()
            result = service.scan(db, NOW)
            if round_no:
                times.append(time.perf_counter() - started)
            assert len(result.incidents) == due and result.checked == due, (len(result.incidents), result.checked)
        started = time.perf_counter()
        idle = service.scan(db, NOW)
        idle_s = time.perf_counter() - started
        return {"n": n, "insert_s": insert_s, "median_s": statistics.median(times), "min_s": min(times),
                "max_s": max(times), "idle_ms": idle_s * 1000, "idle_checked": idle.checked}  # fmt: skip
    finally:
        dispose_all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    results = []
    with tempfile.TemporaryDirectory(prefix="proactive-bench-") as tmp:
        for size in args.sizes:
            results.append(measure(size, args.due, args.rounds, Path(tmp)))
            print(f"# {size:>9,} open parcels: scan median {results[-1]['median_s']:.2f} s", file=sys.stderr)
    print(f"- database: SQLite (file, WAL); {args.due} due per size; median of {args.rounds} rounds after a warm-up")
    print(f"- date: {datetime.now(UTC):%Y-%m-%d}\n")
    print("| open parcels | due | bulk insert | scan median | min | max | idle scan (nothing due) |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        print(f"| {int(r['n']):,} | {args.due:,} | {r['insert_s']:.1f} s | {r['median_s']:.2f} s | "
              f"{r['min_s']:.2f} s | {r['max_s']:.2f} s | {r['idle_ms']:.1f} ms |")  # fmt: skip
    ratio = results[-1]["median_s"] / results[0]["median_s"]
    print(f"\nratio of the scan at {int(results[-1]['n']):,} to {int(results[0]['n']):,} open: **{ratio:.2f}**")


if __name__ == "__main__":
    main()
