"""Dates in customer messages (今天, 前天, 上周三, 11月3号, 2026-11-03, yesterday, last week, Nov 3)
turned into calendar dates relative to a given "today". Pure: the caller says what today is.

Readings, documented so the dialogue can rely on them:
- a weekday alone (周三, "on wednesday") is the latest such day on or before today: after-sales
  messages talk about what already happened (bought, delivered, paid);
- 上周 / last week is seven days ago; 上周三 is the Wednesday of the previous calendar week;
  "last wednesday" is the latest Wednesday before today;
- a month and day without a year (11月3号, 11/3, Nov 3) is the latest such day on or before
  today, unless that day comes within the next 31 days ("12月1日能到吗" asked in November).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from aftersales.kit.spans import Taken

SOON_DAYS = 31
_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_WEEKDAYS_ZH = {"一": 0, "1": 0, "二": 1, "2": 1, "三": 2, "3": 2, "四": 3, "4": 3, "五": 4, "5": 4, "六": 5, "6": 5}
_WEEKDAYS_ZH.update({"日": 6, "天": 6, "7": 6, "末": 5})
_WEEKDAYS_EN = {
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}
_MONTHS_EN = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_RELATIVE_DAYS = {
    "大前天": -3,
    "前天": -2,
    "昨天": -1,
    "昨日": -1,
    "昨晚": -1,
    "今天": 0,
    "今日": 0,
    "今早": 0,
    "今晚": 0,
    "明天": 1,
    "后天": 2,
    "大后天": 3,
    "the day before yesterday": -2,
    "day before yesterday": -2,
    "yesterday": -1,
    "today": 0,
    "tonight": 0,
    "this morning": 0,
    "the day after tomorrow": 2,
    "day after tomorrow": 2,
    "tomorrow": 1,
}
_NUM = r"(\d{1,3}|[零〇一二两三四五六七八九十]{1,3}|a|an|one|two|three|four|five|six|seven|eight|nine|ten|半)"
_EN_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
_EN_NUMBERS.update({"six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10})
_MONTH_NAME = (
    r"(january|february|march|april|may|june|july|august|september|october|november|december"
    r"|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\.?"
)
_ORDINAL = r"(\d{1,2})(?:st|nd|rd|th)?"
_ZH_WEEKDAY = r"(?:周|星期|礼拜)([一二三四五六日天1-7末])"
_EN_WEEKDAY = r"(monday|tuesday|wednesday|thursday|friday|saturday|sunday)"

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("ymd", re.compile(r"(?<!\d)(20\d\d|19\d\d)\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?!\d)")),
    ("md_zh", re.compile(r"(?<!\d)(\d{1,2})\s*月\s*(\d{1,2})\s*[日号號]?")),
    ("md_slash", re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})(?![\d/])")),
    ("mon_d", re.compile(rf"\b{_MONTH_NAME}\s+{_ORDINAL}\b(?:,?\s*(20\d\d))?")),
    ("d_mon", re.compile(rf"\b{_ORDINAL}\s+(?:of\s+)?{_MONTH_NAME}(?:\b|(?=\d))(?:,?\s*(20\d\d))?")),
    ("ago_zh", re.compile(rf"{_NUM}\s*(?:个)?(天|日|周|星期|礼拜|个月|月)(?:以前|之前|前)")),
    ("ago_en", re.compile(rf"\b{_NUM}\s+(day|week|month)s?\s+ago\b")),
    ("week_zh", re.compile(rf"(上上|上|这|本|下)\s*(?:个)?{_ZH_WEEKDAY}")),
    ("weekday_zh", re.compile(_ZH_WEEKDAY)),
    ("week_en", re.compile(rf"\b(last|this|next)\s+{_EN_WEEKDAY}\b")),
    ("weekday_en", re.compile(rf"\b(?:on\s+)?{_EN_WEEKDAY}\b")),
    ("period_zh", re.compile(r"(上上|上|这|本|下)\s*(?:个)?(周|星期|礼拜|月)")),
    ("period_en", re.compile(r"\b(last|this|next)\s+(week|month)\b")),
    ("relative", re.compile("|".join(sorted(map(re.escape, _RELATIVE_DAYS), key=len, reverse=True)))),
]


def find_dates(text: str, today: date) -> list[tuple[int, int, date]]:
    """Every date mentioned in a normalised (NFKC, lower-case) text: (start, end, date), in order."""
    found: list[tuple[int, int, date]] = []
    taken = Taken()
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.span()
            if taken.overlaps(start, end):
                continue
            value = _resolve(kind, match, today)
            if value is not None:
                found.append((start, end, value))
                taken.add(start, end)
    return sorted(found)


def _resolve(kind: str, match: re.Match[str], today: date) -> date | None:
    g = match.groups()
    if kind == "ymd":
        return _safe(int(g[0]), int(g[1]), int(g[2]))
    if kind in ("md_zh", "md_slash"):
        return _nearest(today, int(g[0]), int(g[1]))
    if kind in ("mon_d", "d_mon"):
        month_name, day = (g[0], g[1]) if kind == "mon_d" else (g[1], g[0])
        month = _MONTHS_EN[month_name[:3]]
        return _safe(int(g[2]), month, int(day)) if g[2] else _nearest(today, month, int(day))
    if kind in ("ago_zh", "ago_en"):
        count = _number(g[0])
        if count is None:
            return None
        unit = g[1]
        if unit in ("天", "日", "day"):
            return today - timedelta(days=count)
        if unit in ("周", "星期", "礼拜", "week"):
            return today - timedelta(weeks=count)
        return _add_months(today, -count)
    if kind == "week_zh":
        shift = {"上上": -2, "上": -1, "这": 0, "本": 0, "下": 1}[g[0]]
        monday = today - timedelta(days=today.weekday())
        return monday + timedelta(weeks=shift, days=_WEEKDAYS_ZH[g[1]])
    if kind == "weekday_zh":
        return _latest(today, _WEEKDAYS_ZH[g[0]])
    if kind == "week_en":
        weekday = _WEEKDAYS_EN[g[1]]
        if g[0] == "last":
            return _latest(today - timedelta(days=1), weekday)
        monday = today - timedelta(days=today.weekday())
        return monday + timedelta(weeks=0 if g[0] == "this" else 1, days=weekday)
    if kind == "weekday_en":
        return _latest(today, _WEEKDAYS_EN[g[0]])
    if kind in ("period_zh", "period_en"):
        shift = {"上上": -2, "上": -1, "last": -1, "这": 0, "本": 0, "this": 0, "下": 1, "next": 1}[g[0]]
        if g[1] in ("月", "month"):
            return _add_months(today, shift)
        return today + timedelta(weeks=shift)
    return today + timedelta(days=_RELATIVE_DAYS[match.group(0)])


def _number(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    if word in _EN_NUMBERS:
        return _EN_NUMBERS[word]
    if word == "半":
        return None
    if word == "十":
        return 10
    if word.startswith("十"):
        return 10 + _CN_DIGITS.get(word[1:], 0)
    if "十" in word:
        tens, _, ones = word.partition("十")
        return _CN_DIGITS.get(tens, 0) * 10 + (_CN_DIGITS.get(ones, 0) if ones else 0)
    return _CN_DIGITS.get(word) if len(word) == 1 else None


def _safe(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _nearest(today: date, month: int, day: int) -> date | None:
    """The latest such day on or before today, unless one comes within the next month."""
    candidates = [d for year in (today.year - 1, today.year, today.year + 1) if (d := _safe(year, month, day))]
    soon = [d for d in candidates if today < d <= today + timedelta(days=SOON_DAYS)]
    past = [d for d in candidates if d <= today]
    return soon[0] if soon else (max(past) if past else None)


def _latest(on_or_before: date, weekday: int) -> date:
    return on_or_before - timedelta(days=(on_or_before.weekday() - weekday) % 7)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    for last in (day.day, 30, 29, 28):
        if (value := _safe(year, month + 1, min(day.day, last))) is not None:
            return value
    return day  # unreachable: the 28th exists in every month
