"""Help articles: what an article may hold, Chinese-aware tokenisation and BM25 ranking.

Pure: text in, ranked article ids out; no database, no clock, deterministic.

Tokenisation (`tokenize`): text is NFKC-normalised (full-width letters and digits become ASCII)
and lower-cased; Markdown is reduced to its words. Runs of Chinese characters go through jieba's
search mode (words and the shorter words inside them), runs of anything else are split into
ASCII words and numbers, with no stemming. Punctuation and a small stop-word list in both
languages are dropped. Each Chinese run also yields its character bigrams, prefixed with
``BIGRAM_MARK`` so they never collide with words: a typo ("退获") or a word jieba does not know
still shares bigrams with the right article. A tag, and a whole query, also yield a phrase key: its
content words run together ("怎么退货" and "我想退货" → "退货", "how do I return" → "return"), so a
query saying what a tag says names that article (admins tune search by adding customers' phrasings
as tags).

Ranking (`SearchIndex`): BM25F with k1 = 1.5 and b = 0.75 over three fields, title (x3), tags (x2)
and body (x1), each length-normalised against its own average before the weighted term frequencies
are added up and saturated once. Both languages of an article are indexed together, so a query in
either language finds it. idf = ln(1 + (N - df + 0.5) / (df + 0.5)). Query words weigh 1, query
bigrams 0.5, the phrase key 1; a repeated query term counts once. Ties go to the lower id.
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import jieba

jieba.setLogLevel(logging.WARNING)  # no "Building prefix dict…" chatter on the first search
# Our own instance of the default dictionary, loaded on the first search: words another context adds
# to jieba's global tokenizer cannot change how articles are indexed.
_jieba = jieba.Tokenizer()

# --- what an article may hold -------------------------------------------------------------------
CATEGORIES = (
    "returns",
    "refunds",
    "exchange_repair",
    "claims",
    "price_protection",
    "delivery",
    "orders",
    "invoices",
    "payments",
    "account",
    "contact",
)
LANGS = ("zh-CN", "en")
SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,118}[a-z0-9])?$")
RESERVED_SLUGS = frozenset({"search", "new"})  # /help/search is a page of its own
MAX_TITLE = 200
MAX_BODY = 50_000
MAX_TAGS = 30
MAX_TAG = 40
MAX_QUERY = 200


class ArticleError(ValueError):
    """An article that cannot be stored; the message says what to fix, in a sentence."""


# Limits and a frozen dataclass shaped like the taxonomy's on purpose: an article's own checks.
@dataclass(frozen=True, slots=True)
class ArticleContent:
    """An article's words in both languages, checked and trimmed."""

    category: str
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str
    tags: tuple[str, ...]


def normalize_lang(lang: str | None) -> str:
    """zh, zh-CN, zh_Hans … → "zh-CN"; en, en-US … → "en"; nothing → "zh-CN" (the shop's language)."""
    value = (lang or "").strip().lower()
    if not value or value.startswith("zh"):
        return "zh-CN"
    return "en"


# `{{sla.complaint.medium.first_response}}` in an article stands for the SLA policy's target, so
# what help promises is what the clocks count; the article file never states the number itself.
FACT_PLACEHOLDER = re.compile(r"\{\{\s*([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)\s*\}\}")


def fill_facts(body: str, facts: dict[str, tuple[str, str]], zh: bool) -> str:
    """The body with each known placeholder replaced by its (zh, en) value; an unknown one (a
    policy an administrator removed) reads "—" rather than leaking the code to customers."""

    def value(match: re.Match[str]) -> str:
        pair = facts.get(match.group(1))
        return "—" if pair is None else pair[0 if zh else 1]

    return FACT_PLACEHOLDER.sub(value, body)


def placeholders(body: str) -> set[str]:
    return {m.group(1) for m in FACT_PLACEHOLDER.finditer(body)}


def check_slug(slug: str) -> str:
    slug = slug.strip()
    if not SLUG_PATTERN.match(slug):
        raise ArticleError(
            "The address (slug) must be 1–120 lower-case letters, digits or hyphens, "
            "starting and ending with a letter or digit, e.g. 'returns-7-day'."
        )
    if slug in RESERVED_SLUGS:
        raise ArticleError(f"The address '{slug}' is reserved by the help center; choose another one.")
    return slug


def split_tags(text: str) -> list[str]:
    """Tags typed in a form: separated by commas (, ， 、), semicolons or new lines."""
    return [part.strip() for part in re.split(r"[,，、;；\n]+", text) if part.strip()]


def _both_languages(zh: str, en: str, what: str, needed: str, limit: int) -> dict[str, str]:
    """The two texts trimmed, by language name; ArticleError when one is empty or too long."""
    texts = {"Chinese": zh.strip(), "English": en.strip()}
    for language, text in texts.items():
        if not text:
            raise ArticleError(f"The {language} {what} is empty; {needed}.")
        if len(text) > limit:
            raise ArticleError(f"The {language} {what} is {len(text)} characters long; keep it under {limit}.")
    return texts


def check_content(
    category: str, title_zh: str, title_en: str, body_zh: str, body_en: str, tags: Iterable[str]
) -> ArticleContent:
    category = category.strip()
    if category not in CATEGORIES:
        raise ArticleError(f"The category '{category}' is unknown; use one of {', '.join(CATEGORIES)}.")
    titles = _both_languages(title_zh, title_en, "title", "every article needs a title in both languages", MAX_TITLE)
    bodies = _both_languages(body_zh, body_en, "text", "write the article in both languages", MAX_BODY)
    cleaned: list[str] = []
    for tag in tags:
        if not isinstance(tag, str):
            raise ArticleError(f"The tag {tag!r} is not a text; tags are short words or phrases.")
        tag = tag.strip()
        if len(tag) > MAX_TAG:
            raise ArticleError(f"The tag '{tag[:20]}…' is too long; keep each tag under {MAX_TAG} characters.")
        if tag and tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > MAX_TAGS:
        raise ArticleError(f"An article has at most {MAX_TAGS} tags; this one has {len(cleaned)}.")
    return ArticleContent(
        category, titles["Chinese"], titles["English"], bodies["Chinese"], bodies["English"], tuple(cleaned)
    )


# --- text ---------------------------------------------------------------------------------------
BIGRAM_MARK = "#"
PHRASE_MARK = "="
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RUN = re.compile(f"([{_CJK}]+)")
_WORD = re.compile(r"[a-z0-9]+")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


ZH_STOP = _words(
    """
    的 地 得 了 着 过 吗 呢 吧 啊 呀 哦 嘛 么 啦 哈 我 你 您 他 她 它 我们 你们 他们 咱们 我的 你的 您的
    是 在 有 和 与 及 或 就 都 也 还 又 很 要 想 我要 我想 想要 会 能 能不能 可以 可不可以 可 怎么 怎么办
    怎样 怎么样 如何 什么 为什么 为啥 哪 哪里 哪儿 请问 请 麻烦 一下 这个 那个 这 那 这样 那样 个 把 被
    给 让 对 从 啥 呃 嗯 一个
    """
)
EN_STOP = _words(
    """
    a an the is are am was were be been being do does did doing i me my mine we us our you your yours it its
    this that these those to of in on at by for with from and or but if so as how what when where why which who
    whom can could would should will shall may might must please there here have has had get got want need about
    into than then just also any some very too much many hi hello dear
    """
)
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_PREFIX = re.compile(r"^\s{0,3}(?:#{1,6}\s+|>\s?|[-*+]\s+|\d{1,3}[.)]\s+)")
_MD_RULE = re.compile(r"^\s*(?:[-*_]\s*){3,}$|^\s*\|?\s*:?-{3,}.*$|^\s*```.*$")
_MD_MARKS = re.compile(r"(\*\*|__|`|~~|(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w))")
_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])|(?<=\.)\s+|\n+")


def plain_text(markdown: str) -> str:
    """Markdown reduced to its words, one block per line: what is indexed and quoted in snippets."""
    lines = []
    for raw in markdown.splitlines():
        if _MD_RULE.match(raw):
            continue
        line = _MD_LINK.sub(r"\1", raw)
        line = _MD_PREFIX.sub("", line)
        line = _MD_MARKS.sub("", line).replace("|", " ")
        line = " ".join(line.split())
        if line:
            lines.append(line)
    return "\n".join(lines)


def _analyse(text: str) -> tuple[list[str], str]:
    """(search terms, phrase key): the key is the text's content words run together, stop words left out."""
    text = unicodedata.normalize("NFKC", text).lower()
    tokens: list[str] = []
    key: list[str] = []
    for part in _CJK_RUN.split(text):
        if not part:
            continue
        if not _CJK_RUN.fullmatch(part):
            words = [w for w in _WORD.findall(part) if w not in EN_STOP and (len(w) > 1 or w.isdigit())]
            tokens.extend(words)
            key.extend(words)
            continue
        tokens.extend(w for w in _jieba.cut_for_search(part) if w.strip() and w not in ZH_STOP)
        # Bigrams over the run with its stop words cut out (they split it): "退款到账了吗" → 退款, 款到, 到账.
        pieces = [""]
        for word in _jieba.lcut(part):
            if word in ZH_STOP:
                pieces.append("")
            else:
                pieces[-1] += word
        tokens.extend(BIGRAM_MARK + piece[i : i + 2] for piece in pieces for i in range(len(piece) - 1))
        key.extend(pieces)
    joined = "".join(key)
    return tokens, joined if len(joined) >= 2 else ""  # one character names nothing


def tokenize(text: str) -> list[str]:
    """Search terms of a text, in order: Chinese words and their bigrams (marked), English words, numbers."""
    return _analyse(text)[0]


def phrase_key(text: str) -> str:
    """A tag or a whole query reduced to its content words: "怎么退货" and "我想退货" → "退货",
    "how do I return" → "return". A query whose key equals a tag's key names that article."""
    return _analyse(text)[1]


def query_terms(query: str) -> dict[str, float]:
    """Each distinct term of a query with its weight: words 1, bigrams 0.5, the whole-phrase key 1."""
    tokens, key = _analyse(query[:MAX_QUERY])
    terms = {term: (0.5 if term.startswith(BIGRAM_MARK) else 1.0) for term in tokens}
    if key:
        terms[PHRASE_MARK + key] = 1.0
    return terms


def tag_terms(tags: Iterable[str]) -> list[str]:
    """The tags field: every tag's words and bigrams, plus its phrase key."""
    terms: list[str] = []
    for tag in tags:
        tokens, key = _analyse(tag)
        terms.extend(tokens)
        if key:
            terms.append(PHRASE_MARK + key)
    return terms


# --- ranking ------------------------------------------------------------------------------------
K1 = 1.5
B = 0.75
FIELD_WEIGHTS: dict[str, float] = {"title": 3.0, "tags": 2.0, "body": 1.0}


@dataclass(frozen=True, slots=True)
class IndexDoc:
    """One article as the index sees it: each field holds both languages."""

    doc_id: int
    title: str
    tags: tuple[str, ...]
    body: str


# Kinds of goods with after-sales rules of their own, by the words people use for them. A question
# that names one ("生鲜可以七天无理由退货吗") is answered by the article about that kind (its title
# names it) before the general rule, as long as that article answers nearly as well: at least
# SPECIFIC_SHARE of the best score and SPECIFIC_COVERAGE of the best coverage.
PRODUCT_KINDS: dict[str, tuple[str, ...]] = {
    "fresh": ("生鲜", "水果", "海鲜", "肉类", "fresh food", "fresh produce", "seafood"),
    "baby": ("母婴", "婴儿", "baby"),
    "custom": ("定制", "custom-made"),
    "large_appliance": ("大家电", "large appliance"),
}
SPECIFIC_SHARE = 0.5
SPECIFIC_COVERAGE = 0.75


def kinds_named(text: str) -> frozenset[str]:
    folded = unicodedata.normalize("NFKC", text).lower()
    return frozenset(kind for kind, words in PRODUCT_KINDS.items() if any(w in folded for w in words))


@dataclass(frozen=True, slots=True)
class Match:
    doc_id: int
    score: float
    coverage: float  # share of the query's weight the article matched, 0–1: how much of the question it covers


@lru_cache(maxsize=4096)
def _field_terms(text: str | tuple[str, ...]) -> tuple[str, ...]:
    """A field's terms, remembered: rebuilding the index after one edit re-reads only that article."""
    return tuple(tag_terms(text) if isinstance(text, tuple) else tokenize(text))


class SearchIndex:
    """BM25F over title, tags and body; built once per set of articles, then read-only."""

    def __init__(
        self, docs: Iterable[IndexDoc], *, k1: float = K1, b: float = B, weights: dict[str, float] | None = None
    ) -> None:
        self.k1 = k1
        weights = weights or FIELD_WEIGHTS
        docs = list(docs)
        self._kinds = {doc.doc_id: kinds_named(doc.title) for doc in docs}
        counted = [(doc.doc_id, {f: Counter(_field_terms(getattr(doc, f))) for f in weights}) for doc in docs]
        self.size = len(counted)
        average = {
            f: (sum(sum(fields[f].values()) for _, fields in counted) / self.size if self.size else 0.0) or 1.0
            for f in weights
        }
        postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for doc_id, fields in counted:
            pseudo: dict[str, float] = defaultdict(float)
            for f, weight in weights.items():
                norm = 1 - b + b * sum(fields[f].values()) / average[f]
                for term, tf in fields[f].items():
                    pseudo[term] += weight * tf / norm
            for term in sorted(pseudo):
                postings[term].append((doc_id, pseudo[term]))
        self._postings = dict(postings)
        self._idf = {
            term: math.log(1 + (self.size - len(docs_) + 0.5) / (len(docs_) + 0.5)) for term, docs_ in postings.items()
        }

    def __contains__(self, term: str) -> bool:
        return term in self._postings

    def search(self, query: str, limit: int = 5, min_share: float = 0.0) -> list[Match]:
        """The best `limit` articles; with `min_share`, only those scoring at least that share of the best."""
        terms = query_terms(query)
        # Coverage counts words and bigrams; the phrase key only boosts the score.
        total = sum(w for t, w in terms.items() if not t.startswith(PHRASE_MARK)) or 1.0
        scores: dict[int, float] = defaultdict(float)
        covered: dict[int, float] = defaultdict(float)
        for term in sorted(terms):
            for doc_id, tf in self._postings.get(term, ()):
                scores[doc_id] += terms[term] * self._idf[term] * tf * (self.k1 + 1) / (tf + self.k1)
                if not term.startswith(PHRASE_MARK):
                    covered[doc_id] += terms[term]
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
        if ranked and (named := kinds_named(query)):
            best, reach = ranked[0][1], covered[ranked[0][0]]

            def specific(item: tuple[int, float]) -> bool:
                doc_id, score = item
                near = score >= best * SPECIFIC_SHARE and covered[doc_id] >= reach * SPECIFIC_COVERAGE
                return near and bool(named & self._kinds[doc_id])

            ranked.sort(key=lambda item: not specific(item))  # stable: score order within each group
        ranked = ranked[: max(limit, 0)]
        if ranked and min_share > 0:
            floor = ranked[0][1] * min_share
            ranked = [item for item in ranked if item[1] >= floor]
        return [Match(doc_id, round(score, 4), round(covered[doc_id] / total, 4)) for doc_id, score in ranked]


# --- snippets -----------------------------------------------------------------------------------
def _width(text: str) -> int:
    """Display width: a Chinese character takes the room of two Latin ones."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _cut(text: str, start: int, width: int) -> str:
    """The longest piece of `text` from `start` that fits `width`."""
    used, end = 0, start
    while end < len(text) and used + _width(text[end]) <= width:
        used += _width(text[end])
        end += 1
    return text[start:end]


def snippet(markdown: str, query: str, width: int = 160) -> str:
    """The passage of an article that answers the query best, about `width` columns wide (a Chinese
    character counts two).

    The sentence holding the most query terms wins (the first on a tie), followed by the next
    sentences while they fit; without any match, the article's opening.
    """
    sentences = [s.strip() for s in _SENTENCE_END.split(plain_text(markdown)) if s and s.strip()]
    if not sentences:
        return ""
    terms = [t.removeprefix(BIGRAM_MARK) for t in query_terms(query) if not t.startswith(PHRASE_MARK)]
    needles = sorted(set(terms), key=len, reverse=True)

    def hits(sentence: str) -> int:
        folded = unicodedata.normalize("NFKC", sentence).lower()
        return sum(1 for needle in needles if needle in folded)

    counts = [hits(s) for s in sentences]
    best = max(range(len(sentences)), key=lambda i: (counts[i], -i))
    if counts[best] == 0:
        best = 0
    text, end = sentences[best], best + 1
    while end < len(sentences):
        joined = text + ("" if text[-1] in "。！？；" else " ") + sentences[end]
        if _width(joined) > width:
            break
        text, end = joined, end + 1
    if _width(text) <= width:
        return ("… " if best else "") + text + (" …" if end < len(sentences) else "")
    folded = unicodedata.normalize("NFKC", text).lower()
    first = min((folded.find(n) for n in needles if n in folded), default=0)
    start = max(0, first - len(_cut(text[:first][::-1], 0, width // 4)))
    return ("… " if start or best else "") + _cut(text, start, width).strip() + " …"
