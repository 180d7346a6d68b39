"""The honest evaluation: the frozen test set and the held-out split share no message with the
training text (by normalised form or near-duplicate), and the scores mean what they say."""

from __future__ import annotations

from collections import Counter

import pytest

from aftersales.understanding import model as nlu
from aftersales.understanding.evaluation import dedup_key, oos_curve, overlaps, reliability, score
from aftersales.understanding.intents import INTENTS


@pytest.fixture(scope="module")
def training() -> list[str]:
    return [text for text, _ in nlu.read_examples(nlu.TRAIN_FILE)]


def test_the_frozen_set_shares_nothing_with_the_training_text(training: list[str]) -> None:
    frozen = [text for text, _ in nlu.read_examples(nlu.FROZEN_TEST_FILE)]
    assert len(frozen) >= 500
    assert overlaps(frozen, training) == []
    assert len({dedup_key(t) for t in frozen}) == len(frozen)  # and no message twice


def test_the_held_out_split_shares_nothing_with_the_training_text(training: list[str]) -> None:
    heldout = [text for text, _ in nlu.read_examples(nlu.HELDOUT_FILE)]
    assert overlaps(heldout, training) == []


def test_the_frozen_set_covers_every_intent_and_out_of_scope() -> None:
    counts = Counter(intent for _, intent in nlu.read_examples(nlu.FROZEN_TEST_FILE))
    assert set(counts) == set(INTENTS)
    assert counts["out_of_scope"] >= 100 and counts["pre_sales"] >= 40


def test_the_frozen_file_keeps_its_provenance_and_writes_oos() -> None:
    raw = nlu.FROZEN_TEST_FILE.read_text(encoding="utf-8")
    assert raw.startswith("# ") and "Provenance" in raw and "\n#$%^&,oos\n" in raw  # a message may start with #
    assert "out_of_scope" in dict(nlu.read_examples(nlu.FROZEN_TEST_FILE)).values()


@pytest.mark.parametrize(
    ("test", "train"),
    [
        ("拜拜啦", "拜拜啦"),
        ("您好，在线吗", "您好在线吗"),  # punctuation
        ("ＨＥＬＬＯ！", "hello?"),  # full width, case
        ("訂單到哪裡了", "订单到哪里了"),  # traditional
        ("cancelllll my order", "cancell my order"),  # elongation
        ("what is the return window", "what's the return window"),  # near-duplicate
    ],
)
def test_overlap_finds_normalised_and_near_duplicates(test: str, train: str) -> None:
    assert [found[:2] for found in overlaps([test], [train])] == [(test, train)]


def test_overlap_keeps_different_messages_apart() -> None:
    assert overlaps(["88888", "👍", "退货运费谁出", "where is my parcel"], ["88", "😂", "怎么寄回去", "hi"]) == []


def test_score_reports_in_scope_accuracy_and_out_of_scope_precision_recall() -> None:
    truth = ["refund", "refund", "pre_sales", "out_of_scope", "out_of_scope", "out_of_scope"]
    guess = ["refund", "out_of_scope", "pre_sales", "out_of_scope", "pre_sales", "out_of_scope"]
    report = score(truth, guess, INTENTS)
    assert report.accuracy == pytest.approx(4 / 6)
    assert report.in_scope_accuracy == pytest.approx(2 / 3)
    assert report.oos_precision == pytest.approx(2 / 3)
    assert report.oos_recall == pytest.approx(2 / 3)
    data = report.as_json()
    assert data["per_intent"]["pre_sales"] == {
        "precision": 0.5,
        "recall": 1.0,
        "f1": 0.6667,
        "support": 1,
        "predicted": 2,
    }
    assert {"true": "out_of_scope", "predicted": "pre_sales", "count": 1} in data["confusions"]


def test_the_out_of_scope_curve_trades_recall_for_precision() -> None:
    truth = ["refund", "pre_sales", "out_of_scope", "out_of_scope"]
    best = [("refund", 0.9), ("pre_sales", 0.5), ("greeting", 0.3), ("out_of_scope", 0.8)]
    low, middle, high = oos_curve(truth, best, [0.2, 0.4, 0.6])
    assert (low.precision, low.recall, low.in_scope_accuracy) == (1.0, 0.5, 1.0)
    assert (middle.precision, middle.recall, middle.in_scope_accuracy) == (1.0, 1.0, 1.0)
    assert (high.precision, high.recall, high.in_scope_accuracy) == (2 / 3, 1.0, 0.5)


def test_calibration_error_compares_confidence_with_accuracy() -> None:
    bins = reliability([0.95, 0.95, 0.55, 0.55], [True, True, True, False])
    assert [(b.low, b.count, b.accuracy) for b in bins] == [(0.5, 2, 0.5), (0.9, 2, 1.0)]
    report = score(["a", "a", "b", "b"], ["a", "a", "b", "c"], confidences=[0.95, 0.95, 0.55, 0.55])
    assert report.calibration_error == pytest.approx((2 * 0.05 + 2 * 0.05) / 4)
    assert report.as_json()["reliability"][1] == {
        "low": 0.9,
        "high": 1.0,
        "count": 2,
        "confidence": 0.95,
        "accuracy": 1.0,
    }
