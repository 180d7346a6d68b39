"""Understanding customer messages: the use cases the assistant and the tickets context call.

    understand("退款咋还没到 SO2611220000123", today)
    → Understanding(intent="refund_status", confidence=0.87, entities={"order_number": ...})

The model loads once per process (see model.load_model); relative dates ("昨天", "last week") are
read against the `today` the caller passes (the shop's day: callers know its time zone, this
package reads no settings).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from aftersales.understanding import evaluation, model
from aftersales.understanding.entities import extract
from aftersales.understanding.intents import INTENTS, OUT_OF_SCOPE_THRESHOLD, Understanding, decide

RANKED = 3  # runner-up intents kept on an Understanding, for clarifying questions
CURVE_THRESHOLDS = tuple(round(0.05 * step, 2) for step in range(20))  # 0.00 … 0.95


def load_model(*, retrain: bool = False) -> model.IntentModel:
    """Load (or train and cache) the intent model now, e.g. at start-up, so no request waits for it."""
    return model.load_model(retrain=retrain)


def understand(text: str, today: date, *, threshold: float = OUT_OF_SCOPE_THRESHOLD) -> Understanding:
    """The intent, its calibrated confidence and the entities of one customer message."""
    return classify_many([text], today, threshold=threshold)[0]


def classify_many(
    texts: Sequence[str],
    today: date,
    *,
    threshold: float = OUT_OF_SCOPE_THRESHOLD,
    intents: model.IntentModel | None = None,
) -> list[Understanding]:
    """`understand` for many messages at once (one model call: faster per message); `intents`
    scores with another model than the live one (a candidate being evaluated)."""
    if not texts:
        return []
    intents = intents or model.load_model()
    results = []
    for text, probabilities in zip(texts, intents.probabilities(texts), strict=True):
        intent, confidence = decide(probabilities, threshold)
        ranking = sorted(probabilities.items(), key=lambda item: (-item[1], item[0]))[:RANKED]
        results.append(
            Understanding(
                text=text,
                intent=intent,
                confidence=confidence,
                entities=extract(text, today),
                ranking=tuple((name, round(p, 4)) for name, p in ranking),
            )
        )
    return results


def evaluate(
    rows: Sequence[tuple[str, str]],
    today: date,
    *,
    threshold: float = OUT_OF_SCOPE_THRESHOLD,
    intents: model.IntentModel | None = None,
) -> evaluation.Report:
    """Score the model (the live one unless `intents` is given) on labelled (text, intent) rows as
    the bot would answer them, with the out-of-scope precision/recall curve over thresholds and
    the one in use marked."""
    intents = intents or model.load_model()
    texts = [text for text, _ in rows]
    truth = [evaluation.canonical_label(intent) for _, intent in rows]
    understood = classify_many(texts, today, threshold=threshold, intents=intents)
    best = [max(p.items(), key=lambda item: (item[1], item[0])) for p in intents.probabilities(texts)]
    thresholds = sorted({*CURVE_THRESHOLDS, threshold})
    curve = evaluation.oos_curve(truth, best, thresholds)
    return evaluation.score(
        truth,
        [u.intent for u in understood],
        INTENTS,
        curve=curve,
        threshold=threshold,
        confidences=[u.confidence for u in understood],
    )
