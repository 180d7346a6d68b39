"""Preparing a customer message for the classifier: one normalised text, three views of it.

1. NFKC (full-width → half-width), lower case, traditional → simplified Chinese when the
   `opencc` package is installed (it is a dependency; without it the step is skipped).
2. Order numbers, phones, amounts and long digit runs become placeholders (entities.mask_numbers).
3. Chat shorthand is expanded: "pls" → please, "pkg" → package, "tk" → 退款 (pinyin initials
   customers type on Taobao), so the model sees one spelling.
4. Views: `words` (jieba for Chinese, words for Latin text), `chars` (the normalised text, for
   character n-grams that survive typos and segmentation errors), and `pinyin` (Chinese turned
   into toneless pinyin and everything run together, so "tuikuan", "tui kuan" and "退款" share
   n-grams, and so do run-on English words like "whereismyorder").
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
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


@lru_cache(maxsize=100_000)
def _pinyin(word: str) -> str:
    from pypinyin import lazy_pinyin

    return "".join(lazy_pinyin(word, errors="default"))


def clean(text: str) -> str:
    """Normalised, simplified, numbers masked, shorthand expanded, whitespace collapsed."""
    norm = to_simplified(normalise(text[:MAX_CHARS]))
    masked = mask_numbers(norm)
    expanded = _LATIN_WORD.sub(lambda m: SHORTHAND.get(m.group(0), m.group(0)), masked)
    if find_product(norm) is not None:  # "a product is mentioned": a strong in-domain cue
        expanded += " productx"
    return _SPACES.sub(" ", expanded).strip()


def views(text: str) -> Views:
    """The three views of one raw message (see the module's docstring)."""
    cleaned = clean(text)
    tokens = [t for t in (_NOT_WORD.sub("", tok) for tok in _tokenizer().lcut(cleaned, HMM=True)) if t]
    pinyin = "".join(_pinyin(t) if _HAN.search(t) else t for t in tokens)
    return Views(words=" ".join(tokens), chars=cleaned, pinyin=pinyin)
