"""Normalising customers' words into one spelling before anything reads them.

- `normalise`: NFKC (full-width digits, letters and punctuation become half-width) and lower case,
  the form the entity rules, the intent model and the ticket classifier's keywords all read;
- `to_simplified`: traditional → simplified Chinese when the `opencc` package is installed (it is
  a dependency; without it the step is skipped);
- `squeeze`: emoji become a word (👍 → "emogood", most others "emojix"); elongations are cut (a
  Latin letter typed three times or more becomes one: "pleeease" → "please"; a Chinese character
  or a punctuation mark three times or more becomes two);
- `SHORTHAND`: chat shorthand and common misspellings mapped to one word ("pls" → please, "pkg"
  → package, "tk" → 退款: pinyin initials customers type on Taobao);
- `without_apostrophes`: "don't" and "dont" read the same (the ticket classifier's keywords).
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from typing import Any

_HAN = re.compile(r"[\u3400-\u9fff]")
_APOSTROPHES = re.compile(r"['’‘`´]")


def normalise(text: str) -> str:
    """NFKC (full-width → half-width) and lower case."""
    return unicodedata.normalize("NFKC", text).lower()


def without_apostrophes(text: str) -> str:
    return _APOSTROPHES.sub("", text)


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
