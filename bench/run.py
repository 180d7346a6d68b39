"""Every benchmark in one command; rewrites docs/benchmarks.md and bench/results/last.json.

    python bench/run.py            # the full run (intake, limit, SLA sweep, assistant, 1M orders)
    python bench/run.py --quick    # the same, short: 5 s loads, 100k orders, small SLA sizes
    python bench/run.py --skip big-orders --skip postgresql

PostgreSQL comes from AFTERSALES_BENCH_PG_URL (default postgresql://postgres@127.0.0.1:5432/postgres,
`make bench` asks scripts/ensure-postgres.sh); when none answers, its parts are skipped and the
section says so. Every server binds 127.0.0.1 and is stopped when its part ends.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import big_orders, harness, intake

PARTS = ("intake", "postgresql", "sla", "assistant", "big-orders")


def assistant(command: list[str]) -> str:
    harness.log("assistant benchmark")
    out = harness.run(command, dict(os.environ), harness.ROOT, timeout=1800)
    body = "\n".join(line for line in out.splitlines() if not line.startswith("# "))
    return f"- command: `{' '.join(command[1:])}` (run by `bench/run.py`)\n" + body.strip() + "\n"


def sla(sizes: list[int]) -> str | None:
    script = harness.ROOT / "bench" / "sla_sweep.py"
    if not script.exists():
        harness.log("bench/sla_sweep.py does not exist yet: SLA sweep skipped")
        return None
    harness.log(f"SLA sweep at {sizes}")
    command = [sys.executable, str(script), "--sizes", *map(str, sizes)]
    out = harness.run(command, dict(os.environ), harness.ROOT, timeout=7200)
    body = "\n".join(line for line in out.splitlines() if not line.startswith("# "))
    return f"- command: `python bench/sla_sweep.py --sizes {' '.join(map(str, sizes))}`\n" + body.strip() + "\n"


def pick(text: str, label: str) -> str:
    """The value cell of a '| label | value | ...' row in a Markdown table, or '-'."""
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0].startswith(label):
            return cells[1]
    return "-"


def summary(data: dict[str, Any], command: str, sections: dict[str, str]) -> str:
    rows: list[tuple[str, str]] = [
        ("date", data.get("date", harness.today())),
        ("machine", data.get("machine", harness.machine())),
        ("commit", data.get("commit", harness.commit())),
        ("command", f"`{command}`"),
    ]
    bare = data.get("bare") or {}
    for kind, scenarios in sorted((data.get("intake") or {}).items(), key=lambda kv: kv[0] != "sqlite"):
        for name, f in scenarios.items():
            ratio = f", {f['rate'] / bare['rate'] * 100:.0f} % of the limit" if bare.get("rate") else ""
            rows.append(
                (
                    f"intake: {name} on {kind}",
                    f"{f['rate']:,.0f} req/s, p50 {f['p50_ms']:.0f} ms, p99 {f['p99_ms']:.0f} ms, "
                    f"RSS {f['rss_peak_mb']:.0f} MB{ratio}",
                )
            )
    if bare:
        rows.append(("the stack's limit (bare FastAPI + 1 SQLite insert)", f"{bare['rate']:,.0f} req/s"))
    if "SLA sweep" in sections:
        rows.append(("SLA sweep", "see the section below"))
    if "Assistant understanding" in sections:
        text = sections["Assistant understanding"]
        rows.append(
            (
                "assistant",
                f"p99 {pick(text, 'latency p99')}, {pick(text, 'throughput, one message')} one at a time",
            )
        )
    for kind, f in sorted((data.get("big_orders") or {}).items(), key=lambda kv: kv[0] != "sqlite"):
        page, case = f["order page, agent"], f["case page, agent"]
        rows.append(
            (
                f"pages with {f['orders']:,} orders on {kind}",
                f"order page p50 {page['p50_ms']:.0f} ms / p99 {page['p99_ms']:.0f} ms; "
                f"case page p50 {case['p50_ms']:.0f} ms / p99 {case['p99_ms']:.0f} ms",
            )
        )
    soak = harness.Record.load("soak")
    if soak:
        rows.append(
            (
                "soak (last `make soak`)",
                f"{soak['minutes']} min at {soak['achieved_rate']:.0f} req/s: {soak['errors']} errors, "
                f"RSS {soak['rss_start_mb']:.0f} → {soak['rss_end_mb']:.0f} MB",
            )
        )
    note = (
        "\nThe machine is shared: other work may run on the other core while the benchmarks run, so "
        "treat the figures as lower bounds and compare runs on the same machine only. Date, commit and "
        "command are those of the last run; a part it skipped keeps its figures and its own section "
        "names the run that measured them.\n"
    )
    return harness.table([(a, b) for a, b in rows], ("", "")) + note


def refresh_summary() -> None:
    """Rewrite the summary from bench/results/*.json (the soak calls this after its run)."""
    data = harness.Record.load()
    if data:
        text = harness.DOC.read_text() if harness.DOC.exists() else ""
        command = data.get("command", "python bench/run.py")
        harness.write_sections({"Summary": summary(data, command, harness.sections(text))})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short loads and smaller data: minutes, not an hour")
    parser.add_argument("--skip", action="append", default=[], choices=PARTS, help="leave a part out (repeatable)")
    parser.add_argument("--seconds", type=int, help="seconds of load per intake scenario")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--orders", type=int, help="orders for the page benchmark (default 1,000,000; quick 100,000)")
    args = parser.parse_args()
    command = "python bench/run.py" + (" --quick" if args.quick else "") + "".join(f" --skip {s}" for s in args.skip)
    seconds = args.seconds or (5 if args.quick else 30)
    started = time.monotonic()
    harness.ensure_wrk()
    pg = "postgresql" not in args.skip and harness.postgres_reachable()
    if "postgresql" not in args.skip and not pg:
        harness.log(f"no PostgreSQL answers at {harness.PG_URL}: its parts are skipped")
    kinds = ["sqlite", *(["postgresql"] if pg else [])]

    data: dict[str, Any] = {
        "date": harness.today(),
        "machine": harness.machine(),
        "commit": harness.commit(),
        "command": command,
    }
    sections: dict[str, str] = {}
    if "intake" not in args.skip:
        data["bare"] = intake.run_bare(seconds=seconds, connections=args.connections)
        data["intake"] = {
            kind: intake.run_database(kind, seconds=seconds, connections=args.connections, orders=300, quantity=100)
            for kind in kinds
        }
        sections["Intake over HTTP"] = intake.section(
            data["intake"], data["bare"], seconds=seconds, connections=args.connections, command=command
        )
    if "sla" not in args.skip:
        sizes = [1000, 10_000, 100_000] if args.quick else [1000, 100_000, 1_000_000]
        if (text := sla(sizes)) is not None:
            sections["SLA sweep"] = text
    if "assistant" not in args.skip:
        sections["Assistant understanding"] = assistant([sys.executable, "bench/assistant_bench.py"])
    if "big-orders" not in args.skip:
        orders = args.orders or (100_000 if args.quick else 1_000_000)
        data["big_orders"] = {kind: big_orders.measure(kind, orders, 100 if args.quick else 200) for kind in kinds}
        sections["Order and case pages with 1M orders"] = big_orders.section(data["big_orders"], command)

    if not sections:
        harness.log("nothing was run")
        return
    data["seconds"] = time.monotonic() - started
    previous = harness.Record.load()
    harness.Record.save({**previous, **data})
    sections["Summary"] = summary(
        {**previous, **data}, command, {**harness.sections(harness.DOC.read_text()), **sections}
    )
    harness.write_sections(sections)
    harness.log(f"done in {data['seconds'] / 60:.1f} min: docs/benchmarks.md and bench/results/last.json rewritten")


if __name__ == "__main__":
    try:
        main()
    except subprocess.CalledProcessError as failed:
        sys.exit(f"bench failed: {failed}")
    except KeyboardInterrupt:
        sys.exit(130)
