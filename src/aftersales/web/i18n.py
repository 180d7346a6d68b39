"""zh-CN and en. Message catalogues are .po files read with Babel at start-up (no compile step)."""

from __future__ import annotations

import io
import re
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime, get_timezone, get_timezone_location
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency
from babel.support import NullTranslations, Translations

from aftersales.kit.errors import AppError

LANGUAGES = ("zh-CN", "en")
LOCALE_DIR = Path(__file__).parent / "locale"


def normalize(lang: str | None, default: str = "zh-CN") -> str:
    if not lang:
        return default
    lang = lang.strip().lower().replace("_", "-")
    if lang.startswith("zh"):
        return "zh-CN"
    if lang.startswith("en"):
        return "en"
    return default


def from_accept_language(header: str | None, default: str) -> str:
    """The first supported language in an Accept-Language header, else the default."""
    if not header:
        return default
    for part in header.split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
    return default


@lru_cache
def translations(lang: str) -> NullTranslations:
    """messages.po plus one .po file per context (tickets.po, sla.po…), merged in name order."""
    folder = LOCALE_DIR / lang.replace("-", "_") / "LC_MESSAGES"
    paths = sorted(folder.glob("*.po"))
    if not paths:
        return NullTranslations()
    merged: Translations | None = None
    for po_path in paths:
        with po_path.open("rb") as fh:
            catalog = read_po(fh, locale=lang.replace("-", "_"))
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        part = Translations(fp=buffer)
        merged = part if merged is None else merged.merge(part)
    assert merged is not None
    return merged


def gettext(lang: str, message: str) -> str:
    return translations(lang).gettext(message)


# A subject the system wrote (a chat hand-off's) is a catalogue key, so each reader gets their language.
SYSTEM_SUBJECT = re.compile(r"^handoff\.subject\.[a-z_]+(?::[a-z_]+)?$")


def subject_words(subject: str, lang: str, order_number: str = "") -> str:
    """A ticket's subject in words: people's own as written; a system-written key in ``lang``, with
    what the customer asked for and the ticket's order."""
    if not SYSTEM_SUBJECT.match(subject):
        return subject
    key, _sep, wanted = subject.partition(":")
    text = gettext(lang, key) + (f" · {gettext(lang, 'chat.intent.' + wanted)}" if wanted else "")
    return text + (f" · {order_number}" if order_number else "")


def error_text(exc: AppError, lang: str) -> str:
    """An error's sentence in the reader's language: a catalogue key with its values when the
    raiser gave one (a sentence naming an order or a case), else the English sentence itself."""
    key = exc.details.get("key")
    if isinstance(key, str) and (text := gettext(lang, key)) != key:
        return text.format(**{name: value for name, value in exc.details.items() if name != "key"})
    return gettext(lang, exc.message)


def babel_locale(lang: str) -> Locale:
    return Locale.parse(lang.replace("-", "_"))


def fmt_datetime(value: datetime | None, lang: str, zone: ZoneInfo, fmt: str = "short") -> str:
    if value is None:
        return "—"
    return format_datetime(value.astimezone(zone), format=fmt, locale=babel_locale(lang))


def zone_name(key: str, lang: str) -> str:
    """A time zone as people say it ("China (Shanghai) Time", "中国（上海）时间"), not its tz key."""
    try:
        return str(get_timezone_location(get_timezone(key), locale=babel_locale(lang)))
    except (LookupError, ValueError):
        return key


def fmt_money(amount: Decimal, currency: str, lang: str) -> str:
    return format_currency(amount, currency, locale=babel_locale(lang))


# One way to say how long, wherever a clock shows (the page and clocks.js read the same formats).
DURATION_FORMATS = ("duration.days_hours", "duration.hours_minutes", "duration.minutes_seconds")


def fmt_duration(seconds: int, lang: str) -> str:
    """A length of time as people read it: "2 小时 43 分" / "2 h 43 m" (days and hours above a
    day, minutes and seconds below an hour); the sign is the caller's to say."""
    s = abs(int(seconds))
    days, rest = divmod(s, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return gettext(lang, DURATION_FORMATS[0]).format(d=days, h=hours)
    if hours:
        return gettext(lang, DURATION_FORMATS[1]).format(h=hours, m=minutes)
    return gettext(lang, DURATION_FORMATS[2]).format(m=minutes, s=f"{secs:02d}")


def fmt_clock(seconds_left: int, lang: str) -> str:
    """An SLA clock's time left ("剩 12 小时 50 分"), or how long it is overdue ("超时 2 小时 43 分")."""
    key = "clock.left" if seconds_left >= 0 else "clock.overdue"
    return gettext(lang, key).format(t=fmt_duration(seconds_left, lang))


def clock_words(lang: str) -> dict[str, str]:
    """The formats fmt_clock uses, for clocks.js to count down in the same words."""
    keys = ("clock.left", "clock.overdue", *DURATION_FORMATS)
    return {key.split(".")[-1]: gettext(lang, key) for key in keys}
