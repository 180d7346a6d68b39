"""Retraining from approved examples: the base training text plus examples people labelled, a
candidate model measured on the frozen test set against the live one, and promoted only when no
headline number drops. Pure of any database: the caller passes the examples.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from aftersales.kit import clock
from aftersales.understanding import evaluation, model
from aftersales.understanding import service as understanding
from aftersales.understanding.intents import INTENTS

# The numbers a new model may not make worse (docs/assistant.md, "Learning from hand-offs").
HEADLINES = ("accuracy", "in_scope_accuracy", "oos_precision", "oos_recall")


@dataclass(frozen=True, slots=True)
class Outcome:
    before: dict[str, float]
    after: dict[str, float]
    examples: int  # approved examples trained on
    refused: list[dict[str, Any]] = field(default_factory=list)  # examples that repeat a frozen test line
    dropped: list[str] = field(default_factory=list)  # headline numbers the candidate made worse
    replaced: bool = False
    live_file: str = ""
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "before": self.before,
            "after": self.after,
            "examples": self.examples,
            "refused_examples": self.refused,
            "dropped": self.dropped,
            "replaced": self.replaced,
            "live_model": self.live_file,
            "seconds": round(self.seconds, 1),
        }


def frozen_rows() -> list[tuple[str, str]]:
    return model.read_examples(model.FROZEN_TEST_FILE, known_only=False)


def frozen_clashes(texts: Sequence[str]) -> list[tuple[str, str, float]]:
    """(example, frozen line, similarity) for each text that repeats a frozen test message, by
    the same check that keeps the training text apart from the frozen set."""
    return evaluation.overlaps(texts, [text for text, _ in frozen_rows()])


def headline(report: evaluation.Report) -> dict[str, float]:
    return {name: float(getattr(report, name)) for name in HEADLINES}


def digest(examples: Sequence[tuple[str, str]]) -> str:
    """Names a set of examples: the same approved examples give the same live model file."""
    hasher = hashlib.sha256()
    for text, intent in sorted(examples):
        hasher.update(f"{intent}\t{text}\n".encode())
    return hasher.hexdigest()[:16]


def retrain(examples: Sequence[tuple[str, str]], today: date, *, promote: bool = True) -> Outcome:
    """Train the base text plus `examples` (text, intent), measure the candidate and the live
    model on the frozen set, and make the candidate live only if no headline number is lower.
    Examples that repeat a frozen test line, or name no intent, are left out and reported."""
    started = time.perf_counter()
    frozen = frozen_rows()
    clashes = {text: (line, similarity) for text, line, similarity in frozen_clashes([t for t, _ in examples])}
    refused = [
        {"text": text, "intent": intent, "frozen_line": clashes[text][0], "similarity": clashes[text][1]}
        for text, intent in examples
        if text in clashes
    ]
    kept = [(text, intent) for text, intent in examples if text not in clashes and intent in INTENTS]
    live = model.load_model()
    before = headline(understanding.evaluate(frozen, today, intents=live))
    candidate = model.train(model.read_examples(model.TRAIN_FILE) + kept)
    after = headline(understanding.evaluate(frozen, today, intents=candidate))
    # Compared unrounded: one message fewer right is a drop.
    dropped = [name for name in HEADLINES if after[name] < before[name]]
    live_file = ""
    if promote and not dropped:
        details = {
            "examples": len(kept),
            "examples_digest": digest(kept),
            "promoted_at": clock.now().isoformat(timespec="seconds"),
            "frozen": {name: round(value, 4) for name, value in after.items()},
        }
        live_file = str(model.promote(candidate, details))
    return Outcome(
        before={k: round(v, 4) for k, v in before.items()},
        after={k: round(v, 4) for k, v in after.items()},
        examples=len(kept),
        refused=refused,
        dropped=dropped,
        replaced=bool(live_file),
        live_file=live_file,
        seconds=time.perf_counter() - started,
    )
