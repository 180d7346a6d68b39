"""The live model: promoted atomically to $AFTERSALES_MODEL_DIR, picked up by a serving process
within the version-check interval (no restart), ignored when trained on other base data or code,
and the retrain's comparison counts a drop of one message."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from aftersales.understanding import model as nlu
from aftersales.understanding import retraining


@pytest.fixture(scope="module")
def small() -> nlu.IntentModel:
    rows = nlu.read_examples(nlu.TRAIN_FILE)
    return nlu.train([row for i, row in enumerate(rows) if i % 10 == 0])


@pytest.fixture
def live_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("AFTERSALES_MODEL_DIR", str(tmp_path))
    nlu.forget_model()
    yield tmp_path
    nlu.forget_model()


def test_a_serving_process_picks_up_a_promoted_model_without_a_restart(
    small: nlu.IntentModel, live_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = nlu.load_model()
    assert "+" not in base.fingerprint
    path = nlu.promote(small, {"examples": 3, "examples_digest": "abc123"})
    assert path.parent == live_dir and path.is_file()
    pointer = json.loads((live_dir / nlu.LIVE_POINTER).read_text(encoding="utf-8"))
    assert pointer["file"] == path.name and pointer["base"] == nlu.fingerprint() and pointer["examples"] == 3
    assert not list(live_dir.glob(".tmp-*"))  # written under a temporary name, then renamed

    # Another process (simulated: the in-memory model is kept, only the check runs) sees the new
    # pointer at its next version check.
    nlu._loaded["model"] = base
    nlu._live_seen.update(checked=0.0, version=None)
    monkeypatch.setattr(nlu, "LIVE_CHECK_SECONDS", 3600.0)
    nlu._live_seen["checked"] = 10**12  # checked "just now": no look at the disk yet
    assert nlu.load_model() is base
    monkeypatch.setattr(nlu, "LIVE_CHECK_SECONDS", 0.0)
    nlu._live_seen["checked"] = 0.0
    served = nlu.load_model()
    assert served is not base and served.fingerprint.endswith("+abc123")
    assert served.probabilities(["我要退货"]) == small.probabilities(["我要退货"])
    assert nlu.load_model() is served  # loaded once, not at every message


def test_a_live_model_of_other_base_data_is_ignored(small: nlu.IntentModel, live_dir: Path) -> None:
    nlu.promote(small, {"examples": 1, "examples_digest": "x"})
    pointer = live_dir / nlu.LIVE_POINTER
    data = json.loads(pointer.read_text(encoding="utf-8"))
    pointer.write_text(json.dumps({**data, "base": "0000000000000000"}), encoding="utf-8")
    nlu.forget_model()
    assert "+" not in nlu.load_model().fingerprint
    pointer.unlink()  # the documented rollback: no pointer, the base model serves
    nlu.forget_model()
    assert "+" not in nlu.load_model().fingerprint


def test_old_live_models_are_pruned_but_the_current_one_stays(small: nlu.IntentModel, live_dir: Path) -> None:
    paths = [nlu.promote(small, {"examples": i, "examples_digest": f"d{i}"}) for i in range(nlu.KEEP_CACHED + 2)]
    left = sorted(live_dir.glob(f"{nlu.LIVE_PREFIX}*.joblib"))
    assert len(left) == nlu.KEEP_CACHED and paths[-1] in left


def test_the_headline_numbers_and_the_examples_digest() -> None:
    assert retraining.HEADLINES == ("accuracy", "in_scope_accuracy", "oos_precision", "oos_recall")
    assert retraining.digest([("a", "refund"), ("b", "greeting")]) == retraining.digest(
        [("b", "greeting"), ("a", "refund")]
    )
    assert retraining.digest([("a", "refund")]) != retraining.digest([("a", "return_goods")])
    assert retraining.frozen_clashes(["what is the weather on mars tomorrow in kelvin please"]) == []
    frozen_text = retraining.frozen_rows()[0][0]
    assert retraining.frozen_clashes([frozen_text + "!!"])[0][1] == frozen_text
