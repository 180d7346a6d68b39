"""The intent model: TF-IDF over three views of a message into a calibrated linear SVM.

Trained in seconds from the CSV files in data/ (columns text,intent) at first use, then cached:
in memory for the process, and on disk with joblib under $AFTERSALES_CACHE_DIR (default
./var/cache) in a file named after a hash of the training data, this code and the library
versions, so a changed data file or a new release retrains by itself. Nothing is downloaded.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.metadata
import json
import logging
import os
import random
import re
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import scipy.sparse as sp
import sklearn
from scipy.optimize import minimize, minimize_scalar
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.svm import LinearSVC

from aftersales.understanding import augment as augment_module
from aftersales.understanding import entities as entities_module
from aftersales.understanding import normalising as normalising_module
from aftersales.understanding import spelling as spelling_module
from aftersales.understanding import tokenising as tokenising_module
from aftersales.understanding.evaluation import canonical_label
from aftersales.understanding.intents import INTENTS, Intent
from aftersales.understanding.spelling import Speller
from aftersales.understanding.tokenising import Views, tokens, views

log = logging.getLogger(__name__)
_HAN = re.compile(r"[\u3400-\u9fff]")

MODEL_VERSION = "2"  # bump by hand for changes the fingerprint cannot see
DATA_DIR = Path(__file__).with_name("data")
TRAIN_FILE = DATA_DIR / "train.csv"
HELDOUT_FILE = DATA_DIR / "heldout.csv"
FROZEN_TEST_FILE = DATA_DIR / "frozen_test.csv"  # for measuring only: never trained or tuned on
DEFAULT_CACHE_DIR = Path("var") / "cache"
# The live model: the base data plus approved examples (`aftersales assistant retrain`). Not a
# cache: it cannot be rebuilt from files alone, so it lives apart ($AFTERSALES_MODEL_DIR).
DEFAULT_MODEL_DIR = Path("var") / "models"
LIVE_POINTER = "assistant-intents-live.json"
LIVE_PREFIX = "assistant-intents-live-"
LIVE_CHECK_SECONDS = 30.0  # how often a serving process looks whether a new live model was promoted
# Each view's block of features is scaled by its weight before the classifier sees it.
VIEW_WEIGHTS = {"words": 1.0, "chars": 1.0, "pinyin": 0.7}
SVM_C = 0.5
NEGATIVE_WEIGHT = 0.3  # of an out-of-scope negative made from the training text (augment.py)
CALIBRATION_FOLDS = 5
KEEP_CACHED = 3  # model files kept in the cache directory (a rolling upgrade may run two versions)


class DataError(ValueError):
    """A training or evaluation file that cannot be used; the message says where and why."""


def read_examples(path: Path, *, known_only: bool = True) -> list[tuple[str, str]]:
    """(text, intent) rows of a CSV file with a header naming the columns text and intent.

    Lines starting with # before the header are comments (a file's provenance); the label `oos`
    means out_of_scope, as public evaluation sets write it."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        comments = 0
        position = handle.tell()
        while handle.readline().startswith("#"):
            comments += 1
            position = handle.tell()
        handle.seek(position)
        reader = csv.DictReader(handle)
        fields = [name.strip().lower() for name in reader.fieldnames or []]
        if "text" not in fields or "intent" not in fields:
            raise DataError(f"{path}: the header must name the columns text and intent, found {fields}")
        reader.fieldnames = fields
        rows = []
        for line, row in enumerate(reader, start=2 + comments):
            text = (row.get("text") or "").strip()
            intent = canonical_label(row.get("intent") or "")
            if not text:
                continue
            if known_only and intent not in INTENTS:
                raise DataError(f"{path}:{line}: unknown intent {intent!r}")
            rows.append((text, intent))
    return rows


def calibrate(margins: np.ndarray, platt: np.ndarray, sharpness: float) -> np.ndarray:
    """Margins → probabilities: a Platt sigmoid per intent, normalised to sum to 1, then sharpened
    (p^k renormalised, a temperature that keeps the ranking) so confidence matches accuracy."""
    raw = 1.0 / (1.0 + np.exp(np.clip(platt[0] * margins + platt[1], -500, 500)))
    logits = sharpness * np.log(np.maximum(raw / raw.sum(axis=-1, keepdims=True), 1e-300))
    exp = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return np.asarray(exp / exp.sum(axis=-1, keepdims=True))


class IntentModel:
    """Fitted vectorizers (one per view), the linear SVM's weights and the per-intent Platt
    scaling that turns its margins into probabilities.

    `probabilities` scores one message with a few array look-ups (a fraction of a millisecond);
    `probabilities_batch` does the same through scikit-learn's sparse matrices and is the
    reference the fast path is tested against.
    """

    def __init__(
        self,
        vectorizers: dict[str, TfidfVectorizer],
        classes: Sequence[str],
        coef: np.ndarray,
        intercept: np.ndarray,
        platt: np.ndarray,
        sharpness: float = 1.0,
        speller: Speller | None = None,
    ) -> None:
        self.vectorizers = vectorizers
        self.classes: tuple[str, ...] = tuple(classes)
        self.coef = np.ascontiguousarray(coef, dtype=np.float32)  # (features, intents)
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.platt = np.asarray(platt, dtype=np.float64)  # (2, intents): slope a, offset b
        self.sharpness = sharpness  # exponent on the normalised Platt probabilities (temperature)
        self.speller = speller  # spells unknown Latin words as the training text did
        self.fingerprint = ""
        self._analyzers: dict[str, tuple[Callable[[str], list[str]], dict[str, int], np.ndarray, int]] = {}

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_analyzers"] = {}  # closures: rebuilt after loading
        return state

    def features(self, many: Sequence[Views]) -> sp.csr_matrix:
        blocks = [
            vectorizer.transform([getattr(v, name) for v in many]) * VIEW_WEIGHTS[name]
            for name, vectorizer in self.vectorizers.items()
        ]
        return sp.csr_matrix(sp.hstack(blocks, format="csr"))

    def _calibrate(self, margins: np.ndarray) -> np.ndarray:
        return calibrate(margins, self.platt, self.sharpness)

    def probabilities_batch(self, texts: Sequence[str]) -> np.ndarray:
        """(messages, intents) probabilities through scikit-learn's vectorizers."""
        matrix = self.features([views(t, self.speller) for t in texts])
        return self._calibrate(np.asarray(matrix @ self.coef, dtype=np.float64) + self.intercept)

    def _prepared(self) -> list[tuple[Callable[[str], list[str]], dict[str, int], np.ndarray, int]]:
        if not self._analyzers:  # built whole, then published: safe with several threads
            prepared = {}
            offset = 0
            for name, vectorizer in self.vectorizers.items():
                vocabulary: dict[str, int] = vectorizer.vocabulary_
                prepared[name] = (vectorizer.build_analyzer(), vocabulary, vectorizer.idf_, offset)
                offset += len(vocabulary)
            self._analyzers = prepared
        return list(self._analyzers.values())

    def margins(self, view: Views) -> np.ndarray:
        """The SVM's margin for every intent, computed sparsely: TF-IDF (sublinear tf, l2 per
        view, times the view's weight) exactly as the vectorizers compute it."""
        indices: list[np.ndarray] = []
        values: list[np.ndarray] = []
        for (analyze, vocabulary, idf, offset), name in zip(self._prepared(), self.vectorizers, strict=True):
            counts: dict[int, int] = {}
            for gram in analyze(getattr(view, name)):
                if (column := vocabulary.get(gram)) is not None:
                    counts[column] = counts.get(column, 0) + 1
            if not counts:
                continue
            columns = np.fromiter(counts, dtype=np.int64, count=len(counts))
            weights = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))) * idf[columns]
            weights *= VIEW_WEIGHTS[name] / np.sqrt(np.dot(weights, weights))
            indices.append(columns + offset)
            values.append(weights)
        if not indices:
            return self.intercept.copy()
        columns = np.concatenate(indices)
        return np.concatenate(values) @ self.coef[columns].astype(np.float64) + self.intercept

    def probabilities(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """Calibrated probability of every intent, for each text."""
        out = []
        for text in texts:
            row = self._calibrate(self.margins(views(text, self.speller)))
            out.append(dict(zip(self.classes, map(float, row), strict=True)))
        return out


def _vectorizers() -> dict[str, TfidfVectorizer]:
    common: dict[str, Any] = {"lowercase": False, "sublinear_tf": True, "dtype": np.float32}
    return {
        "words": TfidfVectorizer(analyzer="word", token_pattern=r"\S+", ngram_range=(1, 2), **common),  # noqa: S106
        "chars": TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), min_df=2, **common),
        "pinyin": TfidfVectorizer(analyzer="char", ngram_range=(3, 5), min_df=2, **common),
    }


# Openers and closers customers wrap requests in. Training also sees each example wrapped in one
# (seeded, so the model is reproducible), so "你好，我要退货" is a return, not a greeting.
_ZH_OPENERS = ("你好，", "您好，", "亲，", "在吗？", "亲在吗 ", "你好 请问", "麻烦问下，", "客服你好，", "hello，")
_ZH_CLOSERS = ("，谢谢", " 谢谢", "，麻烦了", "，急", "？？", "!!", "，谢谢亲")
_EN_OPENERS = (
    "hi, ",
    "hello, ",
    "hey ",
    "hi there, ",
    "good morning, ",
    "excuse me, ",
    "hello? ",
    "hi, quick question: ",
)
_EN_CLOSERS = (" please", ", thanks", " thx", " asap", "??", ", thank you", " pls help")
_NOT_WRAPPED = frozenset({Intent.GREETING, Intent.THANKS, Intent.GOODBYE})


def augment(examples: Sequence[tuple[str, str]], seed: int = 7) -> list[tuple[str, str, int]]:
    """(text, intent, group): the examples plus, for each request, a copy wrapped in a greeting or
    a thank-you. A copy shares its original's group, so calibration never tests on a near-twin."""
    rng = random.Random(seed)
    out = [(text, intent, group) for group, (text, intent) in enumerate(examples)]
    for group, (text, intent) in enumerate(examples):
        if intent in _NOT_WRAPPED:
            continue
        chinese = _HAN.search(text) is not None
        if rng.random() < 0.6:
            out.append((rng.choice(_ZH_OPENERS if chinese else _EN_OPENERS) + text, intent, group))
        else:
            out.append((text + rng.choice(_ZH_CLOSERS if chinese else _EN_CLOSERS), intent, group))
    return out


def train(examples: Sequence[tuple[str, str]], *, wrap: bool = True) -> IntentModel:
    """Fit the model on (text, intent) examples; every intent needs a few examples. With `wrap`,
    it also learns from the examples wrapped in greetings, their keyword forms and out-of-scope
    negatives made from them (augment.py)."""
    if wrap:
        rows = augment(examples)
        rows += augment_module.keyword_forms(examples, tokens)
        written = len(rows)
        rows += augment_module.negatives(examples, tokens)
    else:
        rows = [(text, intent, i) for i, (text, intent) in enumerate(examples)]
        written = len(rows)
    # Made-up negatives count less than messages people wrote (chosen by cross-validation).
    weights = np.where(np.arange(len(rows)) < written, 1.0, NEGATIVE_WEIGHT)
    texts = [views(text) for text, _, _ in rows]
    labels = [intent for _, intent, _ in rows]
    groups = [group for _, _, group in rows]
    vectorizers = _vectorizers()
    blocks = [
        vectorizer.fit_transform([getattr(v, name) for v in texts]) * VIEW_WEIGHTS[name]
        for name, vectorizer in vectorizers.items()
    ]
    features = sp.csr_matrix(sp.hstack(blocks, format="csr"))
    classes = sorted(set(labels))
    # Out-of-fold margins (folds keep an example and its wrapped copy together) calibrate the
    # SVM: one Platt sigmoid per intent, normalised to sum to 1, then one sharpening exponent.
    folds = StratifiedGroupKFold(n_splits=CALIBRATION_FOLDS, shuffle=True, random_state=7)
    margins = np.zeros((len(labels), len(classes)))
    for train_rows, test_rows in folds.split(features, labels, groups):
        svm = _svm().fit(features[train_rows], [labels[i] for i in train_rows], sample_weight=weights[train_rows])
        margins[test_rows] = svm.decision_function(features[test_rows])
    truth = np.array(labels)
    platt = np.array([_platt(margins[:, k], truth == intent) for k, intent in enumerate(classes)]).T
    sharpness = _sharpness(margins, platt, np.array([classes.index(label) for label in labels]))
    svm = _svm().fit(features, labels, sample_weight=weights)
    if list(svm.classes_) != classes:
        raise DataError("the classifier's intents do not match the training labels")
    speller = Speller.from_texts([v.chars for v in texts])
    return IntentModel(vectorizers, classes, svm.coef_.T, svm.intercept_, platt, sharpness, speller)


def _svm() -> LinearSVC:
    return LinearSVC(C=SVM_C, class_weight="balanced", random_state=0, tol=1e-3)


def _sharpness(margins: np.ndarray, platt: np.ndarray, truth: np.ndarray) -> float:
    """The exponent that minimises the out-of-fold log loss of the normalised Platt probabilities:
    one-vs-rest sigmoids summed over 24 intents come out under-confident; this corrects it."""
    rows = np.arange(len(truth))

    def loss(k: float) -> float:
        return float(-np.mean(np.log(calibrate(margins, platt, k)[rows, truth] + 1e-12)))

    return float(minimize_scalar(loss, bounds=(0.5, 10.0), method="bounded").x)


def _platt(margins: np.ndarray, positive: np.ndarray) -> tuple[float, float]:
    """Platt's sigmoid P(intent | margin) = 1 / (1 + exp(a * margin + b)), fitted on smoothed
    targets (Platt 2000, section 2.2) by minimising the log loss."""
    n_pos = float(positive.sum())
    n_neg = float(len(positive) - n_pos)
    target = np.where(positive, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))

    def loss(ab: np.ndarray) -> tuple[float, np.ndarray]:
        z = ab[0] * margins + ab[1]
        p = 1.0 / (1.0 + np.exp(np.clip(z, -500, 500)))
        eps = 1e-12
        value = -np.sum(target * np.log(p + eps) + (1 - target) * np.log(1 - p + eps))
        grad_z = target - p  # d loss / d z
        return float(value), np.array([np.dot(grad_z, margins), grad_z.sum()])

    start = np.array([-1.0, np.log((n_neg + 1) / (n_pos + 1))])
    result = minimize(loss, start, jac=True, method="L-BFGS-B")
    return float(result.x[0]), float(result.x[1])


# --- cache ---------------------------------------------------------------------------------------
def cache_dir() -> Path:
    return Path(os.environ.get("AFTERSALES_CACHE_DIR") or DEFAULT_CACHE_DIR)


def fingerprint(data_files: Iterable[Path] = (TRAIN_FILE,)) -> str:
    """A hash of the training data, the code that turns it into a model, and the libraries."""
    digest = hashlib.sha256(MODEL_VERSION.encode())
    modules = (normalising_module, spelling_module, tokenising_module, entities_module, augment_module)
    code = [Path(module.__file__ or "") for module in modules]
    for path in (*data_files, Path(__file__), *code, DATA_DIR / "products.yaml"):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    versions = [sys.version.split()[0], sklearn.__version__, np.__version__, joblib.__version__]
    for package in ("jieba", "pypinyin", "opencc", "scipy"):
        versions.append(f"{package}={_version(package)}")
    digest.update(";".join(versions).encode())
    return digest.hexdigest()[:16]


def _version(distribution: str) -> str:
    """The installed version, from the package metadata: importing pypinyin only to read its
    version would load its phrase dictionary (tens of MB) into every process."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "?"


_lock = threading.Lock()
_loaded: dict[str, IntentModel] = {}
_live_seen: dict[str, Any] = {"checked": 0.0, "version": None}


def load_model(*, retrain: bool = False) -> IntentModel:
    """The model for the current data and code: the promoted live model when there is one for
    them, else the base model from memory, the disk cache, or trained.

    The fingerprint is taken on the first call; a process that should see changed data files
    calls `load_model(retrain=True)` (or restarts). A newly promoted live model is picked up
    within LIVE_CHECK_SECONDS (one stat of the pointer file, then a load).
    """
    loaded = _loaded.get("model")
    if loaded is not None and not retrain and not _live_changed():
        return loaded
    with _lock:
        loaded = _loaded.get("model")
        if loaded is not None and not retrain and _live_seen["version"] == _live_version():
            return loaded
        key = fingerprint()
        _live_seen["version"] = _live_version()
        model = _read_live(key)
        if model is None:
            path = cache_dir() / f"assistant-intents-{key}.joblib"
            model = None if retrain else _read_cache(path)
            if model is None:
                started = time.perf_counter()
                model = train(read_examples(TRAIN_FILE))
                log.info("trained the intent model in %.1f s", time.perf_counter() - started)
                _write_cache(path, model)
            model.fingerprint = key
        _loaded["model"] = model
        return model


# --- the live model ------------------------------------------------------------------------------
def model_dir() -> Path:
    return Path(os.environ.get("AFTERSALES_MODEL_DIR") or DEFAULT_MODEL_DIR)


def _live_version() -> tuple[int, int] | None:
    """What identifies the pointer file's current content: replaced atomically, so a new inode."""
    try:
        stat = (model_dir() / LIVE_POINTER).stat()
    except OSError:
        return None
    return (stat.st_ino, stat.st_mtime_ns)


def _live_changed() -> bool:
    now = time.monotonic()
    if now - float(_live_seen["checked"]) < LIVE_CHECK_SECONDS:
        return False
    _live_seen["checked"] = now
    return bool(_live_version() != _live_seen["version"])


def live_pointer() -> dict[str, Any] | None:
    """What the pointer file says about the live model (file, base fingerprint, examples, when)."""
    try:
        data = json.loads((model_dir() / LIVE_POINTER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _read_live(base_key: str) -> IntentModel | None:
    """The promoted model, if it was trained on this very base data and code; a live model of an
    older release is ignored (retrain after a release that changed the data or the code)."""
    pointer = live_pointer()
    if pointer is None:
        return None
    if pointer.get("base") != base_key:
        log.warning("the live intent model was trained on other base data or code; serving the base model")
        return None
    model = _read_cache(model_dir() / str(pointer.get("file", "")))
    if model is not None:
        model.fingerprint = f"{base_key}+{pointer.get('examples_digest', '')}"
    return model


def promote(model: IntentModel, details: dict[str, Any]) -> Path:
    """Make `model` the live model: its file first, then the pointer, each written atomically, so
    a process reading at any moment sees the old model or the new one. Returns the model file."""
    base = fingerprint()
    digest = str(details.get("examples_digest", ""))[:12]
    directory = model_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{LIVE_PREFIX}{base}-{digest}.joblib"
    with tempfile.NamedTemporaryFile(dir=directory, prefix=".tmp-", suffix=".joblib", delete=False) as tmp:
        joblib.dump(model, tmp.name)
    os.chmod(tmp.name, 0o644)
    os.replace(tmp.name, path)
    pointer = {**details, "file": path.name, "base": base}
    with tempfile.NamedTemporaryFile(dir=directory, prefix=".tmp-", suffix=".json", delete=False) as note:
        note.write(json.dumps(pointer, ensure_ascii=False, indent=2).encode())
    os.chmod(note.name, 0o644)
    os.replace(note.name, directory / LIVE_POINTER)
    _prune(directory, keep=KEEP_CACHED, pattern=f"{LIVE_PREFIX}*.joblib", current=path)
    forget_model()
    return path


def forget_model() -> None:
    """Drop the in-memory model (tests; a reload after the data files changed)."""
    with _lock:
        _loaded.clear()
        _live_seen.update(checked=0.0, version=None)


def _prune(
    directory: Path, keep: int, pattern: str = "assistant-intents-*.joblib", current: Path | None = None
) -> None:
    """Remove all but the newest few model files (older data or code left them behind); earlier
    live models stay a few versions for a rollback by hand, and the current one always stays."""
    found = [f for f in directory.glob(pattern) if "live" in pattern or not f.name.startswith(LIVE_PREFIX)]
    files = sorted(found, key=lambda f: f.stat().st_mtime, reverse=True)
    for old in files[keep:]:
        if old != current:
            old.unlink(missing_ok=True)


def _read_cache(path: Path) -> IntentModel | None:
    if not path.exists():
        return None
    try:
        model = joblib.load(path)  # our own file, written by _write_cache below
    except Exception:  # a truncated or stale file: retrain rather than fail
        log.warning("ignoring an unreadable model cache at %s", path)
        return None
    return model if isinstance(model, IntentModel) else None


def _write_cache(path: Path, model: IntentModel) -> None:
    """Write atomically (temp file + rename), so processes starting together never read half a file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".tmp-", suffix=".joblib", delete=False) as tmp:
            joblib.dump(model, tmp.name)
        os.chmod(tmp.name, 0o644)
        os.replace(tmp.name, path)
        _prune(path.parent, keep=KEEP_CACHED)
    except OSError as exc:  # a read-only disk still gets a working (in-memory) model
        log.warning("could not cache the intent model at %s: %s", path, exc)
