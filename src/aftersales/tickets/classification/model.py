"""The model that reads tickets no keyword matched: character n-grams into two linear models.

Trained once per process (well under a second) from data/classification.csv (labelled tickets,
zh and en) plus every keyword of the taxonomy as a short example of its tag's scenario and
responsibility. Prediction computes the TF-IDF vector and the linear scores with numpy directly,
without sklearn's per-call overhead, so a ticket costs a fraction of a millisecond. Pure: no
database; sklearn is imported only to train.
"""

from __future__ import annotations

import csv
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from aftersales.tickets.taxonomy import GAP, Taxonomy
from aftersales.understanding.normalising import normalise, without_apostrophes
from aftersales.understanding.tokenising import char_ngrams

DATA_FILE = Path(__file__).parent.parent / "data" / "classification.csv"
MIN_PROBABILITY = 0.3  # below this the model's guess is not worth an agent's time
MIN_HAN = 4  # the model reads texts of at least 4 Chinese characters or 3 words
MIN_WORDS = 3
WEIGHT = 1.5  # a sure model counts like a clear keyword


def _normalise(text: str) -> str:
    """As keywords.normalise, without its length limit (training rows are short)."""
    return without_apostrophes(normalise(text))


@dataclass(frozen=True, slots=True)
class _Linear:
    classes: tuple[str, ...]
    coef: Any  # numpy (classes × features)
    intercept: Any

    def probabilities(self, columns: Any, values: Any) -> Any:
        # One-vs-rest logistic scores, normalised (what SGDClassifier(loss="log_loss") answers).
        decision = self.coef[:, columns] @ values + self.intercept
        scores = 1.0 / (1.0 + np.exp(-decision))
        return scores / scores.sum()


@dataclass(frozen=True, slots=True)
class _Model:
    vocabulary: dict[str, int]
    idf: Any
    scenario: _Linear
    responsibility: _Linear

    def features(self, raw: str) -> tuple[Any, Any]:
        """TF-IDF (sublinear tf, l2) of the text's character n-grams, computed without sklearn: fast."""
        counts = Counter(g for g in char_ngrams(raw) if g in self.vocabulary)
        columns = np.fromiter((self.vocabulary[g] for g in counts), dtype=np.int64, count=len(counts))
        values = (1.0 + np.log(np.fromiter(counts.values(), dtype=float, count=len(counts)))) * self.idf[columns]
        norm = float(np.sqrt((values**2).sum()))
        return columns, (values / norm if norm else values)


_model_lock = threading.Lock()
_models: dict[int, tuple[Taxonomy, _Model]] = {}


def read_examples(path: Path = DATA_FILE) -> list[tuple[str, str, str]]:
    """(text, scenario, responsibility) rows of the labelled training file."""
    with path.open(encoding="utf-8", newline="") as handle:
        return [(row["text"], row["scenario"], row["responsibility"]) for row in csv.DictReader(handle)]


def trained(tax: Taxonomy) -> _Model:
    """Two linear models over character n-grams, trained once per process (well under a second) from
    data/classification.csv plus every keyword of the taxonomy as a short example of its tag."""
    with _model_lock:
        cached = _models.get(id(tax))
        if cached is not None and cached[0] is tax:
            return cached[1]
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import SGDClassifier

        rows = [(_normalise(t), s, r) for t, s, r in read_examples() if tax.has_scenario(s)]
        for tag in tax.tags:
            for keyword in (*tag.keywords_zh, *tag.keywords_en):
                rows.append((_normalise(keyword.replace(GAP, " ")), tag.scenario, tag.responsibility))
        vectorizer = TfidfVectorizer(analyzer=char_ngrams, sublinear_tf=True)
        features = vectorizer.fit_transform([t for t, _, _ in rows])

        def linear(labels: list[str]) -> _Linear:
            fitted = SGDClassifier(loss="log_loss", alpha=1e-4, max_iter=50, tol=1e-4, random_state=0)
            fitted.fit(features, labels)
            return _Linear(tuple(map(str, fitted.classes_)), fitted.coef_, fitted.intercept_)

        built = _Model(
            {str(k): int(v) for k, v in vectorizer.vocabulary_.items()},
            vectorizer.idf_,
            linear([s for _, s, _ in rows]),
            linear([r for _, _, r in rows]),
        )
        _models.clear()
        _models[id(tax)] = (tax, built)
        return built
