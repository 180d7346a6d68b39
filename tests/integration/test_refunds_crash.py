"""The exactly-once proof: a real worker process executes a batch of refunds against a flaky
gateway, is killed with SIGKILL half-way, and a new worker finishes the batch. Every refund reaches
the gateway exactly once, with its own amount, and no order is refunded more than it was paid."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from huey import SqliteHuey
from sqlalchemy import select

from aftersales.db.uow import Database
from aftersales.kit.errors import Conflict
from aftersales.orders.models import Order
from aftersales.refunds import tasks as refund_tasks
from aftersales.refunds.models import GatewayRefund, Refund
from aftersales.worker import tasks as worker_tasks

from ..factories import Factory
from .helpers import outbox_rows
from .test_refunds_support import paid_order, request

pytestmark = pytest.mark.slow

ORDERS = 10
SPLIT = ("100.00", "150.00", "148.00")  # three partial refunds: exactly the 398.00 each order cost
DEADLINE_SECONDS = 90

# The worker: the real `aftersales worker` command, which registers every context's handlers. The
# outbox lease is shortened (from 120 s), so the messages the killed worker had leased come back
# within the test's patience.
BOOT = """
import os
from datetime import timedelta
from aftersales.messaging import outbox
outbox.LEASE = timedelta(seconds=float(os.environ["REFUNDS_TEST_LEASE_SECONDS"]))
from aftersales.cli import app
app(["worker", "--threads", "3"])
"""


@dataclass
class Workers:
    database_url: str
    tmp: Path
    processes: list[subprocess.Popen[bytes]]

    def start(self, seed: int) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "AFTERSALES_DATABASE_URL": self.database_url,
            "AFTERSALES_QUEUE_URL": f"sqlite:///{self.tmp / 'queue.db'}",
            "AFTERSALES_QUEUE_IMMEDIATE": "false",
            "AFTERSALES_ENV": "test",
            "AFTERSALES_LOG_JSON": "true",
            "AFTERSALES_LOG_LEVEL": "INFO",
            "AFTERSALES_REFUND_GATEWAY_FAILURE_RATE": "0.2",
            "AFTERSALES_REFUND_GATEWAY_SEED": str(seed),
            "AFTERSALES_REFUND_GATEWAY_LATENCY_MS": "150",
            "AFTERSALES_REFUND_GATEWAY_CONFIRM_DELAY_SECONDS": "4",
            "AFTERSALES_REFUND_RECONCILE_AFTER_SECONDS": "8",
            "REFUNDS_TEST_LEASE_SECONDS": "10",
        }
        log = (self.tmp / f"worker-{len(self.processes)}.log").open("wb")
        process = subprocess.Popen([sys.executable, "-c", BOOT], env=env, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def log(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.tmp.glob("worker-*.log")))


@pytest.fixture
def workers(db: Database, tmp_path: Path, no_outbox_kick: None) -> Iterator[Workers]:
    """Worker processes on this test's database; all are killed before the database is emptied."""
    pool = Workers(db.url, tmp_path, processes=[])
    yield pool
    for process in pool.processes:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def kicker(tmp: Path) -> tuple[Callable[[], Any], Callable[[], Any]]:
    """Enqueue the outbox drain and the refunds reconciliation on the workers' queue from here
    (the periodic runs come only once a minute)."""
    queue = SqliteHuey("aftersales", filename=str(tmp / "queue.db"))
    drain = queue.task()(worker_tasks.drain_outbox.func)
    reconcile = queue.task()(refund_tasks.reconcile_refunds.func)
    return drain, reconcile


def snapshot(db: Database) -> tuple[list[Refund], list[GatewayRefund]]:
    with db.read() as uow:
        refunds = list(uow.session.scalars(select(Refund).order_by(Refund.id)))
        ledger = list(uow.session.scalars(select(GatewayRefund).order_by(GatewayRefund.id)))
        return refunds, ledger


def wait_for(condition: Callable[[], bool], seconds: float, every: Callable[[], Any] | None = None) -> bool:
    deadline = time.monotonic() + seconds
    last_kick = 0.0
    while time.monotonic() < deadline:
        if condition():
            return True
        if every is not None and time.monotonic() - last_kick > 1.0:
            every()
            last_kick = time.monotonic()
        time.sleep(0.05)
    return condition()


def test_a_worker_killed_mid_batch_leaves_every_refund_exactly_once_at_the_gateway(
    db: Database, factory: Factory, workers: Workers
) -> None:
    factory.catalogue()
    keys: list[str] = []
    for n in range(ORDERS):
        number = f"SO-K{n:02d}"
        order_id = paid_order(db, number)
        for part, amount in enumerate(SPLIT):
            keys.append(request(db, order_id, amount, f"crash:{number}:{part}", number=number).idempotency_key)
        with pytest.raises(Conflict):  # the cap holds before anything ran
            request(db, order_id, "0.01", f"crash:{number}:over", number=number)
    drain, reconcile = kicker(workers.tmp)

    # First worker: let it reach the gateway with part of the batch, then kill it without warning.
    first = workers.start(seed=11)
    drain()
    reached_some = wait_for(lambda: len(snapshot(db)[1]) >= 8, 45, every=lambda: drain())
    assert reached_some, "the first worker never reached the gateway:\n" + workers.log()[-4000:]
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    at_kill, ledger_at_kill = snapshot(db)
    states_at_kill = Counter(r.status for r in at_kill)
    assert states_at_kill["requested"] > 0, f"the batch was already done when the worker died: {states_at_kill}"

    # Second worker: finishes the batch; leases of the dead worker expire, lost work is redone.
    workers.start(seed=23)

    def kick() -> None:
        drain()
        reconcile()

    def all_settled() -> bool:
        refunds, _ = snapshot(db)
        return all(r.status == "succeeded" for r in refunds)

    finished = wait_for(all_settled, DEADLINE_SECONDS, every=kick)
    refunds, ledger = snapshot(db)
    assert finished, f"not settled in time: {Counter(r.status for r in refunds)}\n" + workers.log()[-4000:]

    # Exactly one gateway refund per refund key, with the refund's own payment, amount and reference.
    assert len(refunds) == len(keys) == ORDERS * len(SPLIT)
    assert sorted(g.idempotency_key for g in ledger) == sorted(keys)
    by_key = {g.idempotency_key: g for g in ledger}
    for refund in refunds:
        taken = by_key[refund.idempotency_key]
        assert (taken.payment_reference, taken.amount, taken.currency) == (
            refund.payment_reference,
            refund.amount,
            refund.currency,
        )
        assert (taken.status, taken.gateway_ref) == ("succeeded", refund.gateway_ref)

    # No order was refunded more than it cost, at our end or at the gateway's.
    with db.read() as uow:
        payable = {number: total for number, total in uow.session.execute(select(Order.number, Order.payable_total))}
    ours: dict[str, Decimal] = defaultdict(Decimal)
    for refund in refunds:
        ours[refund.order_number] += refund.amount
    theirs: dict[str, Decimal] = defaultdict(Decimal)
    for taken in ledger:
        theirs[taken.payment_reference] += taken.amount
    for number, total in ours.items():
        assert total <= payable[number]
        assert theirs[f"PAY-{number}"] == total

    # Each refund was settled and announced once.
    settled = outbox_rows(db, "refund.settled")
    assert sorted(m["payload"]["refund_id"] for m in settled) == sorted(r.id for r in refunds)

    log = workers.log()
    assert "refund.gateway_unavailable" in log, "the gateway never failed: the run proved less than it should"
    print(  # shown with -s: how hard the run pushed the exactly-once machinery
        f"at kill: {dict(states_at_kill)}, ledger rows {len(ledger_at_kill)}; "
        f"transient gateway errors: {log.count('refund.gateway_unavailable')}; "
        f"resubmissions deduplicated by the gateway: {log.count('gateway_sim.resubmission')}; "
        f"refund attempts recorded: {sum(r.attempts for r in refunds)}"
    )
