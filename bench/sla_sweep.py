"""Benchmark of the SLA sweep: its time with 1k, 100k and 1M open clocks and the same number due.

    .venv/bin/python bench/sla_sweep.py                                  # SQLite file, 1k/100k/1M
    .venv/bin/python bench/sla_sweep.py --sizes 1000 100000 --due 500
    .venv/bin/python bench/sla_sweep.py --database-url postgresql://postgres@127.0.0.1:5432/postgres

For each size a fresh database is migrated and N open clocks are bulk-inserted (executemany on
SQLite, COPY on PostgreSQL; not through the service, which would take hours at 1M); `--due` of
them have a check that has come (half past their warning, half past their target), the rest are
due over the next 30 days. `service.sweep` is timed over several rounds, the due rows being put
back between rounds. The figure is the ratio of the sweep time at the largest size to the smallest:
an indexed sweep stays near 1. Measured, not asserted: nothing here runs in the test suite.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import structlog
from sqlalchemy import create_engine, text

from aftersales.db.engine import dispose_all, get_engine
from aftersales.db.migrate import upgrade
from aftersales.db.uow import Database
from aftersales.sla import service

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
COLUMNS = (
    "subject_kind, subject_id, metric, ticket_type, priority, team, status, calendar_key, target_seconds, "
    "warn_seconds, used_seconds, started_at, segment_started_at, target_at, warn_at, next_check_at"
)


def rows(n: int, due: int) -> Iterator[tuple[object, ...]]:
    """N running clocks: the first `due` have a check that has come, the rest later."""
    for i in range(n):
        started = NOW - timedelta(minutes=30)
        if i < due:
            # Even: past its target (breach); odd: past its warning only (warn).
            target = NOW - timedelta(minutes=1) if i % 2 == 0 else NOW + timedelta(minutes=5)
            warn = NOW - timedelta(minutes=5)
            check = warn
        else:
            check = NOW + timedelta(seconds=60 + (i * 2593) % (30 * 86400))
            warn, target = check, check + timedelta(minutes=6)
        yield (
            "ticket",
            i + 1,
            "first_response",
            "complaint",
            "medium",
            "",
            "running",
            "platform",
            1800,
            1440,
            0,
            started,
            started,
            target,
            warn,
            check,
        )


def _sqlite_value(value: object) -> object:
    # The format SQLAlchemy's SQLite DateTime stores, so string comparisons order correctly.
    return value.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(value, datetime) else value


def fill(url: str, n: int, due: int) -> float:
    started = time.perf_counter()
    engine = get_engine(url)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if url.startswith("sqlite"):
            marks = ", ".join("?" * len(COLUMNS.split(",")))
            insert = f"INSERT INTO sla_clocks ({COLUMNS}) VALUES ({marks})"  # noqa: S608 - constants only
            batch: list[tuple[object, ...]] = []
            for row in rows(n, due):
                batch.append(tuple(_sqlite_value(v) for v in row))
                if len(batch) == 50_000:
                    cursor.executemany(insert, batch)
                    batch.clear()
            if batch:
                cursor.executemany(insert, batch)
        else:
            with cursor.copy(f"COPY sla_clocks ({COLUMNS}) FROM STDIN") as copy:
                for row in rows(n, due):
                    copy.write_row(row)
        raw.commit()
        cursor.execute("ANALYZE")
        raw.commit()
        if url.startswith("sqlite"):
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()
    return time.perf_counter() - started


def reset_due(db: Database, due: int) -> None:
    """Put the swept rows back as they were, so every round sweeps the same work."""
    with db.write() as uow:
        s = uow.session
        s.execute(text("DELETE FROM outbox"))
        s.execute(text("DELETE FROM sla_events"))
        s.execute(
            text(
                "UPDATE sla_clocks SET status = 'running', warned_at = NULL, breached_at = NULL, "
                "next_check_at = warn_at WHERE subject_id <= :due"
            ),
            {"due": due},
        )
        uow.commit()
    if db.is_sqlite:
        # Fold the WAL back into the file so no checkpoint lands inside the timed sweep.
        with get_engine(db.url).connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def fresh_database(base_url: str | None, tmp: Path) -> tuple[str, str | None]:
    if base_url is None:
        path = tmp / f"sla-{uuid.uuid4().hex[:8]}.db"
        return f"sqlite:///{path}", None
    name = f"sla_bench_{uuid.uuid4().hex[:8]}"
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


def measure(base_url: str | None, n: int, due: int, rounds: int, tmp: Path) -> dict[str, float]:
    url, pg_name = fresh_database(base_url, tmp)
    try:
        upgrade(url)
        insert_s = fill(url, n, due)
        db = Database(url)
        times, checked = [], 0
        for round_no in range(rounds + 1):
            reset_due(db, due)
            started = time.perf_counter()
            result = service.sweep(db, NOW, batch=500)
            if round_no:  # the first round warms caches (compiled statements, pages) and is not counted
                times.append(time.perf_counter() - started)
            checked = result.checked
            assert result.warned + result.breached == due, result
        started = time.perf_counter()
        idle = service.sweep(db, NOW, batch=500)
        idle_s = time.perf_counter() - started
        assert idle.checked == 0
        return {
            "n": n,
            "insert_s": insert_s,
            "median_ms": statistics.median(times) * 1000,
            "min_ms": min(times) * 1000,
            "max_ms": max(times) * 1000,
            "checked": checked,
            "idle_ms": idle_s * 1000,
        }
    finally:
        dispose_all()
        if base_url is not None and pg_name is not None:
            drop_database(base_url, pg_name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000, 1_000_000])
    parser.add_argument("--due", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--database-url", default=None, help="PostgreSQL server URL; a database is created per size")
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    if any(size < args.due for size in args.sizes):
        parser.error("every size must be at least --due")
    kind = "PostgreSQL" if args.database_url else "SQLite (file, WAL)"
    results = []
    with tempfile.TemporaryDirectory(prefix="sla-bench-") as tmp:
        for size in args.sizes:
            result = measure(args.database_url, size, args.due, args.rounds, Path(tmp))
            results.append(result)
            print(f"# {size:>9,} open clocks: sweep median {result['median_ms']:.1f} ms", file=sys.stderr)
    rounds = f"median of {args.rounds} rounds after one warm-up"
    print(f"- database: {kind}; {args.due} due per size; sweep batch 500; {rounds}")
    cpu = platform.processor() or platform.machine()
    print(f"- machine: {os.cpu_count()} CPUs, {cpu}, Python {platform.python_version()}")
    print(f"- date: {datetime.now(UTC):%Y-%m-%d}\n")
    print("| open clocks | due | bulk insert | sweep median | min | max | idle sweep (nothing due) |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        print(
            f"| {int(r['n']):,} | {int(r['checked'])} | {r['insert_s']:.1f} s | {r['median_ms']:.1f} ms | "
            f"{r['min_ms']:.1f} ms | {r['max_ms']:.1f} ms | {r['idle_ms']:.2f} ms |"
        )
    last, first = results[-1], results[0]
    sizes = f"{int(last['n']):,} to {int(first['n']):,}"
    ratio, best = last["median_ms"] / first["median_ms"], last["min_ms"] / first["min_ms"]
    print(f"\nratio of the sweep at {sizes}: **{ratio:.2f}** (medians), {best:.2f} (best rounds)")


if __name__ == "__main__":
    main()
