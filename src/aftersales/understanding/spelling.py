"""Spelling Latin words back to the ones the training text had: a symmetric-delete speller."""

from __future__ import annotations

import re

_LATIN_WORD = re.compile(r"[a-z]+")


class Speller:
    """Symmetric-delete spelling correction (as in SymSpell) over the Latin words of the training
    text: a word the model never saw is replaced by the known word within edit distance 1 (words
    of 4–5 letters) or 2 (6 and more) with the same first letter that is closest, then most
    frequent. Known words, short
    words and placeholders are left alone, so "retrun" → "return" and "invocie" → "invoice"."""

    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = counts
        self.deletes: dict[str, list[str]] = {}
        for word in counts:
            if len(word) >= 4:
                for variant in _deletes(word, _max_distance(word)):
                    self.deletes.setdefault(variant, []).append(word)

    @classmethod
    def from_texts(cls, texts: list[str]) -> Speller:
        counts: dict[str, int] = {}
        for text in texts:
            for word in _LATIN_WORD.findall(text):
                counts[word] = counts.get(word, 0) + 1
        return cls(counts)

    def correct(self, word: str) -> str:
        if len(word) < 4 or word in self.counts or word in _PLACEHOLDER_WORDS:
            return word
        limit = _max_distance(word)
        best: tuple[int, int, str] | None = None
        for variant in _deletes(word, limit):
            for known in self.deletes.get(variant, ()):
                if known[0] != word[0]:  # people rarely mistype the first letter; "present" is not "reset"
                    continue
                distance = _distance(word, known)
                if distance <= limit:
                    candidate = (distance, -self.counts[known], known)
                    if best is None or candidate < best:
                        best = candidate
        return best[2] if best else word


_PLACEHOLDER_WORDS = frozenset({"ordernox", "casenox", "trackingnox", "phonex", "amountx", "numberx", "productx"})


def _max_distance(word: str) -> int:
    return 1 if len(word) < 6 else 2


def _deletes(word: str, distance: int) -> set[str]:
    found = {word}
    edge = {word}
    for _ in range(distance):
        edge = {w[:i] + w[i + 1 :] for w in edge for i in range(len(w))}
        found |= edge
    return found


def _distance(a: str, b: str) -> int:
    """Damerau-Levenshtein distance (optimal string alignment): a swap of two letters is one edit."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]
