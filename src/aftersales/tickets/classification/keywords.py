"""Reading a ticket's words against the taxonomy's keywords: the keyword index, matches with
gaps ("改…地址"), plural and -ing endings, negation ("没坏", "not broken") and the longest match.

Pure and fast: the index is built once per taxonomy; one ticket is read in well under a millisecond.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from aftersales.tickets.taxonomy import GAP, Taxonomy
from aftersales.understanding import normalising

MAX_CHARS = 2000  # longer texts are read up to here: enough to classify, bounded in time

# A negation right before a keyword cancels it ("没坏", "not broken", "no damage").
NEG_ZH_1 = frozenset("不没未无别非")
NEG_ZH_2 = frozenset({"没有", "并非", "不是", "从未", "不想", "不会", "不用", "并没", "无需"})
NEG_EN = frozenset({"not", "no", "never", "isnt", "wasnt", "arent", "werent", "without", "nothing", "none", "hardly"})

# "…" in a keyword: the parts come in this order with a few characters (or words) between them,
# within one sentence: "改…地址" matches "改一下收货地址", "change…address" "change my delivery address".
GAP_CHARS = 6
GAP_WORDS = 3
_SENTENCE_ENDS = frozenset("。！？!?；;\n")
_WORD = re.compile(r"[a-z0-9]+")


def normalise(text: str) -> str:
    """NFKC, lower case, apostrophes dropped ("don't" reads as "dont"), up to MAX_CHARS."""
    return normalising.without_apostrophes(normalising.normalise(text[:MAX_CHARS]))


@dataclass(frozen=True, slots=True)
class Hit:
    start: int  # character offsets in the normalised text
    end: int
    tag: str
    weight: float
    words: str


@dataclass(frozen=True, slots=True)
class Index:
    zh: dict[str, list[tuple[tuple[str, ...], str, float]]]  # first character → (parts, tag, weight), longest first
    en: dict[str, list[tuple[tuple[str, ...], str, float]]]  # first word → (words, tag, weight), longest first
    spellings: Mapping[str, str]


@dataclass(slots=True)
class Prepared:
    raw: str  # normalised: NFKC, lower case, apostrophes dropped
    words: list[tuple[str, int, int]]  # (word after spelling fixes, start, end)


def prepare(text: str, spellings: Mapping[str, str]) -> Prepared:
    raw = normalise(text)
    words = [(spellings.get(m.group(), m.group()), m.start(), m.end()) for m in _WORD.finditer(raw)]
    return Prepared(raw, words)


def _en_words(phrase: str, spellings: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(spellings.get(w, w) for w in _WORD.findall(normalise(phrase)))


_INDEXES: dict[int, tuple[Taxonomy, Index]] = {}


def index_of(tax: Taxonomy) -> Index:
    """The keyword index of a taxonomy, built once per taxonomy object (the shipped one is loaded once)."""
    cached = _INDEXES.get(id(tax))
    if cached is not None and cached[0] is tax:
        return cached[1]
    if len(_INDEXES) > 8:
        _INDEXES.clear()
    built = _build_index(tax)
    _INDEXES[id(tax)] = (tax, built)
    return built


def _build_index(tax: Taxonomy) -> Index:
    zh: dict[str, list[tuple[tuple[str, ...], str, float]]] = defaultdict(list)
    en: dict[str, list[tuple[tuple[str, ...], str, float]]] = defaultdict(list)
    for tag in tax.tags:
        for keyword in tag.keywords_zh:
            parts = tuple(p for p in (normalise(part).strip() for part in keyword.split(GAP)) if p)
            if parts:
                zh[parts[0][0]].append((parts, tag.id, _zh_weight("".join(parts))))
        for keyword in tag.keywords_en:
            words: tuple[str, ...] = ()
            for part in keyword.split(GAP):
                part_words = _en_words(part, tax.spellings)
                if part_words:
                    words += ((GAP,) if words else ()) + part_words
            if words and (words, tag.id) not in {(w, t) for w, t, _ in en[words[0]]}:
                en[words[0]].append((words, tag.id, _en_weight(tuple(w for w in words if w != GAP))))
    for entries in zh.values():
        entries.sort(key=lambda e: -sum(map(len, e[0])))
    for en_entries in en.values():
        en_entries.sort(key=lambda e: -len(e[0]))
    return Index(dict(zh), dict(en), tax.spellings)


def _match_zh(raw: str, i: int, parts: tuple[str, ...]) -> int:
    """End of the keyword starting at i, its parts in order with short gaps between; -1 if absent."""
    if not raw.startswith(parts[0], i):
        return -1
    end = i + len(parts[0])
    for part in parts[1:]:
        window = raw[end : end + GAP_CHARS + len(part)]
        j = window.find(part)
        if j < 0 or any(c in _SENTENCE_ENDS for c in window[:j]):
            return -1
        end += j + len(part)
    return end


def _match_en(words: list[tuple[str, int, int]], i: int, candidate: tuple[str, ...]) -> int:
    """Index after the last word of the keyword starting at word i; -1 if absent."""
    k = i
    for n, expected in enumerate(candidate):
        if expected == GAP:
            continue
        if n and candidate[n - 1] == GAP:
            for skip in range(GAP_WORDS + 1):
                if k + skip < len(words) and _word_fits(expected, words[k + skip][0]):
                    k += skip
                    break
            else:
                return -1
        elif k >= len(words) or not _word_fits(expected, words[k][0]):
            return -1
        k += 1
    return k


def _zh_weight(word: str) -> float:
    return max(0.7, min(2.5, 1.0 + 0.3 * (len(word) - 2)))


def _en_weight(words: tuple[str, ...]) -> float:
    if len(words) == 1 and len(words[0]) <= 3:
        return 0.8
    return min(2.5, 1.0 + 0.6 * (len(words) - 1))


_SUFFIXES = ("s", "es", "ed", "d", "ing", "ly")


def _word_fits(keyword: str, word: str) -> bool:
    """The word is the keyword or the keyword with a plural, past or -ing ending."""
    if word == keyword:
        return True
    if word.startswith(keyword) and word[len(keyword) :] in _SUFFIXES and len(keyword) >= 3:
        return True
    return keyword.endswith("e") and word == keyword[:-1] + "ing"


def negated_zh(raw: str, start: int) -> bool:
    return (start >= 1 and raw[start - 1] in NEG_ZH_1) or (start >= 2 and raw[start - 2 : start] in NEG_ZH_2)


def negated_en(words: list[tuple[str, int, int]], i: int) -> bool:
    return any(w in NEG_EN for w, _, _ in words[max(0, i - 2) : i])


def find(text: Prepared, index: Index) -> list[Hit]:
    hits: list[Hit] = []
    raw = text.raw
    for i, char in enumerate(raw):
        for parts, tag, weight in index.zh.get(char, ()):
            end = _match_zh(raw, i, parts)
            if end > 0 and not negated_zh(raw, i):
                hits.append(Hit(i, end, tag, weight, raw[i:end]))
    words = text.words
    for i, (first, _, _) in enumerate(words):
        for candidate, tag, weight in [*index.en.get(first, ()), *_stems(index, first)]:
            after = _match_en(words, i, candidate)
            if after > 0 and not negated_en(words, i):
                start, end = words[i][1], words[after - 1][2]
                hits.append(Hit(start, end, tag, weight, raw[start:end]))
    return _longest_first(hits)


def _stems(index: Index, word: str) -> list[tuple[tuple[str, ...], str, float]]:
    """Keywords whose first word is this word without its ending ("leaking" → "leak")."""
    found: list[tuple[tuple[str, ...], str, float]] = []
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            found.extend(index.en.get(word[: -len(suffix)], ()))
    if word.endswith("ing"):
        found.extend(index.en.get(word[:-3] + "e", ()))
    return found


def _longest_first(hits: list[Hit]) -> list[Hit]:
    """Overlapping hits keep the longest: "发错颜色" says more than the "发错" inside it."""
    kept: list[Hit] = []
    taken: list[tuple[int, int]] = []
    for hit in sorted(hits, key=lambda h: (-(h.end - h.start), h.start)):
        if all(hit.end <= s or hit.start >= e for s, e in taken):
            kept.append(hit)
            taken.append((hit.start, hit.end))
    return sorted(kept, key=lambda h: h.start)


def mentions(text: Prepared, zh: Iterable[str], en: Iterable[str]) -> list[str]:
    """Which of these Chinese substrings or English phrases occur (not negated)."""
    found = [w for w in zh if (i := text.raw.find(w)) >= 0 and not negated_zh(text.raw, i)]
    words = [w for w, _, _ in text.words]
    for phrase in en:
        parts = tuple(_WORD.findall(phrase))
        n = len(parts)
        for i in range(len(words) - n + 1):
            if all(_word_fits(p, words[i + j]) for j, p in enumerate(parts)) and not negated_en(text.words, i):
                found.append(phrase)
                break
    # "12315" also contains "315": keep the longer word only.
    return [w for w in found if not any(w != other and w in other for other in found)]
