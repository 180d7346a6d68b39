"""Extra training rows made from the training text at build time (seeded: the model stays
reproducible), for messages as shoppers type them on a phone:

- keyword forms: most real messages are 1–5 words ("退货 运费", "cancel order"), so each request
  is also seen with its pronouns, particles and politeness dropped;
- out-of-scope negatives: a request with its keywords deleted ("我的…到哪了" without 快递), the
  same request about someone else's business ("取消机票", "where is my flight"), and noise: bare
  numbers, phones, order numbers, codes, links, emoji, punctuation and keyboard mashing. They
  teach the model that our carrier words alone, or our words about another service, are not a
  request to us.

Rows are (text, intent, group); a row made from an example shares its group, so calibration
never tests on a near-twin of what it trained on.
"""

from __future__ import annotations

import random
import re
import string
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence

from aftersales.understanding.intents import SMALL_TALK, Intent

OOS = Intent.OUT_OF_SCOPE.value
_HAN = re.compile(r"[\u3400-\u9fff]")

# Words that carry no request: dropped for the keyword forms, never counted as keywords.
_ZH_FILLER_WORDS = (
    "我 你 您 他 她 它 我们 你们 的 了 吗 呢 啊 吧 呀 哦 嘛 哈 么 啦 一下 下 帮 帮我 帮忙 请 请问 麻烦 "
    "亲 哎 嗯 那个 这个 就 还 都 也 给 把 让 我想 想 要 我要 需要 一个 个 能 能不能 可以 可不可以 "
    "是 有 在 好 呃 哟 喂 谢谢 你好 您好 客服"
)
_EN_FILLER_WORDS = (
    "i i'm im me my you your u ur the a an to is it its it's this that these those please pls hi hello hey "
    "can could would will want wanna need like just so of for and do does did am are was be have has "
    "with on in at from some any get got thanks thank ok okay dear there"
)
FILLER = frozenset(_ZH_FILLER_WORDS.split()) | frozenset(_EN_FILLER_WORDS.split())

# What a request is about, and someone else's business to put in its place.
_ZH_OBJECTS = ("订单", "快递", "包裹", "商品", "东西", "衣服", "货", "宝贝")
_ZH_OTHERS = (
    "机票", "火车票", "外卖", "电影票", "酒店", "滴滴", "话费", "信用卡", "房贷", "社保", "体检预约", "驾照",
    "健身卡", "水电费", "挂号", "网约车", "股票", "签证",
)  # fmt: skip
_EN_OBJECTS = ("order", "package", "parcel", "item", "items", "shoes", "jacket", "purchase", "stuff", "product")
_EN_OTHERS = (
    "flight", "train ticket", "uber ride", "hotel booking", "netflix subscription", "gym membership",
    "phone bill", "bank loan", "library book", "rental car", "pizza", "tax return", "visa application",
    "doctor appointment", "insurance claim", "concert ticket",
)  # fmt: skip

Row = tuple[str, str, int]
Tokenize = Callable[[str], list[str]]


def _join(tokens: Sequence[str]) -> str:
    out = ""
    for token in tokens:
        if out and not (_HAN.match(token[0]) and _HAN.match(out[-1])):
            out += " "
        out += token
    return out


def _words(tokens: Sequence[str]) -> list[str]:
    return [t for t in tokens if t.strip() and any(ch.isalnum() for ch in t)]


def keyword_forms(examples: Sequence[tuple[str, str]], tokenize: Tokenize) -> list[Row]:
    """Each request with its filler words dropped, when that leaves one to five words."""
    out = []
    for group, (text, intent) in enumerate(examples):
        if intent in SMALL_TALK or intent == OOS:
            continue
        words = _words(tokenize(text))
        kept = [w for w in words if w not in FILLER]
        if 1 <= len(kept) <= 5 and len(kept) < len(words):
            out.append((_join(kept), intent, group))
    return out


def keywords(examples: Sequence[tuple[str, str]], tokenize: Tokenize) -> frozenset[str]:
    """Our words: seen three times or more, 80% or more of the time in a request (not in an
    out-of-scope message or small talk). Deleting them all leaves what carries no request."""
    per_word: dict[str, Counter[str]] = defaultdict(Counter)
    for text, intent in examples:
        for word in set(_words(tokenize(text))):
            per_word[word][intent] += 1
    found = set()
    for word, counts in per_word.items():
        total = sum(counts.values())
        requests = total - counts[OOS] - sum(counts[i] for i in SMALL_TALK)
        if total >= 3 and requests / total >= 0.8 and word not in FILLER:
            found.add(word)
    return frozenset(found)


def negatives(examples: Sequence[tuple[str, str]], tokenize: Tokenize, seed: int = 11) -> list[Row]:
    """Out-of-scope rows made from the requests (keywords deleted or their object replaced) and noise."""
    rng = random.Random(seed)
    marked = keywords(examples, tokenize)
    out: list[Row] = []
    for group, (text, intent) in enumerate(examples):
        if intent in SMALL_TALK or intent == OOS:
            continue
        words = _words(tokenize(text))
        rest = [w for w in words if w not in marked]
        # Only fragments: a longer rest can still say what the customer wants in other words.
        if 1 <= len(rest) <= 3 and len(rest) * 2 <= len(words) and rng.random() < 0.5:
            out.append((_join(rest), OOS, group))
        objects = [i for i, w in enumerate(words) if w in _ZH_OBJECTS or w in _EN_OBJECTS]
        if objects and rng.random() < 0.5:
            i = rng.choice(objects)
            other = rng.choice(_ZH_OTHERS if _HAN.match(words[i][0]) else _EN_OTHERS)
            out.append((_join([*words[:i], other, *words[i + 1 :]]), OOS, group))
    start = len(examples)
    out += [(text, OOS, start + i) for i, text in enumerate(noise(rng))]
    return out


_EMOJI = "😂🤣😀😅😭😢🙄😴🤔😎🥲👀🎉🌹🐶🐱💩🔥✨🍕🎂⚽🌙☀️💯🤡🙃"


def noise(rng: random.Random, count: int = 240) -> list[str]:
    """Messages that are no request: numbers, phones, order numbers, codes, links, emoji, mashing."""
    makers: list[Callable[[], str]] = [
        lambda: str(rng.randint(0, 10 ** rng.randint(1, 8))),
        lambda: f"1{rng.choice('3456789')}{rng.randint(0, 999999999):09d}",
        lambda: f"1{rng.choice('3456789')}{rng.randint(0, 9)} {rng.randint(0, 9999):04d} {rng.randint(0, 9999):04d}",
        lambda: (
            f"+86 1{rng.choice('3456789')}{rng.randint(0, 9)}-{rng.randint(0, 9999):04d}-{rng.randint(0, 9999):04d}"
        ),
        lambda: f"SO{rng.randint(10**12, 10**13 - 1)}",
        lambda: f"#{rng.randint(1000, 99999999)}",
        lambda: rng.choice(("code ", "验证码", "pin ", "")) + f"{rng.randint(0, 999999):06d}",
        lambda: (
            rng.choice(("www.", "http://", "https://t.cn/"))
            + "".join(rng.choices(string.ascii_lowercase, k=6))
            + ".com"
        ),
        lambda: "".join(rng.choices(_EMOJI, k=rng.randint(1, 4))),
        lambda: "".join(rng.choices("?？!！.。~…,，", k=rng.randint(1, 6))),
        lambda: "".join(rng.choices("asdfghjklqwertyuiopzxcvbnm", k=rng.randint(3, 10))),
        lambda: rng.choice("哈嘿呵啊嗯哦呜") * rng.randint(1, 6),
    ]
    return [rng.choice(makers)() for _ in range(count)]
