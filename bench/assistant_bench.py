"""Benchmark of the assistant's understanding: latency, throughput, memory, and accuracy on the
held-out split and on the frozen test set.

    .venv/bin/python bench/assistant_bench.py            # Markdown table on stdout
    .venv/bin/python bench/assistant_bench.py --sweep    # also the out-of-scope threshold sweep

One core (pinned with sched_setaffinity where the OS has it), the model loaded and warmed up
first; every held-out message goes through `service.understand` (preprocessing, classifier,
entities) one at a time, several rounds. Targets: p99 <= 10 ms, >= 1,000 msg/s; on the frozen
test set in-scope accuracy >= 0.80 and out-of-scope recall >= 0.70 at precision >= 0.80. Memory:
the process's resident set before and after loading the model. Measured, not asserted: nothing
here runs in the test suite.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from aftersales.assistant import service
from aftersales.understanding import model as nlu
from aftersales.understanding.intents import OUT_OF_SCOPE_THRESHOLD

TODAY = date(2026, 11, 22)


def pin_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        return f"pinned to core {core}"
    return "not pinned (no sched_setaffinity on this OS)"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def percentile(sorted_values: list[float], fraction: float) -> float:
    index = min(len(sorted_values) - 1, round(fraction * (len(sorted_values) - 1)))
    return sorted_values[index]


def rss_mb() -> float:
    """Resident set size of this process in MB (Linux /proc; 0 where it is not available)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="passes over the held-out messages")
    parser.add_argument("--sweep", action="store_true", help="print held-out accuracy per out-of-scope threshold")
    parser.add_argument("--memory-only", action="store_true", help=argparse.SUPPRESS)  # the child process below
    args = parser.parse_args()
    if args.memory_only:  # a fresh process: the resident set before and after loading the cached model
        before = rss_mb()
        nlu.load_model()
        for text, _ in nlu.read_examples(nlu.HELDOUT_FILE):
            service.understand(text, TODAY)
        print(f"{before:.0f} {rss_mb():.0f}")
        return

    pinned = pin_one_core()
    started = time.perf_counter()
    nlu.load_model(retrain=True)
    train_seconds = time.perf_counter() - started
    nlu.forget_model()
    started = time.perf_counter()
    nlu.load_model()
    load_seconds = time.perf_counter() - started

    heldout = nlu.read_examples(nlu.HELDOUT_FILE)
    frozen = nlu.read_examples(nlu.FROZEN_TEST_FILE)
    texts = [text for text, _ in heldout]
    for text in texts:  # warm-up: caches, branch predictors, lazily built analyzers
        service.understand(text, TODAY)
    child = subprocess.run([sys.executable, __file__, "--memory-only"], capture_output=True, text=True, check=True)
    rss_before, rss_loaded = (float(v) for v in child.stdout.split())

    latencies: list[float] = []
    cpu: list[float] = []  # CPU time of this thread: what the message costs, whatever else the machine runs
    wall = time.perf_counter()
    for _ in range(args.rounds):
        for text in texts:
            begin, begin_cpu = time.perf_counter(), time.thread_time()
            service.understand(text, TODAY)
            cpu.append(time.thread_time() - begin_cpu)
            latencies.append(time.perf_counter() - begin)
    wall = time.perf_counter() - wall
    latencies.sort()
    cpu.sort()

    started = time.perf_counter()
    batch = service.classify_many(texts * args.rounds, TODAY)
    batch_rate = len(batch) / (time.perf_counter() - started)

    reports = {"held-out": service.evaluate(heldout, TODAY), "frozen test": service.evaluate(frozen, TODAY)}
    train_rows = nlu.read_examples(nlu.TRAIN_FILE)

    print(f"# Assistant understanding benchmark ({date.today().isoformat()})\n")  # noqa: DTZ011 - the bench's own date
    print(f"- machine: {os.cpu_count()} CPUs, {cpu_model()}; {pinned}; Python {platform.python_version()}")
    print(f"- training data: {len(train_rows)} messages; held-out: {len(heldout)}; frozen test: {len(frozen)}")
    print(f"- load average at the end: {' / '.join(f'{v:.1f}' for v in os.getloadavg())}")
    print(f"- out-of-scope threshold: {OUT_OF_SCOPE_THRESHOLD}\n")
    print("| measure | value | target |")
    print("| --- | --- | --- |")
    print(f"| training from scratch (first start) | {train_seconds:.1f} s | seconds |")
    print(f"| loading from the disk cache | {load_seconds * 1000:.0f} ms | |")
    memory = f"{rss_before:.0f} MB → {rss_loaded:.0f} MB (+{rss_loaded - rss_before:.0f} MB)"
    print(f"| resident memory of a fresh process: before → after loading and warming the model | {memory} | |")
    print(f"| latency p50, one message | {percentile(latencies, 0.50) * 1000:.2f} ms | |")
    print(f"| latency p99, one message | {percentile(latencies, 0.99) * 1000:.2f} ms | <= 10 ms |")
    print(f"| latency mean | {statistics.fmean(latencies) * 1000:.2f} ms | |")
    print(f"| throughput, one message at a time | {len(latencies) / wall:,.0f} msg/s | >= 1,000 msg/s |")
    cpu_ms = f"{percentile(cpu, 0.5) * 1000:.2f} / {percentile(cpu, 0.99) * 1000:.2f} ms"
    print(f"| CPU time per message p50 / p99 | {cpu_ms} | |")
    print(f"| throughput by CPU time (one core to itself) | {len(cpu) / sum(cpu):,.0f} msg/s | >= 1,000 msg/s |")
    print(f"| throughput, classify_many | {batch_rate:,.0f} msg/s | |")
    for name, report in reports.items():
        print(f"| {name}: accuracy | {report.accuracy:.3f} ({report.correct}/{report.total}) | |")
        print(f"| {name}: in-scope accuracy | {report.in_scope_accuracy:.3f} | >= 0.80 |")
        oos = f"{report.oos_precision:.3f} / {report.oos_recall:.3f}"
        print(f"| {name}: out-of-scope precision / recall | {oos} | >= 0.80 / >= 0.70 |")
        print(f"| {name}: macro F1 | {report.macro_f1:.3f} | |")
        print(f"| {name}: calibration error (ECE, 10 bins) | {report.calibration_error:.3f} | |")

    if args.sweep:
        for name, report in reports.items():
            print(f"\n{name}: out-of-scope threshold sweep\n")
            print("| threshold | out-of-scope precision | out-of-scope recall | in-scope accuracy |")
            print("| --- | --- | --- | --- |")
            for c in report.oos_curve:
                mark = " **(in use)**" if abs(c.threshold - OUT_OF_SCOPE_THRESHOLD) < 1e-9 else ""
                print(f"| {c.threshold:.2f}{mark} | {c.precision:.3f} | {c.recall:.3f} | {c.in_scope_accuracy:.3f} |")


if __name__ == "__main__":
    main()
