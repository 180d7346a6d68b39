"""Tokenising a customer message: one normalised text, three views of it for the intent model,
and the character n-grams the ticket classifier's model reads.

1. Normalised (normalising.py): NFKC, lower case, traditional → simplified, emoji and
   elongations squeezed.
2. Order numbers, phones, amounts and long digit runs become placeholders (entities.mask_numbers).
3. Chat shorthand is expanded (normalising.SHORTHAND), and Latin words the training text never
   had are spelt back to the nearest one it had (a symmetric-delete speller, spelling.Speller).
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
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from aftersales.understanding.entities import find_product, mask_numbers
from aftersales.understanding.normalising import SHORTHAND, normalise, squeeze, to_simplified
from aftersales.understanding.spelling import Speller

MAX_CHARS = 1000  # longer messages are read up to here: enough for the intent, bounded in time

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


@dataclass(frozen=True, slots=True)
class Views:
    words: str
    chars: str
    pinyin: str


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


def char_ngrams(text: str) -> list[str]:
    """1–3 character n-grams of each word padded with spaces: they survive typos and need no segmentation."""
    grams: list[str] = []
    for word in text.split():
        padded = f" {word} "
        for n in (1, 2, 3):
            grams.extend(padded[i : i + n] for i in range(max(1, len(padded) - n + 1)))
    return grams
