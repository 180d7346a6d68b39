"""The outreach governor: whether a message to a customer goes now, later, merged into a digest,
or not at all, and why. Pure: the facts come in (counts, opt-outs, consent, the order's window, an
agent's last contact), a decision comes out. The service gathers the facts with index-backed
queries (notifications.repository) and records every refusal and deferral with its reason.

Rules and their sources: docs/outreach.md.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aftersales.kit.vocabulary import MessageClass

DEFAULT_ZONE = "Asia/Shanghai"


class Channel(StrEnum):
    INAPP = "inapp"
    EMAIL = "email"
    SMS = "sms"


class Action(StrEnum):
    SEND = "send"
    DEFER = "defer"  # quiet hours: stored, sent by the worker at the next window
    DIGEST = "digest"  # held to be merged with others into one message at `send_at`
    REFUSE = "refuse"


class OutreachStatus(StrEnum):
    SENT = "sent"
    DEFERRED = "deferred"  # waiting for the end of quiet hours
    DIGEST = "digest"  # waiting to be merged with others into one message
    MERGED = "merged"  # went out inside a digest (the digest's own row is SENT)
    REFUSED = "refused"


class Reason(StrEnum):
    """Why a message did not go at once; shown to merchants (catalogue: REASONS)."""

    NONE = ""
    QUIET_HOURS = "quiet_hours"
    DIGEST = "digest"
    OUTSIDE_WINDOW = "outside_window"
    NO_ORDER = "no_order"
    NO_CONSENT = "no_consent"
    OPTED_OUT = "opted_out"
    CAP_DAY = "cap_day"
    CAP_WEEK = "cap_week"
    CAP_MONTH = "cap_month"
    AGENT_CONTACT = "agent_contact"
    EXPIRED = "expired"


# --- the numbers -----------------------------------------------------------------------------------
WINDOW_AFTER_COMPLETION = timedelta(days=30)
DIGEST_WINDOW = timedelta(minutes=30)
AGENT_CONTACT_QUIET = timedelta(hours=2)
PROACTIVE_TTL = timedelta(hours=24)  # a service notice not sent within a day is stale
CONSENT_RETENTION = timedelta(days=155)  # ≥ 5 months (MIIT 2020 draft), the longest five months
DAY, WEEK, MONTH = timedelta(days=1), timedelta(days=7), timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Caps:
    per_day: int | None
    per_week: int | None
    per_month: int | None


CAPS: dict[MessageClass, Caps] = {
    MessageClass.SERVICE_PROACTIVE: Caps(per_day=3, per_week=7, per_month=None),
    MessageClass.MARKETING: Caps(per_day=None, per_week=1, per_month=4),
}

# Local hours when the class may not reach a person: (start, end) over midnight.
QUIET_HOURS: dict[MessageClass, tuple[time, time]] = {
    MessageClass.SERVICE_PROACTIVE: (time(22, 0), time(8, 0)),
    MessageClass.MARKETING: (time(21, 0), time(8, 0)),
}

OPEN_STATUSES = frozenset({"created", "paid", "fulfilling", "shipped", "delivered"})


@dataclass(frozen=True, slots=True)
class OrderWindow:
    """What the window rule needs of an order: its status and when it closed (completed or cancelled)."""

    status: str
    closed_at: datetime | None


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything a decision reads, gathered by the service in one short read."""

    now: datetime
    zone: str = DEFAULT_ZONE
    order: OrderWindow | None = None
    opted_out: frozenset[Channel] = frozenset()
    consented: frozenset[Channel] = frozenset()
    sent_day: int = 0
    sent_week: int = 0
    sent_month: int = 0
    last_sent_at: datetime | None = None  # the last message of this class the buyer got
    pending_digest_at: datetime | None = None  # a digest already waiting for this buyer
    agent_contact_at: datetime | None = None  # an agent's last contact about this order
    created_at: datetime | None = None  # when the message was first asked for (deferred ones)


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    reason: Reason = Reason.NONE
    channels: frozenset[Channel] = field(default_factory=frozenset)
    send_at: datetime | None = None  # DEFER and DIGEST: when the worker takes it up again


ALL_CHANNELS = frozenset({Channel.INAPP, Channel.EMAIL})  # the channels that deliver today


def decide(
    message_class: MessageClass,
    facts: Facts,
    *,
    channels: frozenset[Channel] = ALL_CHANNELS,
    digest_ok: bool = True,
) -> Decision:
    """The governor's verdict for one message. Transactional messages always go (one per status
    change is kept by their event key); the others pass, in order: staleness, window or consent,
    opt-out, an agent's recent contact, caps, quiet hours, the digest. `digest_ok` is False when
    the worker is sending a digest (it must not be merged again)."""
    if message_class is MessageClass.TRANSACTIONAL:
        return Decision(Action.SEND, channels=channels)
    now = facts.now
    if (
        message_class is MessageClass.SERVICE_PROACTIVE
        and facts.created_at is not None
        and now - facts.created_at > PROACTIVE_TTL
    ):
        return Decision(Action.REFUSE, Reason.EXPIRED)
    if message_class is MessageClass.SERVICE_PROACTIVE:
        if facts.order is None:
            return Decision(Action.REFUSE, Reason.NO_ORDER)
        if not in_window(facts.order, now):
            return Decision(Action.REFUSE, Reason.OUTSIDE_WINDOW)
        allowed = channels
    else:
        allowed = channels & facts.consented
        if not allowed:
            return Decision(Action.REFUSE, Reason.NO_CONSENT)
    allowed = allowed - facts.opted_out
    if not allowed:
        return Decision(Action.REFUSE, Reason.OPTED_OUT)
    if facts.agent_contact_at is not None and now - facts.agent_contact_at < AGENT_CONTACT_QUIET:
        return Decision(Action.REFUSE, Reason.AGENT_CONTACT)
    over = over_cap(message_class, facts)
    if over is not None:
        return Decision(Action.REFUSE, over)
    zone = zone_of(facts.zone)
    if is_quiet(message_class, now, zone):
        return Decision(Action.DEFER, Reason.QUIET_HOURS, allowed, next_window(message_class, now, zone))
    if message_class is MessageClass.SERVICE_PROACTIVE and digest_ok:
        if facts.pending_digest_at is not None and facts.pending_digest_at > now:
            return Decision(Action.DIGEST, Reason.DIGEST, allowed, facts.pending_digest_at)
        if facts.last_sent_at is not None and now - facts.last_sent_at < DIGEST_WINDOW:
            return Decision(Action.DIGEST, Reason.DIGEST, allowed, facts.last_sent_at + DIGEST_WINDOW)
    return Decision(Action.SEND, channels=allowed)


def in_window(order: OrderWindow, now: datetime) -> bool:
    """Service messages while the order is open, or up to 30 days after it completed or was cancelled."""
    if order.status in OPEN_STATUSES:
        return True
    if order.closed_at is None:
        return False
    return now - order.closed_at <= WINDOW_AFTER_COMPLETION


def over_cap(message_class: MessageClass, facts: Facts) -> Reason | None:
    """The first cap this message would break (rolling day, week and 30 days), or None."""
    caps = CAPS.get(message_class)
    if caps is None:
        return None
    if caps.per_day is not None and facts.sent_day >= caps.per_day:
        return Reason.CAP_DAY
    if caps.per_week is not None and facts.sent_week >= caps.per_week:
        return Reason.CAP_WEEK
    if caps.per_month is not None and facts.sent_month >= caps.per_month:
        return Reason.CAP_MONTH
    return None


def longest_cap_period(message_class: MessageClass) -> timedelta:
    caps = CAPS.get(message_class)
    if caps is None:
        return timedelta(0)
    return MONTH if caps.per_month is not None else WEEK if caps.per_week is not None else DAY


def zone_of(name: str | None) -> ZoneInfo:
    """The buyer's zone; Asia/Shanghai when none is known or the name is not a zone."""
    try:
        return ZoneInfo(name or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def is_quiet(message_class: MessageClass, now: datetime, zone: ZoneInfo) -> bool:
    hours = QUIET_HOURS.get(message_class)
    if hours is None:
        return False
    start, end = hours
    local = now.astimezone(zone).time()
    return local >= start or local < end


def next_window(message_class: MessageClass, now: datetime, zone: ZoneInfo) -> datetime:
    """The first moment after `now` when the class may reach the buyer again (08:00 local), in UTC."""
    _, end = QUIET_HOURS[message_class]
    local = now.astimezone(zone)
    opening = datetime.combine(local.date(), end, tzinfo=zone)
    if opening <= local:
        opening = datetime.combine(local.date() + timedelta(days=1), end, tzinfo=zone)
    return opening.astimezone(UTC)


# --- opting out --------------------------------------------------------------------------------------
# The reply keywords Chinese SMS clouds print under marketing messages (Tencent: 回复TD/T/N退订;
# others: 拒收请回复R) and STOP (the international carriers' word). Parsed strictly: the whole reply,
# nothing else in it, so "T恤 sizes?" or "please don't stop" never opt anybody out.
SMS_STOP_WORDS = frozenset({"TD", "T", "N", "R", "退订", "STOP"})


def is_sms_opt_out(text: str) -> bool:
    """True when an SMS reply is exactly one opt-out keyword (full-width letters and case aside)."""
    word = unicodedata.normalize("NFKC", text).strip().upper()
    return word in SMS_STOP_WORDS


OPTABLE = (MessageClass.SERVICE_PROACTIVE, MessageClass.MARKETING)  # transactional cannot be opted out of


def can_opt_out(message_class: MessageClass) -> bool:
    return message_class in OPTABLE


def unsubscribe_token(secret: str, customer_id: int, message_class: MessageClass, channel: Channel) -> str:
    """The signed part of the one-click link in every non-transactional email: who, which class, which
    channel. It never expires (CAN-SPAM: a link must keep working); it can only turn a message off."""
    body = f"{customer_id}.{message_class.value}.{channel.value}"
    return f"{body}.{_sign(secret, body)}"


def read_unsubscribe_token(secret: str, token: str) -> tuple[int, MessageClass, Channel] | None:
    """The (customer, class, channel) a link stands for, or None for a forged or broken one."""
    parts = token.strip().split(".")
    if len(parts) != 4:
        return None
    customer, klass, channel, signature = parts
    body = f"{customer}.{klass}.{channel}"
    if not hmac.compare_digest(signature, _sign(secret, body)):
        return None
    if not customer.isdigit() or klass not in {c.value for c in OPTABLE} or channel not in {c.value for c in Channel}:
        return None
    return int(customer), MessageClass(klass), Channel(channel)


def _sign(secret: str, body: str) -> str:
    return hmac.new(f"outreach-unsubscribe:{secret}".encode(), body.encode(), hashlib.sha256).hexdigest()[:32]


def consent_purgeable(withdrawn_at: datetime | None, now: datetime) -> bool:
    """A consent record may be deleted only when withdrawn longer ago than the retention period."""
    return withdrawn_at is not None and now - withdrawn_at > CONSENT_RETENTION


# --- the words a person reads (zh-CN, en) ------------------------------------------------------------
REASONS: dict[Reason, dict[str, str]] = {
    Reason.NONE: {"zh-CN": "已发送", "en": "sent"},
    Reason.QUIET_HOURS: {
        "zh-CN": "买家当地处于免打扰时段，已顺延到下一个可发送时段",
        "en": "quiet hours where the buyer lives: deferred to the next window",
    },
    Reason.DIGEST: {
        "zh-CN": "30 分钟内已有提醒，合并为一条汇总消息",
        "en": "another notice went out within 30 minutes: merged into one digest",
    },
    Reason.OUTSIDE_WINDOW: {
        "zh-CN": "订单完成已超过 30 天，不再主动联系",
        "en": "more than 30 days after the order closed: no more proactive messages",
    },
    Reason.NO_ORDER: {"zh-CN": "未关联该买家的订单", "en": "not about an order of this buyer"},
    Reason.NO_CONSENT: {
        "zh-CN": "买家未同意在该渠道接收营销信息",
        "en": "the buyer has not consented to marketing on this channel",
    },
    Reason.OPTED_OUT: {"zh-CN": "买家已退订此类消息", "en": "the buyer opted out of these messages"},
    Reason.CAP_DAY: {"zh-CN": "已达每日发送上限", "en": "daily limit for this buyer reached"},
    Reason.CAP_WEEK: {"zh-CN": "已达每周发送上限", "en": "weekly limit for this buyer reached"},
    Reason.CAP_MONTH: {"zh-CN": "已达每月发送上限", "en": "monthly limit for this buyer reached"},
    Reason.AGENT_CONTACT: {
        "zh-CN": "客服 2 小时内已就该订单联系过买家",
        "en": "an agent contacted the buyer about this order within the last 2 hours",
    },
    Reason.EXPIRED: {
        "zh-CN": "24 小时内未能发出，提醒已过时",
        "en": "could not go out within 24 hours: the notice is stale",
    },
}

DIGEST_SUBJECT = {"zh-CN": "您有 {count} 条订单服务提醒", "en": "{count} service updates about your orders"}
UNSUBSCRIBE_LINE = {
    "zh-CN": "不想再收到此类邮件？一键退订：{url}",
    "en": "Don't want these emails? Unsubscribe in one click: {url}",
}


def explain(reason: str, lang: str) -> str:
    """A decision's reason in the reader's language (an unknown one is shown as it is)."""
    try:
        words = REASONS[Reason(reason)]
    except ValueError:
        return reason
    return words["en" if lang == "en" else "zh-CN"]


def digest_text(items: list[tuple[str, str]], lang: str) -> tuple[str, str]:
    """The subject and body of one message carrying several notices (subject, body) in order."""
    language = "en" if lang == "en" else "zh-CN"
    subject = DIGEST_SUBJECT[language].format(count=len(items))
    body = "\n\n".join(f"{i}. {s}\n{b}" for i, (s, b) in enumerate(items, start=1))
    return subject, body


# --- SMS delivery rules -------------------------------------------------------------------------------
SMS_RETRIES = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
)
SMS_OPT_OUT_SUFFIX = {"zh-CN": "回复TD退订", "en": "Reply STOP to opt out"}
SMS_MAX_CHARS = 300  # providers split longer texts into several billed parts


class SmsStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"  # refused for good by the provider, or retries used up
    DEAD = "dead"  # a proactive notice that could not go within 24 hours: a dead letter


def sms_retry_after(attempts: int) -> timedelta | None:
    """Wait after the n-th failed attempt (1 m, 5 m, 30 m, 2 h, 6 h); None when retries are used up."""
    return SMS_RETRIES[attempts - 1] if 1 <= attempts <= len(SMS_RETRIES) else None


def sms_is_stale(message_class: MessageClass, created_at: datetime, now: datetime) -> bool:
    """A proactive notice still unsent a day after it was written is no news any more."""
    return message_class is MessageClass.SERVICE_PROACTIVE and now - created_at > PROACTIVE_TTL


def sms_text(subject: str, body: str, lang: str, *, opt_out: bool) -> str:
    """One short text: the subject, the message, and (for non-transactional ones) how to opt out,
    which MIIT Order 31 asks of every commercial SMS; the opt-out is never cut off."""
    language = "en" if lang == "en" else "zh-CN"
    suffix = (" " if language == "en" else "") + SMS_OPT_OUT_SUFFIX[language] if opt_out else ""
    text = f"{subject}: {body}" if language == "en" else f"【{subject}】{body}"
    room = SMS_MAX_CHARS - len(suffix)
    if len(text) > room:
        text = text[: room - 1] + "…"
    return text + suffix
