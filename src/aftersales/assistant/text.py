"""Preparing a customer message for the classifier: one normalised text, three views of it.

1. NFKC (full-width → half-width), lower case, traditional → simplified Chinese when the
   `opencc` package is installed (it is a dependency; without it the step is skipped).
2. Order numbers, phones, amounts and long digit runs become placeholders (entities.mask_numbers).
3. Chat shorthand is expanded: "pls" → please, "pkg" → package, "tk" → 退款 (pinyin initials
   customers type on Taobao), so the model sees one spelling.
   Elongations are cut (a Latin letter typed three times or more becomes one: "pleeease" →
   "please"; a Chinese character or a punctuation mark three times or more becomes two),
   emoji become a word (👍 → "emogood", most others "emojix"), and Latin words the training text
   never had are spelt back to the nearest one it had (a symmetric-delete speller, `Speller`).
4. Views: `words` (jieba for Chinese, words for Latin text), `chars` (the normalised text, for
   character n-grams that survive typos and segmentation errors), and `pinyin` (Chinese turned
   into toneless pinyin and everything run together, so "tuikuan", "tui kuan" and "退款" share
   n-grams, and so do run-on English words like "whereismyorder").
"""

from __future__ import annotations

import importlib.util
import json
import logging
import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from aftersales.assistant.entities import find_product, mask_numbers, normalise

MAX_CHARS = 1000  # longer messages are read up to here: enough for the intent, bounded in time

# Whole Latin words (after lower-casing) customers abbreviate or misspell, mapped to one form.
SHORTHAND = {
    "u": "you",
    "ur": "your",
    "r": "are",
    "pls": "please",
    "plz": "please",
    "plse": "please",
    "pkg": "package",
    "pkge": "package",
    "pckg": "package",
    "parcle": "parcel",
    "thx": "thanks",
    "thnx": "thanks",
    "thanx": "thanks",
    "tks": "thanks",
    "ty": "thanks",
    "tysm": "thanks",
    "msg": "message",
    "addr": "address",
    "adress": "address",
    "acct": "account",
    "pwd": "password",
    "pw": "password",
    "refound": "refund",
    "refnd": "refund",
    "cancle": "cancel",
    "cancell": "cancel",
    "recieve": "receive",
    "recieved": "received",
    "delivary": "delivery",
    "shippment": "shipment",
    "wen": "when",
    "wher": "where",
    "whr": "where",
    "tk": "退款",
    "th": "退货",
    "kf": "客服",
    "fp": "发票",
    "wl": "物流",
    "kd": "快递",
    "rg": "人工",
    "zrg": "转人工",
    "qx": "取消",
}
_LATIN_WORD = re.compile(r"[a-z]+")
_HAN = re.compile(r"[\u3400-\u9fff]")
_SPACES = re.compile(r"\s+")
_NOT_WORD = re.compile(r"[^\w\u3400-\u9fff]+")
# Words jieba should keep whole: the vocabulary of after-sales in China.
_DOMAIN_WORDS = (
    "退款 退货 换货 退换货 仅退款 退货退款 价保 保价 补差价 转人工 人工客服 催发货 催单 发货 没发货 "
    "快递 物流 运单号 订单号 签收 未签收 改地址 收货地址 取消订单 七天无理由 7天无理由 运费险 "
    "开发票 增值税专用发票 电子发票 发票抬头 税号 花呗 白条 分期 扣款 重复扣款 投诉 差评 12315 "
    "售后 保修 维修 上门安装 以旧换新 货到付款 包邮 顺丰 京东快递 中通 圆通 申通 韵达 预售 现货 "
    "正品 尺码 优惠券 会员 积分 验证码 注销 账号 密码 绑定 换绑 拒收 破损 漏发 错发 少发 不制冷"
)
DOMAIN_WORDS = tuple(_DOMAIN_WORDS.split())


# Emoji that say something in a shop's chat become a word; the rest one placeholder.
EMOJI_WORDS = {
    "👍": " emogood ",
    "👌": " emogood ",
    "❤": " emogood ",
    "😍": " emogood ",
    "🥰": " emogood ",
    "😡": " emoangry ",
    "😠": " emoangry ",
    "🤬": " emoangry ",
    "😤": " emoangry ",
    "👎": " emoangry ",
    "🙏": " emoplease ",
    "👋": " emowave ",
}
_EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff\ufe0f\u200d\u20e3]+")
_LATIN_REPEAT = re.compile(r"([a-z])\1{2,}")
_OTHER_REPEAT = re.compile(r"([^\w\s]|[\u3400-\u9fff])\1{2,}")


def _emoji(match: re.Match[str]) -> str:
    words = {EMOJI_WORDS[ch] for ch in match.group(0) if ch in EMOJI_WORDS}
    return "".join(sorted(words)) or " emojix "


def squeeze(norm: str) -> str:
    """Emoji to words, elongations cut: what people type in a hurry, in one spelling."""
    norm = _EMOJI.sub(_emoji, norm)
    norm = _LATIN_REPEAT.sub(r"\1", norm)
    return _OTHER_REPEAT.sub(r"\1\1", norm)


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


@dataclass(frozen=True, slots=True)
class Views:
    words: str
    chars: str
    pinyin: str


def _load_converter() -> Any:
    try:
        import opencc
    except ImportError:  # the step is optional: simplified-only text still works
        return None
    try:
        return opencc.OpenCC("t2s.json")
    except Exception:  # a broken install must not take the assistant down
        logging.getLogger(__name__).warning("opencc could not load t2s; traditional Chinese is not converted")
        return None


_converter_lock = threading.Lock()
_converter: list[Any] = []


def to_simplified(text: str) -> str:
    if not _converter:
        with _converter_lock:
            if not _converter:
                _converter.append(_load_converter())
    converter = _converter[0]
    return str(converter.convert(text)) if converter is not None and _HAN.search(text) else text


@lru_cache(maxsize=1)
def _tokenizer() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()  # our own instance: other contexts may tune the global one
    tokenizer.initialize()
    for word in DOMAIN_WORDS:
        tokenizer.add_word(word, freq=20000)
    return tokenizer


@lru_cache(maxsize=1)
def _readings() -> dict[str, str]:
    """Each Chinese character's first (most common) reading, toneless, from pypinyin's single-
    character table, read as data: importing pypinyin would also load its phrase dictionary
    (about 45 MB of memory in every web process) for polyphone readings that barely matter here,
    since customers type toneless pinyin syllable by syllable."""
    spec = importlib.util.find_spec("pypinyin")  # locates the package without running it
    folder = Path(next(iter(spec.submodule_search_locations or []))) if spec else None
    if folder is None or not (folder / "pinyin_dict.json").exists():
        return {}
    table = json.loads((folder / "pinyin_dict.json").read_text(encoding="utf-8"))
    out = {}
    for code, readings in table.items():
        first = unicodedata.normalize("NFKD", readings.split(",")[0])
        out[chr(int(code))] = "".join(ch for ch in first if not unicodedata.combining(ch))  # ü → u
    return out


@lru_cache(maxsize=100_000)
def _pinyin(word: str) -> str:
    readings = _readings()
    return "".join(readings.get(ch, ch) for ch in word)


def clean(text: str, speller: Speller | None = None) -> str:
    """Normalised, simplified, emoji and elongations squeezed, numbers masked, shorthand expanded,
    misspellings corrected (with a speller), whitespace collapsed."""
    norm = squeeze(to_simplified(normalise(text[:MAX_CHARS])))
    masked = mask_numbers(norm)
    expanded = _LATIN_WORD.sub(lambda m: SHORTHAND.get(m.group(0), m.group(0)), masked)
    if speller is not None:
        expanded = _LATIN_WORD.sub(lambda m: speller.correct(m.group(0)), expanded)
    if find_product(norm) is not None:  # "a product is mentioned": a strong in-domain cue
        expanded += " productx"
    return _SPACES.sub(" ", expanded).strip()


def tokens(text: str) -> list[str]:
    """The words of a raw message as jieba cuts its normalised form (numbers not masked)."""
    return list(_tokenizer().lcut(squeeze(to_simplified(normalise(text[:MAX_CHARS]))), HMM=True))


def views(text: str, speller: Speller | None = None) -> Views:
    """The three views of one raw message (see the module's docstring)."""
    cleaned = clean(text, speller)
    tokens = [t for t in (_NOT_WORD.sub("", tok) for tok in _tokenizer().lcut(cleaned, HMM=True)) if t]
    pinyin = "".join(_pinyin(t) if _HAN.search(t) else t for t in tokens)
    return Views(words=" ".join(tokens), chars=cleaned, pinyin=pinyin)
