"""Scoring the intent classifier on labelled messages: accuracy, per-intent precision, recall
and F1, and the most common confusions. Pure: predictions in, a report out."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class IntentScore:
    intent: str
    precision: float
    recall: float
    f1: float
    support: int  # labelled examples of this intent
    predicted: int  # messages predicted as this intent


@dataclass(frozen=True, slots=True)
class Report:
    total: int
    correct: int
    per_intent: list[IntentScore] = field(default_factory=list)
    confusions: list[tuple[str, str, int]] = field(default_factory=list)  # (true, predicted, count)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    @property
    def macro_f1(self) -> float:
        scored = [s for s in self.per_intent if s.support]
        return sum(s.f1 for s in scored) / len(scored) if scored else 0.0

    def lines(self, top_confusions: int = 10) -> list[str]:
        """The report as plain-text lines, as `aftersales assistant eval` prints it."""
        out = [
            f"accuracy: {self.accuracy:.4f} ({self.correct}/{self.total})",
            f"macro F1: {self.macro_f1:.4f}",
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
        return out


def score(truth: Sequence[str], predicted: Sequence[str], intents: Sequence[str] = ()) -> Report:
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
    return Report(total=len(truth), correct=correct, per_intent=rows, confusions=confusions)
