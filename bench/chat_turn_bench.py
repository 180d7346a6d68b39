"""CPU time of the assistant's part of one chat turn: the message understood, its clauses understood
one by one when it has several (agenda.clauses), and the dialogue's answer over ten orders; the
database and the help-center search are not in it. One core pinned, thread CPU time per message,
over every message of the frozen test set and the held-out split, five rounds.

    .venv/bin/python bench/chat_turn_bench.py [--without-clauses]   # the latter: as before agenda.py
"""

from __future__ import annotations

import csv
import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from aftersales.assistant import agenda, dialogue
from aftersales.assistant import service as understanding

DATA = Path(__file__).resolve().parents[1] / "src" / "aftersales" / "understanding" / "data"
TODAY = date(2026, 12, 7)
ROUNDS = 5


def _orders() -> tuple[dialogue.Order, ...]:
    kinds = [("delivered", "跑步鞋 running shoes", "apparel"), ("shipped", "无线耳机 headphones", "electronics")]
    kinds += [("paid", "海尔洗衣机 washing machine", "home_appliances")]
    found = []
    for n in range(10):
        status, name, category = kinds[n % 3]
        found.append(
            dialogue.Order(
                number=f"SO26112200001{n:02d}",
                status=status,
                placed_on=TODAY - timedelta(days=n + 2),
                delivered_on=TODAY - timedelta(days=n) if status == "delivered" else None,
                shipped=status != "paid",
                total="399.00",
                currency="CNY",
                lines=(dialogue.Line(1, name, category, 1),),
            )
        )
    return tuple(found)


def main() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
    texts = []
    for name in ("frozen_test.csv", "heldout.csv"):
        with (DATA / name).open(encoding="utf-8") as handle:
            texts += [row["text"] for row in csv.DictReader(line for line in handle if not line.startswith("#"))]
    understanding.load_model()
    with_clauses = "--without-clauses" not in sys.argv
    for text in texts[:50]:  # warm-up: the tokenizer's first use loads its dictionary
        understanding.understand(text)
    ctx = dialogue.Snapshot(today=TODAY, orders=_orders())
    state = dialogue.State(focus=ctx.orders[0].number, seen=(ctx.orders[0].number, ctx.orders[1].number))
    costs: list[float] = []
    split = 0
    for round_no in range(ROUNDS):
        for text in texts:
            start = time.thread_time()
            u = understanding.understand(text)
            parts = [understanding.understand(c) for c in agenda.clauses(text)] if with_clauses else []
            dialogue.respond(u, state, ctx, parts=parts)
            costs.append((time.thread_time() - start) * 1000)
            split += bool(parts) and round_no == 0
    costs.sort()
    p99 = costs[int(len(costs) * 0.99) - 1]
    print(f"messages {len(texts)} x {ROUNDS} rounds; {split} cut into clauses")
    print(f"CPU ms per message: p50 {statistics.median(costs):.2f}  p99 {p99:.2f}  max {costs[-1]:.2f}")


if __name__ == "__main__":
    main()
