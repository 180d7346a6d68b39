"""Benchmark of the assistant's understanding: latency, throughput and held-out accuracy.

    .venv/bin/python bench/assistant_bench.py            # Markdown table on stdout
    .venv/bin/python bench/assistant_bench.py --sweep    # also the out-of-scope threshold sweep

One core (pinned with sched_setaffinity where the OS has it), the model loaded and warmed up
first; every held-out message goes through `service.understand` (preprocessing, classifier,
entities) one at a time, several rounds. Targets: p99 <= 10 ms, >= 1,000 msg/s, held-out
accuracy >= 95%. Measured, not asserted: nothing here runs in the test suite.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from aftersales.assistant import nlu, service
from aftersales.assistant.domain import INTENTS, OUT_OF_SCOPE_THRESHOLD, decide
from aftersales.assistant.evaluation import score

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


def calibration_error(confidences: list[float], correct: list[bool], bins: int = 10) -> float:
    """Expected calibration error of the top intent: |confidence - accuracy|, weighted by bin."""
    total = 0.0
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        chosen = [i for i, c in enumerate(confidences) if low < c <= high or (b == 0 and c == 0)]
        if chosen:
            mean_conf = statistics.fmean(confidences[i] for i in chosen)
            accuracy = statistics.fmean(1.0 if correct[i] else 0.0 for i in chosen)
            total += len(chosen) / len(confidences) * abs(mean_conf - accuracy)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="passes over the held-out messages")
    parser.add_argument("--sweep", action="store_true", help="print held-out accuracy per out-of-scope threshold")
    args = parser.parse_args()

    pinned = pin_one_core()
    started = time.perf_counter()
    nlu.load_model(retrain=True)
    train_seconds = time.perf_counter() - started
    nlu.forget_model()
    started = time.perf_counter()
    nlu.load_model()
    load_seconds = time.perf_counter() - started

    heldout = nlu.read_examples(nlu.HELDOUT_FILE)
    texts = [text for text, _ in heldout]
    for text in texts:  # warm-up: caches, branch predictors, lazily built analyzers
        service.understand(text, TODAY)

    latencies: list[float] = []
    wall = time.perf_counter()
    for _ in range(args.rounds):
        for text in texts:
            begin = time.perf_counter()
            service.understand(text, TODAY)
            latencies.append(time.perf_counter() - begin)
    wall = time.perf_counter() - wall
    latencies.sort()

    started = time.perf_counter()
    batch = service.classify_many(texts * args.rounds, TODAY)
    batch_rate = len(batch) / (time.perf_counter() - started)

    report = score([intent for _, intent in heldout], [u.intent for u in batch[: len(texts)]], INTENTS)
    top = [u.ranking[0] for u in batch[: len(texts)]]
    right = [name == intent for (name, _), (_, intent) in zip(top, heldout, strict=True)]
    ece = calibration_error([p for _, p in top], right)
    train_rows = nlu.read_examples(nlu.TRAIN_FILE)

    print(f"# Assistant understanding benchmark ({date.today().isoformat()})\n")  # noqa: DTZ011 - the bench's own date
    print(f"- machine: {os.cpu_count()} CPUs, {cpu_model()}; {pinned}; Python {platform.python_version()}")
    print(f"- training data: {len(train_rows)} messages; held-out: {len(heldout)} messages")
    print(f"- out-of-scope threshold: {OUT_OF_SCOPE_THRESHOLD}\n")
    print("| measure | value | target |")
    print("| --- | --- | --- |")
    print(f"| training from scratch (first start) | {train_seconds:.1f} s | seconds |")
    print(f"| loading from the disk cache | {load_seconds * 1000:.0f} ms | |")
    print(f"| latency p50, one message | {percentile(latencies, 0.50) * 1000:.2f} ms | |")
    print(f"| latency p99, one message | {percentile(latencies, 0.99) * 1000:.2f} ms | <= 10 ms |")
    print(f"| latency mean | {statistics.fmean(latencies) * 1000:.2f} ms | |")
    print(f"| throughput, one message at a time | {len(latencies) / wall:,.0f} msg/s | >= 1,000 msg/s |")
    print(f"| throughput, classify_many | {batch_rate:,.0f} msg/s | |")
    print(f"| held-out accuracy | {report.accuracy * 100:.1f}% ({report.correct}/{report.total}) | >= 95% |")
    print(f"| held-out macro F1 | {report.macro_f1:.3f} | |")
    print(f"| calibration error of the top intent (ECE, 10 bins) | {ece:.3f} | |")

    if args.sweep:
        model = nlu.load_model()
        probabilities = model.probabilities(texts)
        print("\n| out-of-scope threshold | held-out accuracy | out_of_scope recall | action intents wrongly taken |")
        print("| --- | --- | --- | --- |")
        for threshold in (0.0, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6):
            predicted = [decide(p, threshold)[0] for p in probabilities]
            swept = score([intent for _, intent in heldout], predicted, INTENTS)
            oos = next((s.recall for s in swept.per_intent if s.intent == "out_of_scope"), 0.0)
            wrong_action = sum(
                1
                for (_, truth), guess in zip(heldout, predicted, strict=True)
                if guess != truth and guess not in ("out_of_scope", "greeting", "thanks", "goodbye")
            )
            print(f"| {threshold:.2f} | {swept.accuracy * 100:.1f}% | {oos:.3f} | {wrong_action} |")


if __name__ == "__main__":
    main()
