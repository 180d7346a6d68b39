"""Reading slot answers out of customer messages: yes / no, a reason, a quantity, which order and
which item, and the language a message is written in. Pure: stdlib only.

The dialogue (dialogue.py) asks; these functions read the answer. Each returns None when the
message does not answer, so the dialogue can re-ask or switch to what the customer wants instead.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol, TypeVar

_PUNCT = re.compile(r"[\s\.,!?;:~、，。！？；：…\"'“”‘’()（）\[\]【】]+")


def norm(text: str) -> str:
    """NFKC, lower case, punctuation and spaces collapsed to single spaces."""
    return _PUNCT.sub(" ", unicodedata.normalize("NFKC", text).lower()).strip()


# --- yes / no ------------------------------------------------------------------------------------
_YES = {
    "是", "是的", "对", "对的", "好", "好的", "好滴", "嗯", "嗯嗯", "行", "可以", "确认", "确定", "同意", "提交",
    "没问题", "要", "ok", "okay", "k", "y", "yes", "yeah", "yep", "yup", "sure", "confirm", "submit", "go ahead",
    "please do", "yes please", "do it", "correct", "right",
}  # fmt: skip
_YES_PREFIX = ("确认", "确定", "好的", "是的", "yes ", "ok ", "sure ", "confirm ")
_NO = {
    "不", "不是", "不要", "不用", "不用了", "不行", "算了", "取消", "否", "别", "no", "n", "nope", "nah",
    "no thanks", "cancel", "stop", "never mind", "nevermind", "don't", "dont", "not now", "wait",
}  # fmt: skip
_NO_PREFIX = ("不", "算了", "别", "no ", "don't ", "dont ", "never mind", "not ")


def yes_no(text: str) -> bool | None:
    """True for a yes, False for a no, None for anything else (a new question, noise)."""
    t = norm(text)
    if not t or "?" in text or "？" in text:  # "嗯？" is a question, not a yes
        return None
    if t in _NO or t.startswith(_NO_PREFIX):
        return False
    if t in _YES or t.startswith(_YES_PREFIX):
        return True
    return None


# --- reasons and keyword triggers ----------------------------------------------------------------
DAMAGED_WORDS = (
    "破损", "碎了", "碎掉", "压坏", "摔坏", "压扁", "磕坏", "damaged", "broken", "cracked", "smashed", "crushed",
)  # fmt: skip
MISSING_WORDS = ("少件", "漏发", "少发", "少了一", "缺件", "missing item", "missing", "item missing", "not in the box")
REASON_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("damaged", DAMAGED_WORDS),
    ("missing_item", MISSING_WORDS),
    (
        "wrong_item",
        ("发错", "不是我买的", "不是我要的", "错发", "wrong item", "wrong one", "not what i ordered", "wrong"),
    ),
    (
        "not_received",
        ("没收到", "未收到", "没有收到", "not received", "never arrived", "didn't arrive", "did not arrive"),
    ),
    (
        "defect",
        ("质量", "坏了", "不能用", "用不了", "故障", "没声音", "没反应", "不工作", "开不了机", "充不进", "defect",
         "faulty", "doesn't work", "does not work", "not working", "stopped working", "quality", "dead"),
    ),
    (
        "changed_mind",
        ("不想要", "不要了", "不喜欢", "不合适", "太大", "太小", "偏大", "偏小", "尺码", "无理由", "买错", "拍错",
         "后悔", "changed my mind", "change of mind", "don't like", "dont like", "too big", "too small",
         "doesn't fit", "does not fit", "don't need", "dont need", "no longer need", "don't want", "dont want"),
    ),
)  # fmt: skip
REASONS = ("changed_mind", "defect", "damaged", "wrong_item", "missing_item", "other")
# Something wrong with the goods as they came (not a change of mind).
PROBLEM_REASONS = frozenset({"defect", "damaged", "wrong_item", "missing_item"})


def reason_in(text: str) -> str | None:
    """The case reason a free-text answer names, or None."""
    t = norm(text)
    for reason, words in REASON_WORDS:
        if any(word in t for word in words):
            return reason
    return None


def trigger_in(text: str) -> str | None:
    """'damaged' or 'missing_item' when a message reports a damaged parcel or a missing item:
    these go straight to the claim flow whatever the intent model thought."""
    t = norm(text)
    if any(word in t for word in DAMAGED_WORDS):
        return "damaged"
    if any(word in t for word in MISSING_WORDS):
        return "missing_item"
    return None


# --- rudeness and chit-chat ----------------------------------------------------------------------
# Words a customer throws at the bot when it fails them: heard (an apology and a person), never
# taken as the reason of a claim. Abusive words proper are the masking lists' (kit/wordlists).
INSULT_WORDS = (
    "好笨", "真笨", "太笨了", "笨蛋", "笨死", "蠢", "傻子", "傻瓜", "你傻", "好傻", "真傻", "白痴", "智障", "弱智",
    "垃圾机器人", "垃圾客服", "真垃圾", "太垃圾", "废物", "没用的东西", "脑残", "听不懂人话", "破机器人",
    "stupid", "dumb", "idiot", "useless", "moron", "pathetic", "you suck", "rubbish bot", "garbage bot",
)  # fmt: skip
_INSULT = re.compile("|".join(re.escape(w) if not w.isascii() else rf"\b{re.escape(w)}\b" for w in INSULT_WORDS))
_CHIT_CHAT = re.compile(r"^(?:[哈呵嘿嘻]+|h[ae]h[ae]\w*|lol|lmao|hmm+|em+|嗯+|哦+|啊+|额+|呃+|\W+)$")


def insult_in(text: str) -> bool:
    """The message calls the bot names ("你好笨", "you're stupid", "垃圾机器人")."""
    return bool(_INSULT.search(norm(text)))


def chit_chat(text: str) -> bool:
    """Laughter, a hum, punctuation alone: nothing a claim could take as its reason."""
    t = norm(text).replace(" ", "")
    return not t or bool(_CHIT_CHAT.match(t))


# --- quantity ------------------------------------------------------------------------------------
_CN_DIGITS = {"一": 1, "两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_EN_DIGITS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "both": 2}
_ALL = ("全部", "都退", "所有", "都要", "all", "every", "whole")


def quantity_in(text: str, most: int) -> int | None:
    """A quantity between 1 and `most` the message names ("2", "两件", "both", "全部"), else None."""
    t = norm(text)
    if any(word in t for word in _ALL):
        return most
    numbers = [int(n) for n in re.findall(r"(?<![\d])(\d{1,3})(?![\d])", t)]
    words = [_CN_DIGITS[c] for c in re.findall(r"([一两二三四五六七八九十])\s*(?:件|个|台|只|双|盒|瓶|套|份)", t)]
    if t in _CN_DIGITS:
        words.append(_CN_DIGITS[t])
    words += [value for word, value in _EN_DIGITS.items() if re.search(rf"\b{word}\b", t)]
    for n in [*numbers, *words]:
        if 1 <= n <= most:
            return n
    return None


def quantity_stated(text: str) -> int | None:
    """A quantity said with its unit in a request ("退两件", "2 个", "both"): never a bare number,
    which in a first message is as likely a date or part of an order number."""
    t = norm(text)
    if re.search(r"\bboth\b", t):
        return 2
    match = re.search(r"(?<![\d])(\d{1,2})\s*(?:件|个|台|只|双|盒|瓶|套|份|pcs|pieces|items)", t) or re.search(
        r"([一两二三四五六七八九十])\s*(?:件|个|台|只|双|盒|瓶|套|份)", t
    )
    if match is None:
        return None
    token = match.group(1)
    return int(token) if token.isdigit() else _CN_DIGITS[token]


# --- language ------------------------------------------------------------------------------------
_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN_WORD = re.compile(r"[a-z]{2,}")
_NOT_LANGUAGE = re.compile(r"^(so|as|sf|jd|ok|k|y|n)$")


def language_of(text: str, current: str) -> str:
    """The reply language: Chinese when the message has Chinese characters, English when it has
    English words and no Chinese, else the conversation's current language (digits, order ids)."""
    t = norm(text)
    if _CJK.search(t):
        return "zh-CN"
    words = [w for w in _LATIN_WORD.findall(t) if not _NOT_LANGUAGE.match(w)]
    if len(words) >= 2 or (words and len(words[0]) >= 4):
        return "en"
    return current


# --- which order, which item ---------------------------------------------------------------------
# Small frozen dataclasses like other modules' on purpose: the matcher's own inputs, no imports.
@dataclass(frozen=True, slots=True)
class Item:
    """What the matcher needs of an order line."""

    line_no: int
    product_name: str
    category: str


@dataclass(frozen=True, slots=True)
class Candidate:
    """What the matcher needs of an order."""

    number: str
    placed_on: date
    delivered_on: date | None
    items: tuple[Item, ...]


class Numbered(Protocol):
    @property
    def number(self) -> str: ...


N = TypeVar("N", bound=Numbered)


def order_named(text: str, candidates: Sequence[N], entity: str | None) -> N | None:
    """The order whose number the message gives (an entity, or written out, in any case)."""
    t = norm(text).replace(" ", "")
    for candidate in candidates:
        number = candidate.number.lower()
        if (entity and entity.lower() == number) or (len(number) >= 4 and number in t):
            return candidate
    return None


def ordinal_in(text: str, count: int) -> int | None:
    """'1', '第二个', 'the second one' → a 0-based index below count."""
    t = norm(text)
    ordinals = {"first": 0, "second": 1, "third": 2, "fourth": 3, "fifth": 4, "last": count - 1}
    for word, index in ordinals.items():
        if re.search(rf"\b{word}\b", t) and 0 <= index < count:
            return index
    match = re.fullmatch(r"(?:第\s*)?(\d|[一二三四五])\s*(?:个|单|件|行)?", t)
    if match:
        token = match.group(1)
        index = (int(token) if token.isdigit() else _CN_DIGITS[token]) - 1
        return index if 0 <= index < count else None
    return None


# Words that point back at what was just talked about ("那个", "it"), not at a new order.
_POINTING_BACK = re.compile(
    r"这个|那个|这单|那单|刚才|刚刚|上面|(?<!其)它"  # 其它 is "other"
    r"|\b(it|this one|that one|that order|this order)\b"
)


def points_back(text: str) -> bool:
    return bool(_POINTING_BACK.search(norm(text)))


def mentions(item: Item, product: str, category: str) -> int:
    """How strongly a message's product word and kind of goods name an order line (0: not at all)."""
    return _mentions(item, norm(product), category)


def _mentions(item: Item, product: str, category: str) -> int:
    name = norm(item.product_name)
    score = 0
    if product:
        stem = product.rstrip("s") if product.endswith("s") and len(product) > 3 else product
        if stem in name or product in name:
            score += 3
    if category and category == item.category:
        score += 1
    return score


def match_items(
    candidates: Iterable[Candidate], product: str, category: str, day: date | None
) -> list[tuple[int, Candidate, Item]]:
    """Order lines the message may mean ("the headphones I bought last week"), best first.

    A product word in the line's name counts 3, the same category 1, and a purchase or delivery
    within four days of a date the customer gave counts 2. Only lines that match the product or
    the date are returned."""
    product, scored = norm(product), []
    for candidate in candidates:
        near = day is not None and any(
            d is not None and abs((d - day).days) <= 4 for d in (candidate.placed_on, candidate.delivered_on)
        )
        for item in candidate.items:
            score = _mentions(item, product, category) + (2 if near else 0)
            if score > (0 if not (product or category) else 1):
                scored.append((score, candidate, item))
    scored.sort(key=lambda row: (-row[0], -row[1].placed_on.toordinal()))
    return scored


def item_named(text: str, items: Sequence[Item]) -> Item | None:
    """The line a free-text answer names by its product name, or by its position."""
    t = norm(text)
    for item in items:
        name = norm(item.product_name)
        if name and (name in t or (len(t) >= 2 and t in name)):
            return item
    index = ordinal_in(text, len(items))
    return items[index] if index is not None else None
