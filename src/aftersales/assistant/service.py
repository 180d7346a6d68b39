"""The assistant's reading of customer messages: the understanding package's use cases, with
relative dates ("昨天", "last week") read against today in the shop's time zone unless the
caller passes `today`.

    understand("退款咋还没到 SO2611220000123")
    → Understanding(intent="refund_status", confidence=0.87, entities={"order_number": ...})
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from aftersales.kit import clock
from aftersales.understanding import evaluation, model
from aftersales.understanding import service as understanding
from aftersales.understanding.intents import OUT_OF_SCOPE_THRESHOLD, Understanding


def load_model(*, retrain: bool = False) -> model.IntentModel:
    """Load (or train and cache) the intent model now, e.g. at start-up, so no request waits for it."""
    return understanding.load_model(retrain=retrain)


def local_today() -> date:
    """Today in the shop's time zone (settings: AFTERSALES_TIMEZONE)."""
    from aftersales.config import get_settings

    return clock.now().astimezone(get_settings().zone).date()


def understand(text: str, today: date | None = None, *, threshold: float = OUT_OF_SCOPE_THRESHOLD) -> Understanding:
    """The intent, its calibrated confidence and the entities of one customer message."""
    return understanding.understand(text, today or local_today(), threshold=threshold)


def classify_many(
    texts: Sequence[str], today: date | None = None, *, threshold: float = OUT_OF_SCOPE_THRESHOLD
) -> list[Understanding]:
    """`understand` for many messages at once (one model call: faster per message)."""
    if not texts:
        return []
    return understanding.classify_many(texts, today or local_today(), threshold=threshold)


def evaluate(
    rows: Sequence[tuple[str, str]], today: date | None = None, *, threshold: float = OUT_OF_SCOPE_THRESHOLD
) -> evaluation.Report:
    """Score the model on labelled (text, intent) rows as the bot would answer them."""
    return understanding.evaluate(rows, today or local_today(), threshold=threshold)
