"""Masking what a reader should not see: abusive words, phone numbers, e-mail addresses, street detail.

Pure (no imports of ours): texts in, masked texts out. The abusive word lists are data in
kit/wordlists/ (abusive_zh.txt, abusive_en.txt; `!word` lines are innocent words never masked).

Who sees contact data (`contact_visibility`), the platform practice this follows:
- the customer sees their own address, and their own phone masked on their pages as /account shows
  it (a shared screen or a screenshot does not give it away; orders/views.phones_shown);
- customer service (agents tier 1 and 2, supervisors), warehouse staff and riders, who ship and
  deliver, and administrators see them in full;
- merchants and arbitrators see them masked: a POP merchant reaches the buyer through the
  platform (chat, virtual numbers), and a ruling needs the facts, not the buyer's phone;
- any other role (integrations, a role added later) sees them masked until someone decides.

Limits, on purpose: abusive words are matched from the lists only (no model), so new slang needs
a new line; Chinese entries match anywhere in the text, so an innocent compound needs its own `!`
line (傻瓜相机); pinyin or homophone disguises are caught only when listed (cnm, 草泥马); English
entries match whole words, so a run-together insult ("youidiot") is missed. Addresses are masked
after the district (Chinese) or before the last two comma-separated parts (other addresses).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from functools import lru_cache
from itertools import accumulate
from pathlib import Path

WORDLISTS = Path(__file__).with_name("wordlists")
MASK = "＊"
FULL = "full"
MASKED = "masked"

# Roles by their value (kit.access.Role is a StrEnum, so a Role compares equal to these).
# A rider sees the street (to deliver) but not the phone: orders/views.py masks that one for riders.
FULL_VIEW_ROLES = frozenset({"customer", "agent_t1", "agent_t2", "supervisor", "warehouse", "rider", "admin"})
MASKED_VIEW_ROLES = frozenset({"merchant", "arbitrator"})

# Leetspeak and disguises a letter may take; `*` stands for any vowel ("f*ck", "sh*t").
_LEET = {
    "a": "a@4*",
    "b": "b8",
    "e": "e3*",
    "g": "g9",
    "i": "i1!|*",
    "l": "l1|",
    "o": "o0*",
    "s": "s5$",
    "t": "t7+",
    "u": "uv*",
}
_BETWEEN_LATIN = r"[\s.\-_]?"  # "f u c k", "s.h.i.t", "b-i-t-c-h"
_BETWEEN_HAN = r"[\W_]{0,3}"  # "傻 逼", "傻*逼", "傻……逼" (CJK characters are not \W)
_ENDINGS = r"(?:s|es|ed|ing|in|er|ers|y)?"
_HAN = re.compile(r"[\u3400-\u9fff]")


# --- abusive words -------------------------------------------------------------------------------
def _read(name: str) -> tuple[list[str], list[str]]:
    """(entries, innocent words) of a word list; comments and blank lines skipped."""
    entries: list[str] = []
    innocent: list[str] = []
    for line in (WORDLISTS / name).read_text(encoding="utf-8").splitlines():
        word = line.strip()
        if not word or word.startswith("#"):
            continue
        (innocent if word.startswith("!") else entries).append(word.lstrip("!").strip().lower())
    return entries, innocent


def _latin_pattern(word: str) -> str:
    parts: list[str] = []
    for char in word:
        if char == " ":
            parts.append(r"[\s.\-_]+")
        elif char == "*":
            parts.append(r"[a-z*]")
        elif char.isalpha():
            parts.append("[" + re.escape(_LEET.get(char, char)) + "]")
        else:
            parts.append(re.escape(char))
    body = ""
    for i, part in enumerate(parts):
        if i and part != r"[\s.\-_]+" and parts[i - 1] != r"[\s.\-_]+":
            body += _BETWEEN_LATIN
        body += part
    return body


def _han_pattern(word: str) -> str:
    return _BETWEEN_HAN.join(re.escape(char) for char in word)


@lru_cache(maxsize=1)
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str] | None, re.Pattern[str] | None]:
    """(abusive words, innocent Chinese words, innocent Latin words), compiled once."""
    entries: list[str] = []
    innocent: list[str] = []
    for name in ("abusive_zh.txt", "abusive_en.txt"):
        words, safe = _read(name)
        entries += words
        innocent += safe
    han = sorted({w for w in entries if _HAN.search(w)}, key=len, reverse=True)
    latin = sorted({w for w in entries if not _HAN.search(w)}, key=len, reverse=True)
    alternatives = [_han_pattern(w) for w in han]
    if latin:
        alternatives.append(
            r"(?<![a-z0-9])(?:" + "|".join(_latin_pattern(w) for w in latin) + ")" + _ENDINGS + r"(?![a-z0-9])"
        )
    abusive = re.compile("|".join(alternatives), re.IGNORECASE)
    safe_han = [re.escape(w) for w in innocent if _HAN.search(w)]
    safe_latin = [re.escape(w) for w in innocent if not _HAN.search(w)]
    return (
        abusive,
        re.compile("|".join(safe_han)) if safe_han else None,
        re.compile(r"\b(?:" + "|".join(safe_latin) + r")\b", re.IGNORECASE) if safe_latin else None,
    )


def _blank(span: str) -> str:
    return "".join(char if char.isspace() else MASK for char in span)


def mask_abuse(text: str) -> str:
    """Each abusive word becomes ＊ per character; innocent words that contain one stay as they are."""
    if not text:
        return text
    abusive, safe_han, safe_latin = _patterns()
    protected: list[tuple[int, int]] = []
    for pattern in (safe_han, safe_latin):
        if pattern is not None:
            protected += [(m.start(), m.end()) for m in pattern.finditer(text)]
    # Sorted starts and the running maximum of ends: "inside an innocent word?" in log time, not
    # a scan of every innocent word for every match (a text of thousands of them took seconds).
    protected.sort()
    starts = [s for s, _ in protected]
    reach = list(accumulate((e for _, e in protected), max))

    def is_protected(start: int, end: int) -> bool:
        i = bisect_left(starts, end)
        return i > 0 and reach[i - 1] > start

    # Every match from every position, then merged: "我操你妈" holds both "我操" and "操你妈".
    spans: list[tuple[int, int]] = []
    pos = 0
    while (match := abusive.search(text, pos)) is not None:
        start, end = match.span()
        if end > start and not is_protected(start, end):
            if spans and start <= spans[-1][1]:
                spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
            else:
                spans.append((start, end))
        pos = start + 1
    out: list[str] = []
    last = 0
    for start, end in spans:
        out.append(text[last:start])
        out.append(_blank(text[start:end]))
        last = end
    out.append(text[last:])
    return "".join(out)


def has_abuse(text: str) -> bool:
    return mask_abuse(text) != text


# --- phones and e-mail -----------------------------------------------------------------------------
# Chinese mobiles: 13812345678, 138 1234 5678, 138-1234-5678, +86 138…, 0086-138…, 86138…
_MOBILE = re.compile(
    r"(?<!\d)(?P<cc>(?:\+|00)?86[\s-]?)?(?P<head>1[3-9]\d)[\s-]?(?P<mid>\d{4})[\s-]?(?P<tail>\d{4})(?!\d)"
)
# Landlines with an area code: 010-12345678, (021) 1234 5678, 0571-8765432, +86 10 8888 6666, 0755-88886666转123
_LANDLINE = re.compile(
    r"(?<!\d)(?:(?P<cc>(?:\+|00)86[\s-]?)(?P<bare>[1-9]\d{1,2})|(?P<area>\(0\d{2,3}\)|0\d{2,3}))[\s-]?"
    r"(?P<local>\d{3,4}[\s-]?\d{4})(?!\d)"
)
# The user part starts only where a run of its characters starts (the look-behind holds all of them),
# so a long run without "@" is read once, not once per character.
_EMAIL = re.compile(
    r"(?<![\w.%+-])(?P<user>[A-Za-z0-9._%+-]+)@(?P<domain>[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})"
)


def _mobile(match: re.Match[str]) -> str:
    cc = match.group("cc") or ""
    return f"{cc}{match.group('head')}****{match.group('tail')}"


def _landline(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group("local"))
    area = f"{match.group('cc')}{match.group('bare')}" if match.group("cc") else match.group("area")
    return f"{area}-{'*' * (len(digits) - 4)}{digits[-4:]}"


def mask_phone(text: str) -> str:
    """Phone numbers keep their first three and last four digits: 138****5678, 010-****5678."""
    if not text:
        return text
    return _LANDLINE.sub(_landline, _MOBILE.sub(_mobile, text))


def mask_email(text: str) -> str:
    """E-mail addresses keep the first character and the domain: z***@example.com."""
    if not text:
        return text
    return _EMAIL.sub(lambda m: f"{m.group('user')[0]}***@{m.group('domain')}", text)


def mask_contacts(text: str) -> str:
    """Phones and e-mail addresses in a free text (a message body, a note)."""
    return mask_email(mask_phone(text))


# --- addresses -----------------------------------------------------------------------------------
_ZH_REGION = re.compile(
    r"^\s*(?P<head>"
    r"(?:[\u3400-\u9fff]{2,7}?(?:省|自治区|特别行政区)\s*)?"
    r"(?:[\u3400-\u9fff]{1,9}?(?:自治州|地区|市|盟)\s*)?"
    r"(?:[\u3400-\u9fff]{1,9}?(?:区|县|市|旗)\s*)?"
    r")(?P<rest>.*)$",
    re.S,
)


def mask_address(address: str) -> str:
    """Province, city and district stay; the street, building and door number become ＊＊＊＊."""
    if not address or not address.strip():
        return address
    if _HAN.search(address):
        match = _ZH_REGION.match(address)
        head = match.group("head").strip() if match else ""
        rest = match.group("rest").strip() if match else address
        if not rest:
            return address.strip()
        return f"{head}{MASK * 4}"
    parts = [p.strip() for p in address.split(",") if p.strip()]
    if len(parts) <= 2:
        return MASK * 4 if len(parts) <= 1 else f"{MASK * 4}, {parts[-1]}"
    return ", ".join([MASK * 4, *parts[-2:]])


# --- who sees what ---------------------------------------------------------------------------------
def contact_visibility(role: str) -> str:
    """ "full" or "masked": whether this role sees phones and addresses as they are (see module doc)."""
    value = str(getattr(role, "value", role))
    return FULL if value in FULL_VIEW_ROLES else MASKED


def contact_for(role: str, phone: str = "", address: str = "") -> tuple[str, str]:
    """A phone and an address as this role may see them."""
    if contact_visibility(role) == FULL:
        return phone, address
    return mask_phone(phone), mask_address(address)
