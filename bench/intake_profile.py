"""Where the ticket intake's time goes: CPU time and SQL statements per `POST /api/v1/tickets`,
measured in one process that drives the real app (every middleware, dependency and thread-pool hop,
without uvicorn's HTTP parsing) against a fresh, seeded database.

    python bench/intake_profile.py                      # SQLite, 300 tickets after 30 of warm-up
    python bench/intake_profile.py --db postgresql      # PostgreSQL (AFTERSALES_BENCH_PG_URL)
    python bench/intake_profile.py --profile 25         # plus cProfile's 25 costliest functions
    python bench/intake_profile.py --statements         # plus the SQL of one ticket, in order
    python bench/intake_profile.py --body zh            # a realistic body: Chinese complaint text

Prints one JSON line last: cpu_ms_per_ticket (process CPU time, all threads, divided by the tickets),
statements, flushes and commits per ticket, and the RSS after the run. CPU time, not wall time: the
machine is shared, and a neighbour's load changes wall figures but not the CPU a ticket costs.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BODIES = {
    # The body of ../shared/peers/aftersales/body.json (the side-by-side benchmark): a requester to
    # acknowledge by email, no order.
    "peers": {
        "channel": "api",
        "subject": "Parcel arrived damaged, order {n}",
        "body": (
            "The box was crushed and the glass bottle inside is broken. Please send a replacement or refund. ref {n}"
        ),
        "requester_email": "buyer{n}@example.com",
        "requester_name": "Buyer {n}",
    },
    "plain": {
        "channel": "api",
        "subject": "Parcel crushed",
        "body": "The box arrived crushed and the glass inside is broken {n}",
    },
    "zh": {
        "channel": "api",
        "subject": "收到的商品破损",
        "body": "你好，我昨天收到的快递外箱被压坏了，里面的玻璃杯碎了两个，要求退货退款，不然我就投诉到12315。{n}",
    },
}


def _environment(tmp: Path, kind: str) -> str:
    """Points the settings at a fresh database before aftersales is imported."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp / 'profile.db'}"
    else:
        from sqlalchemy import create_engine, text

        base = os.environ.get("AFTERSALES_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
        name = f"profile_{uuid.uuid4().hex[:8]}"
        admin = create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        url = base.rsplit("/", 1)[0] + f"/{name}"
    os.environ.update(
        AFTERSALES_DATABASE_URL=url,
        AFTERSALES_QUEUE_URL=f"sqlite:///{tmp / 'queue.db'}",
        AFTERSALES_UPLOAD_DIR=str(tmp / "uploads"),
        AFTERSALES_DATA_DIR=str(tmp),
        AFTERSALES_LOG_LEVEL="WARNING",
    )
    return url


def _drop(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    from sqlalchemy import create_engine, text

    from aftersales.db.engine import dispose_all

    dispose_all()
    base, name = url.rsplit("/", 1)
    admin_url = base.replace("postgresql://", "postgresql+psycopg://", 1) + "/postgres"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class Counter:
    """Statements, flushes and commits, counted by SQLAlchemy's own events (all engines, all sessions)."""

    def __init__(self) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine
        from sqlalchemy.orm import Session

        self.statements = self.flushes = self.commits = 0
        self.record: list[str] | None = None
        event.listen(Engine, "before_cursor_execute", self._statement)
        event.listen(Session, "after_flush", self._flush)
        event.listen(Session, "after_commit", self._commit)

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.statements += 1
        if self.record is not None:
            self.record.append(" ".join(statement.split())[:160])

    def _flush(self, *_: Any) -> None:
        self.flushes += 1

    def _commit(self, *_: Any) -> None:
        self.commits += 1


async def _post(client: Any, token: str, orders: int, n: int, body: dict[str, str]) -> None:
    data = {k: v.format(n=n) for k, v in body.items()}
    if "requester_email" not in data:  # the plain and zh bodies are about a seeded order
        data["order_number"] = f"BN{n % orders:05d}"
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"p-{uuid.uuid4().hex}"}
    response = await client.post("/api/v1/tickets", json=data, headers=headers)
    if response.status_code != 201:
        raise SystemExit(f"POST /api/v1/tickets -> {response.status_code}: {response.text[:300]}")


async def _drive(app: Any, token: str, *, orders: int, start: int, count: int, body: dict[str, str]) -> None:
    import httpx

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        for n in range(start, start + count):
            await _post(client, token, orders, n, body)


def _inline_threadpool() -> None:
    """Only under --profile: the work FastAPI sends to the thread pool runs inline on the event
    loop's thread, where cProfile sees it (the hops themselves then cost nothing: read the
    profile for the work, the unprofiled run for the total)."""
    import anyio.to_thread

    async def inline(func: Any, *args: Any, **_: Any) -> Any:
        return func(*args)

    anyio.to_thread.run_sync = inline  # type: ignore[assignment]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--tickets", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--orders", type=int, default=40)
    parser.add_argument("--body", choices=sorted(BODIES), default="plain")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="print cProfile's N costliest functions")
    parser.add_argument("--statements", action="store_true", help="print the SQL of one ticket")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="aftersales-intake-profile-") as tmp:
        url = _environment(Path(tmp), args.db)
        try:
            _run(args, url)
        finally:
            _drop(url)


def _run(args: argparse.Namespace, url: str) -> None:
    import psutil

    from aftersales import cli

    cli.migrate()  # the schema and the defaults `aftersales migrate` loads (policies, SLA, routing)
    from bench.seed_shop import intake_orders

    intake_orders("BN", args.orders, 50)
    from aftersales.db.uow import Database
    from aftersales.identity import service as identity
    from aftersales.kit.access import Role
    from aftersales.main import create_app

    db = Database(url)
    identity.create_user(db, username="profile-intake", password="profile-password-123", role=Role.INTEGRATION)  # noqa: S106
    token = identity.create_token(db, "profile-intake", name="profile").token
    app = create_app()
    body = BODIES[args.body]
    counter = Counter()

    asyncio.run(_drive(app, token, orders=args.orders, start=0, count=args.warmup, body=body))
    if args.statements:
        counter.record = []
        asyncio.run(_drive(app, token, orders=args.orders, start=args.warmup, count=1, body=body))
        print("# the SQL of one ticket:", file=sys.stderr)
        for i, line in enumerate(counter.record, 1):
            print(f"# {i:3d} {line}", file=sys.stderr)
        counter.record = None
    start = args.warmup + 1
    counter.statements = counter.flushes = counter.commits = 0
    profiler = cProfile.Profile() if args.profile else None
    if profiler:
        _inline_threadpool()  # cProfile sees one thread: run the thread pool's work on it
    # A sampling profiler (py-spy record -p PID) can attach when this line appears.
    print(f"# load starts: pid {os.getpid()}", file=sys.stderr, flush=True)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    asyncio.run(_drive(app, token, orders=args.orders, start=start, count=args.tickets, body=body))
    if profiler:
        profiler.disable()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    if profiler:
        stats = pstats.Stats(profiler, stream=sys.stderr)
        stats.sort_stats("cumulative").print_stats(args.profile)
        stats.sort_stats("tottime").print_stats(args.profile)
    n = args.tickets
    print(
        json.dumps(
            {
                "db": args.db,
                "body": args.body,
                "tickets": n,
                "cpu_ms_per_ticket": round(cpu / n * 1000, 2),
                "wall_ms_per_ticket": round(wall / n * 1000, 2),
                "statements_per_ticket": round(counter.statements / n, 2),
                "flushes_per_ticket": round(counter.flushes / n, 2),
                "commits_per_ticket": round(counter.commits / n, 2),
                "rss_mb": round(psutil.Process().memory_info().rss / 2**20),
                "profiled": bool(profiler),
            }
        )
    )


if __name__ == "__main__":
    main()
