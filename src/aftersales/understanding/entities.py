"""Entities in customer messages, by rules: order and case numbers, phone, amount, date, product.

Pure apart from reading the product word list shipped in data/products.yaml once. The text is
normalised first (NFKC: full-width digits and letters become ASCII; lower case), so "ＳＯ２６…",
"１３８ 1234 5678" and "￥１９９" are found like their half-width forms.

The result is a flat dict, keys present only when found, each the first mention in the text:
  order_number  "SO2611220000123" (SO/AS-style ids upper-cased; also a number after 订单号 /
                order no. / #, and any bare run of 12–20 digits)
  case_number   "AS2611220000001"
  tracking_number "SF1234567890" (after 快递单号 / 运单号 / tracking no., or a carrier prefix)
  phone         "13812345678" (Chinese mobile, +86, spaces and dashes dropped)
  amount        "199.5" (a decimal string, never a float) with currency "CNY" or "USD"
  date          "2026-11-03" (ISO), see dates.py for how relative dates are read
  product       the words as written ("无线耳机", "headphones") with product_category
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from aftersales.kit.spans import Taken
from aftersales.understanding.dates import find_dates
from aftersales.understanding.normalising import normalise

DATA_DIR = Path(__file__).with_name("data")

# Every pattern here reads customer text, so each runs in time linear in the text: separators are
# bounded (\s{0,3}, never \s* next to another \s*), and a number starts only where a digit run
# starts ((?<!\d)), so no position is tried against the whole rest of the text. Text longer than
# MAX_CHARS is read up to there. tests/unit/test_untrusted_text.py holds them to a time budget.
MAX_CHARS = 5000
_SEP = r"\s{0,3}"
_ID = r"(?<![a-z0-9])(so|as)[-\s]?(\d{8,22})(?!\d)"
_KEYED_ORDER = (
    rf"(?:订单编号|订单号码?|订单|单号|order(?:{_SEP}(?:number|num|no\.?|id))?|ord{_SEP}(?:no\.?|#))"
    rf"{_SEP}(?:(?:是|为|:|#|no\.?|number){_SEP})?#?{_SEP}([a-z]{{0,4}}\d{{6,22}})(?!\d)"
)
_TRACKING = (
    rf"(?:快递单号|运单号码?|物流单号|快递号|tracking(?:{_SEP}(?:number|no\.?|num|id|#))?|waybill)"
    rf"{_SEP}(?:(?:是|为|:|#){_SEP})?#?{_SEP}([a-z]{{0,4}}\d{{8,22}})(?!\d)"
    r"|(?<![a-z0-9])((?:sf|jdv?|yt|zto|sto|yto|ems)\d{10,20})(?!\d)"
)
_PHONE = r"(?<![\d])(?:(?:\+|00)?86[\s-]?)?(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?!\d)"
_LONG_DIGITS = r"(?<![\d.])(\d{12,22})(?![\d.])"
_HASH_NUMBER = r"#\s{0,3}(\d{6,22})(?!\d)"
_NUMBER = r"(?<!\d)(\d{1,3}(?:,\d{3}){1,6}(?:\.\d{1,2})?|\d{1,15}(?:\.\d{1,2})?)"
_CURRENCY_BEFORE = r"(¥|\$|rmb|cny|usd|us\$)\s{0,3}"
_CURRENCY_AFTER = r"\s{0,3}(元|块钱|块|圆|rmb|cny|yuan|kuai|usd|dollars?|bucks)(?![a-z])"
_AMOUNT_CONTEXT = (
    r"(?:退款|退了|退我|付了|花了|扣了|扣款|支付了?|差价|价格是?|refund(?:ed)?|paid|charged|cost|spent)"
    r"\s{0,3}(?:(?:了|是|为|of)\s{0,3})?" + _NUMBER + r"(?![\d%a-z年月日号天个件台只瓶盒袋箱斤克寸岁小号码])"
)
_BARE_DECIMAL = r"(?<![\d.:/a-z-])(\d{1,15}\.\d{1,2})(?![\d.%a-z年月日号天个件台只瓶盒袋箱斤克寸匹升])"

_RE_ID = re.compile(_ID)
_RE_KEYED_ORDER = re.compile(_KEYED_ORDER)
_RE_TRACKING = re.compile(_TRACKING)
_RE_PHONE = re.compile(_PHONE)
_RE_LONG_DIGITS = re.compile(_LONG_DIGITS)
_RE_HASH = re.compile(_HASH_NUMBER)
_RE_AMOUNT_BEFORE = re.compile(_CURRENCY_BEFORE + _NUMBER)
_RE_AMOUNT_AFTER = re.compile(_NUMBER + _CURRENCY_AFTER)
_RE_AMOUNT_CONTEXT = re.compile(_AMOUNT_CONTEXT)
_RE_BARE_DECIMAL = re.compile(_BARE_DECIMAL)

Span = tuple[int, int, str, str]  # start, end, kind, value


def extract(text: str, today: date) -> dict[str, Any]:
    """The entities of a raw message (normalised here, read up to MAX_CHARS), relative to `today` for dates."""
    return extract_normalised(normalise(text[:MAX_CHARS]), today)


def extract_normalised(norm: str, today: date) -> dict[str, Any]:
    entities: dict[str, Any] = {}
    spans = number_spans(norm)
    for _, _, kind, value in spans:
        if kind == "amount":
            if "amount" not in entities:
                number, currency = value.split(" ")
                entities["amount"], entities["currency"] = number, currency
        elif kind not in entities:
            entities[kind] = value
    blocked = Taken()
    for start, end, _, _ in spans:
        blocked.add(start, end)
    for start, end, day in find_dates(norm, today):
        if not blocked.overlaps(start, end):
            entities["date"] = day.isoformat()
            break
    product = find_product(norm)
    if product is not None:
        entities["product"], entities["product_category"] = product
    return entities


def number_spans(norm: str) -> list[Span]:
    """Order and case numbers, phones and amounts in a normalised text, in order, not overlapping.

    Found in decreasing certainty, so a phone is never also read as an amount or an order number.
    """
    spans: list[Span] = []
    taken = Taken()

    def add(start: int, end: int, kind: str, value: str) -> None:
        if taken.add(start, end):
            spans.append((start, end, kind, value))

    for m in _RE_ID.finditer(norm):
        add(*m.span(), "order_number" if m.group(1) == "so" else "case_number", (m.group(1) + m.group(2)).upper())
    for m in _RE_TRACKING.finditer(norm):
        group = 1 if m.group(1) else 2
        add(*m.span(group), "tracking_number", m.group(group).upper())
    for m in _RE_KEYED_ORDER.finditer(norm):
        add(*m.span(1), "order_number", m.group(1).upper())
    for m in _RE_PHONE.finditer(norm):
        add(*m.span(), "phone", "".join(m.groups()))
    for m in _RE_LONG_DIGITS.finditer(norm):
        add(*m.span(), "order_number", m.group(1))
    for m in _RE_HASH.finditer(norm):
        add(*m.span(), "order_number", m.group(1))
    for pattern, number_group in ((_RE_AMOUNT_BEFORE, 2), (_RE_AMOUNT_AFTER, 1)):
        for m in pattern.finditer(norm):
            mark = m.group(1 if number_group == 2 else 2)
            currency = "USD" if mark in ("$", "usd", "us$", "dollar", "dollars", "bucks") else "CNY"
            if (value := _decimal(m.group(number_group))) is not None:
                add(*m.span(), "amount", f"{value} {currency}")
    for pattern in (_RE_AMOUNT_CONTEXT, _RE_BARE_DECIMAL):
        for m in pattern.finditer(norm):
            if (value := _decimal(m.group(1))) is not None:
                add(*m.span(1), "amount", f"{value} CNY")
    return sorted(spans)


def _decimal(raw: str) -> Decimal | None:
    try:
        value = Decimal(raw.replace(",", ""))
    except InvalidOperation:
        return None
    return value if value > 0 else None


def mask_numbers(norm: str) -> str:
    """The text with its numbers replaced by placeholders the classifier learns from.

    "SO2611220000123" says nothing about the intent but "there is an order number" does; the
    same holds for a phone or an amount. Other digit runs of six or more become one placeholder;
    short numbers (7天, 12315) stay, they carry meaning.
    """
    spans = number_spans(norm)
    if not spans and not re.search(r"\d{6}", norm):
        return norm
    parts: list[str] = []
    last = 0
    for start, end, kind, _ in spans:
        parts.append(norm[last:start])
        parts.append(f" {_PLACEHOLDERS[kind]} ")
        last = end
    parts.append(norm[last:])
    return re.sub(r"\d{6,}", " numberx ", "".join(parts))


_PLACEHOLDERS = {
    "order_number": "ordernox",
    "case_number": "casenox",
    "tracking_number": "trackingnox",
    "phone": "phonex",
    "amount": "amountx",
}


@cache
def _product_lexicon() -> tuple[re.Pattern[str], dict[str, str], re.Pattern[str] | None]:
    """The product pattern, the category of each term (spaces removed), and the not-a-product words."""
    raw = yaml.safe_load((DATA_DIR / "products.yaml").read_text(encoding="utf-8"))
    not_products = sorted((normalise(str(word)) for word in raw.pop("not_products", [])), key=len, reverse=True)
    categories = {normalise(str(word)): category for category, words in raw.items() for word in words}
    alternatives = []
    for word in sorted(categories, key=len, reverse=True):
        escaped = re.escape(word).replace(r"\ ", r"\s{0,3}")
        alternatives.append(rf"(?<![a-z]){escaped}(?:s|es)?(?![a-z])" if word.isascii() else escaped)
    stop = re.compile("|".join(map(re.escape, not_products))) if not_products else None
    compact = {re.sub(r"\s+", "", word): category for word, category in categories.items()}
    return re.compile("|".join(alternatives)), compact, stop


def find_product(norm: str) -> tuple[str, str] | None:
    """The first product mentioned: (the words as written, the catalogue category)."""
    pattern, categories, stop = _product_lexicon()
    blocked = [m.span() for m in stop.finditer(norm)] if stop is not None else []
    for m in pattern.finditer(norm):
        start, end = m.span()
        if any(b_start <= start and end <= b_end for b_start, b_end in blocked):
            continue
        word = m.group(0)
        key = re.sub(r"\s+", "", word)
        for candidate in (key, key[:-1], key[:-2]):
            if candidate in categories:
                return word, categories[candidate]
        return word, ""
    return None
