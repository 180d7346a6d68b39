"""Scoring the intent classifier on labelled messages: accuracy, in-scope accuracy, out-of-scope
precision and recall, per-intent precision, recall and F1, the confusions, the out-of-scope
precision/recall curve; and the overlap check that keeps test messages out of the training
text. Pure: predictions in, a report out."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aftersales.understanding.normalising import to_simplified

OUT_OF_SCOPE = "out_of_scope"
# Labels evaluation files may use for out of scope (public sets write "oos").
LABEL_ALIASES = {"oos": OUT_OF_SCOPE, "out-of-scope": OUT_OF_SCOPE}
# Trigram Jaccard similarity of the normalised forms from which two messages count as the same.
NEAR_DUPLICATE = 0.6


def canonical_label(label: str) -> str:
    label = label.strip().lower()
    return LABEL_ALIASES.get(label, label)


@dataclass(frozen=True, slots=True)
class IntentScore:
    intent: str
    precision: float
    recall: float
    f1: float
    support: int  # labelled examples of this intent
    predicted: int  # messages predicted as this intent


@dataclass(frozen=True, slots=True)
class CurvePoint:
    """Out-of-scope detection at one threshold: messages whose best in-scope probability is
    below it are called out of scope."""

    threshold: float
    precision: float
    recall: float
    in_scope_accuracy: float


@dataclass(frozen=True, slots=True)
class Bin:
    """Messages whose confidence fell in (low, high]: their mean confidence and their accuracy."""

    low: float
    high: float
    count: int
    confidence: float
    accuracy: float


def reliability(confidences: Sequence[float], correct: Sequence[bool], bins: int = 10) -> list[Bin]:
    """A confidence that means what it says has accuracy close to confidence in every bin."""
    out = []
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        chosen = [i for i, c in enumerate(confidences) if low < c <= high or (b == 0 and c <= 0)]
        if chosen:
            confidence = sum(confidences[i] for i in chosen) / len(chosen)
            accuracy = sum(1 for i in chosen if correct[i]) / len(chosen)
            out.append(Bin(low, high, len(chosen), confidence, accuracy))
    return out


@dataclass(frozen=True, slots=True)
class Report:
    total: int
    correct: int
    per_intent: list[IntentScore] = field(default_factory=list)
    confusions: list[tuple[str, str, int]] = field(default_factory=list)  # (true, predicted, count)
    in_scope_total: int = 0
    in_scope_correct: int = 0
    oos_curve: list[CurvePoint] = field(default_factory=list)
    threshold: float | None = None  # the operating point the predictions were made at
    reliability: list[Bin] = field(default_factory=list)  # confidence against accuracy

    # Shares with tickets' accuracy report only the 'right / seen' arithmetic, on purpose: two reports.
    @property
    def calibration_error(self) -> float:
        """Expected calibration error: |confidence - accuracy| per bin, weighted by its messages."""
        total = sum(b.count for b in self.reliability)
        return sum(b.count * abs(b.confidence - b.accuracy) for b in self.reliability) / total if total else 0.0

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    @property
    def in_scope_accuracy(self) -> float:
        """Of the messages labelled with an intent (not out of scope), the share given that intent."""
        return self.in_scope_correct / self.in_scope_total if self.in_scope_total else 0.0

    def _oos(self) -> IntentScore | None:
        return next((s for s in self.per_intent if s.intent == OUT_OF_SCOPE), None)

    @property
    def oos_precision(self) -> float:
        oos = self._oos()
        return oos.precision if oos else 0.0

    @property
    def oos_recall(self) -> float:
        oos = self._oos()
        return oos.recall if oos else 0.0

    @property
    def macro_f1(self) -> float:
        scored = [s for s in self.per_intent if s.support]
        return sum(s.f1 for s in scored) / len(scored) if scored else 0.0

    def as_json(self, top_confusions: int = 20) -> dict[str, Any]:
        """The report as `aftersales assistant eval --json` prints it."""
        return {
            "total": self.total,
            "accuracy": round(self.accuracy, 4),
            "in_scope_accuracy": round(self.in_scope_accuracy, 4),
            "in_scope_total": self.in_scope_total,
            "oos_precision": round(self.oos_precision, 4),
            "oos_recall": round(self.oos_recall, 4),
            "macro_f1": round(self.macro_f1, 4),
            "calibration_error": round(self.calibration_error, 4),
            "threshold": self.threshold,
            "per_intent": {
                s.intent: {
                    "precision": round(s.precision, 4),
                    "recall": round(s.recall, 4),
                    "f1": round(s.f1, 4),
                    "support": s.support,
                    "predicted": s.predicted,
                }
                for s in self.per_intent
            },
            "confusions": [{"true": t, "predicted": p, "count": n} for t, p, n in self.confusions[:top_confusions]],
            "oos_curve": [
                {
                    "threshold": c.threshold,
                    "precision": round(c.precision, 4),
                    "recall": round(c.recall, 4),
                    "in_scope_accuracy": round(c.in_scope_accuracy, 4),
                }
                for c in self.oos_curve
            ],
            "reliability": [
                {
                    "low": b.low,
                    "high": b.high,
                    "count": b.count,
                    "confidence": round(b.confidence, 4),
                    "accuracy": round(b.accuracy, 4),
                }
                for b in self.reliability
            ],
        }

    def lines(self, top_confusions: int = 10) -> list[str]:
        """The report as plain-text lines, as `aftersales assistant eval` prints it."""
        out = [
            f"accuracy: {self.accuracy:.4f} ({self.correct}/{self.total})",
            f"in-scope accuracy: {self.in_scope_accuracy:.4f} ({self.in_scope_correct}/{self.in_scope_total})",
            f"out-of-scope precision: {self.oos_precision:.4f}",
            f"out-of-scope recall: {self.oos_recall:.4f}",
            f"macro F1: {self.macro_f1:.4f}",
            f"calibration error (ECE): {self.calibration_error:.4f}",
            "",
            f"{'intent':<18} {'precision':>9} {'recall':>7} {'f1':>7} {'support':>8}",
        ]
        for s in self.per_intent:
            out.append(f"{s.intent:<18} {s.precision:>9.3f} {s.recall:>7.3f} {s.f1:>7.3f} {s.support:>8d}")
        out.append("")
        if self.confusions:
            out.append("most common confusions (true -> predicted: count):")
            for true, predicted, count in self.confusions[:top_confusions]:
                out.append(f"  {true} -> {predicted}: {count}")
        else:
            out.append("no confusions")
        if self.oos_curve:
            out += ["", "out-of-scope curve (threshold: precision recall in-scope-accuracy):"]
            for c in self.oos_curve:
                mark = (
                    "  <- operating point"
                    if self.threshold is not None and abs(c.threshold - self.threshold) < 1e-9
                    else ""
                )
                out.append(f"  {c.threshold:.2f}: {c.precision:.3f} {c.recall:.3f} {c.in_scope_accuracy:.3f}{mark}")
        return out


def score(
    truth: Sequence[str],
    predicted: Sequence[str],
    intents: Sequence[str] = (),
    *,
    curve: Sequence[CurvePoint] = (),
    threshold: float | None = None,
    confidences: Sequence[float] = (),
) -> Report:
    """Compare predictions with labels. `intents` fixes the order of the per-intent rows; labels
    or predictions outside it are appended, so an unknown label in a file is visible, not lost."""
    if len(truth) != len(predicted):
        raise ValueError(f"{len(truth)} labels but {len(predicted)} predictions")
    order = list(intents) + sorted((set(truth) | set(predicted)) - set(intents))
    pairs = Counter(zip(truth, predicted, strict=True))
    support = Counter(truth)
    guessed = Counter(predicted)
    rows = []
    for intent in order:
        hits = pairs[(intent, intent)]
        precision = hits / guessed[intent] if guessed[intent] else 0.0
        recall = hits / support[intent] if support[intent] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        if support[intent] or guessed[intent]:
            rows.append(IntentScore(intent, precision, recall, f1, support[intent], guessed[intent]))
    confusions = sorted(
        ((t, p, n) for (t, p), n in pairs.items() if t != p),
        key=lambda item: (-item[2], item[0], item[1]),
    )
    correct = sum(n for (t, p), n in pairs.items() if t == p)
    in_scope = sum(n for t, n in support.items() if t != OUT_OF_SCOPE)
    in_scope_correct = sum(n for (t, p), n in pairs.items() if t == p and t != OUT_OF_SCOPE)
    # Field by field on purpose: Report's own fields; look-alikes elsewhere build others'.
    return Report(
        total=len(truth),
        correct=correct,
        per_intent=rows,
        confusions=confusions,
        in_scope_total=in_scope,
        in_scope_correct=in_scope_correct,
        oos_curve=list(curve),
        threshold=threshold,
        reliability=reliability(confidences, [t == p for t, p in zip(truth, predicted, strict=True)])
        if confidences
        else [],
    )


def oos_curve(truth: Sequence[str], best: Sequence[tuple[str, float]], thresholds: Iterable[float]) -> list[CurvePoint]:
    """Out-of-scope precision and recall, and in-scope accuracy, at each threshold. `best` is,
    per message, the model's best in-scope intent and the score the threshold is compared with
    (a best intent of out_of_scope is out of scope at any threshold)."""
    points = []
    for threshold in thresholds:
        called = [intent == OUT_OF_SCOPE or value < threshold for intent, value in best]
        is_oos = [label == OUT_OF_SCOPE for label in truth]
        hits = sum(c and o for c, o in zip(called, is_oos, strict=True))
        precision = hits / sum(called) if any(called) else 1.0
        recall = hits / sum(is_oos) if any(is_oos) else 0.0
        in_scope = [
            not c and intent == label
            for c, (intent, _), label in zip(called, best, truth, strict=True)
            if label != OUT_OF_SCOPE
        ]
        accuracy = sum(in_scope) / len(in_scope) if in_scope else 0.0
        points.append(CurvePoint(round(threshold, 4), precision, recall, accuracy))
    return points


# --- overlap between test and training text ----------------------------------------------------
_REPEATED = re.compile(r"([^\W\d_])\1{2,}")  # a letter or character typed three times or more
_NOT_WORD = re.compile(r"[\W_]+")


def dedup_key(text: str) -> str:
    """The form two messages are compared in: NFKC, lower case, simplified Chinese, elongations
    cut to two ("sooooo" = "soo"), punctuation, spaces and emoji dropped. A message of symbols
    only keeps its symbols (so "👍" and "？？" stay different)."""
    norm = to_simplified(unicodedata.normalize("NFKC", text).lower())
    key = _NOT_WORD.sub("", _REPEATED.sub(r"\1\1", norm))
    return key or "".join(norm.split())


def _trigrams(key: str) -> frozenset[str]:
    return frozenset(key[i : i + 3] for i in range(max(1, len(key) - 2)))


def overlaps(
    tests: Sequence[str], training: Sequence[str], near: float = NEAR_DUPLICATE
) -> list[tuple[str, str, float]]:
    """(test message, training message, similarity) for each test message whose normalised form
    equals a training message's (similarity 1.0) or whose trigram Jaccard similarity reaches `near`."""
    keys = {dedup_key(t): t for t in training}
    grams = [(_trigrams(k), t) for k, t in keys.items()]
    index: dict[str, list[int]] = defaultdict(list)
    for i, (g, _) in enumerate(grams):
        for gram in g:
            index[gram].append(i)
    found = []
    for test in tests:
        key = dedup_key(test)
        if key in keys:
            found.append((test, keys[key], 1.0))
            continue
        mine = _trigrams(key)
        candidates = {i for gram in mine for i in index.get(gram, ())}
        best, similar = 0.0, ""
        for i in candidates:
            theirs, text = grams[i]
            value = len(mine & theirs) / len(mine | theirs)
            if value > best:
                best, similar = value, text
        if best >= near:
            found.append((test, similar, round(best, 3)))
    return found
