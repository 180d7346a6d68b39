"""Which events deserve a message, what it says in the customer's language, and the pure rules of
email delivery (stable Message-IDs, retry backoff, which SMTP refusals are final). Pure."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from babel.numbers import format_currency

from aftersales.kit import topics
from aftersales.notifications.catalogue import (
    AFTER_RETURN,
    CASE_PART,
    COMPLETED_OUTCOME,
    EMAIL_FRAME,
    KINDS,
    MESSAGES,
    METRICS,
    PLATFORM_PART,
    SHIPPING_PART,
    STAFF_MESSAGES,
    WINDOW_DAYS,
    WINDOW_HOURS,
)

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"


class Topic(StrEnum):
    """The topics customers hear about; their names live in kit.topics with their publishers'."""

    CASE_STATUS_CHANGED = topics.CASE_STATUS_CHANGED
    ORDER_STATUS_CHANGED = topics.ORDER_STATUS_CHANGED
    REFUND_SETTLED = topics.REFUND_SETTLED
    DISPUTE_STATUS_CHANGED = topics.DISPUTE_STATUS_CHANGED
    SURVEY_SENT = topics.SURVEY_SENT


class EmailStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"  # refused for good, or given up after MAX_ATTEMPTS


@dataclass(frozen=True, slots=True)
class Notice:
    """One message for one customer: what the inbox shows and what the email says."""

    template: str
    subject: str
    body: str
    link: str  # a path inside the site, like /cases/AS20261101000001


# --- which changes the customer hears about ------------------------------------------------------
def case_template(kind: str, before: str | None, after: str) -> str | None:
    """The message for a case moving from `before` to `after`, or None for internal steps.

    Refund outcomes (refunding → completed or refund_failed) are told by the refund.settled
    event, which carries the amount; telling them here too would say the same thing twice.
    """
    if before is None:
        return "case.submitted"
    if before == after:
        return None
    if after == "awaiting_evidence":
        return "case.evidence_requested"
    if after == "approved":
        return "case.approved"
    if after == "awaiting_return" and before == "under_review":
        return "case.approved_return"
    if after == "refunding":
        return {
            "under_review": "case.approved_refund",
            "received": "case.received_refund",
            "refund_failed": "case.refund_retried",
        }.get(before)
    if after == "replacement_shipped":
        return "case.repair_shipped" if kind == "repair" else "case.replacement_shipped"
    if after == "completed":
        return None if before == "refunding" else "case.completed"
    if after == "inspection_failed":
        return "case.inspection_failed"
    if after == "rejected":
        return "case.goods_returned" if before == "inspection_failed" else "case.rejected"
    # under_review after evidence, awaiting_return, return_in_transit, received, resolving,
    # repairing, refund_failed (told by refund.settled), cancelled and appealed (the customer's
    # own doing) are not worth a message.
    return None


ORDER_TEMPLATES = {"shipped": "order.shipped", "delivered": "order.delivered", "cancelled": "order.cancelled"}


def order_template(before: str | None, after: str) -> str | None:
    """Shipped, delivered and cancelled; created and paid were told by the shop already."""
    if before == after:
        return None
    return ORDER_TEMPLATES.get(after)


def refund_template(status: str) -> str | None:
    return {"succeeded": "refund.succeeded", "failed": "refund.failed"}.get(status)


def template_for(topic: str, params: dict[str, Any]) -> str | None:
    if topic == Topic.CASE_STATUS_CHANGED:
        return case_template(str(params.get("kind", "")), _opt(params.get("from")), str(params.get("to", "")))
    if topic == Topic.ORDER_STATUS_CHANGED:
        return order_template(_opt(params.get("from")), str(params.get("to", "")))
    if topic == Topic.REFUND_SETTLED:
        return refund_template(str(params.get("status", "")))
    if topic == Topic.DISPUTE_STATUS_CHANGED:
        return dispute_template(str(params.get("action", "")), str(params.get("to", "")))
    if topic == Topic.SURVEY_SENT:
        return "survey.invite"
    return None


def dispute_template(action: str, after: str) -> str | None:
    """The buyer hears of the ruling, of it being carried out, of a settlement and of an appeal's
    decision; the steps in between show on the dispute's page."""
    if action == "rule":
        return "dispute.ruled"
    if after in ("enforced", "settled", "appeal_decided"):
        return f"dispute.{after}"
    return None


# --- what the message says -----------------------------------------------------------------------
def normalize_language(locale: str | None) -> str:
    value = (locale or "").strip().lower().replace("_", "-")
    if value.startswith("en"):
        return "en"
    return DEFAULT_LANGUAGE


def format_amount(amount: Any, currency: str, lang: str) -> str:
    """¥12.50 in either language; a missing or broken amount gives an empty string, never an error."""
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        return ""
    if not value.is_finite():
        return ""
    try:
        return format_currency(value, currency or "CNY", locale=lang.replace("-", "_"))
    except (ValueError, LookupError):
        return f"{currency} {value}"


def compose(topic: str, params: dict[str, Any], locale: str | None) -> Notice | None:
    """The notice an event deserves in the customer's language, or None when it deserves none."""
    template = template_for(topic, params)
    if template is None:
        return None
    lang = normalize_language(locale)
    kind = str(params.get("kind", ""))
    case = str(params.get("case_number") or "")
    order = str(params.get("order_number") or params.get("order") or "")
    fields = {
        "case": case,
        "order": order,
        "kind": KINDS.get(kind, {}).get(lang, kind),
        "amount": format_amount(params.get("amount"), str(params.get("currency") or "CNY"), lang),
        "next_step": _next_step(template, kind, lang),
        "case_part": CASE_PART[lang].format(case=case) if case else "",
        "shipping_part": _shipping_part(params, lang),
        "platform_part": _platform_part(template, params, lang),
    }
    subject, body = MESSAGES[template][lang]
    dispute = str(params.get("dispute_number") or "")
    fields["dispute"] = dispute
    link = f"/cases/{case}" if case else (f"/orders/{order}" if order else "/inbox")
    link = f"/disputes/{dispute}" if dispute else link
    survey_link = str(params.get("survey_link") or "")
    fields["ref"] = str(params.get("subject_ref") or "")
    link = survey_link if survey_link.startswith("/surveys/") else link
    return Notice(template=template, subject=subject.format(**fields), body=body.format(**fields), link=link)


def _shipping_part(params: dict[str, Any], lang: str) -> str:
    """Why a refund is above the goods' price: the shipping share it carries; "" when none."""
    currency = str(params.get("currency") or "CNY")
    share = format_amount(params.get("shipping_share"), currency, lang) if params.get("shipping_share") else ""
    if not share:
        return ""
    return SHIPPING_PART[lang].format(amount=format_amount(params.get("amount"), currency, lang), share=share)


def _platform_part(template: str, params: dict[str, Any], lang: str) -> str:
    """A refused request may be handed to the platform within the disputes' escalation window
    (`escalation_window_hours`, given by the disputes context); "" when the window is not known."""
    hours = params.get("escalation_window_hours")
    if template != "case.rejected" or not isinstance(hours, int) or hours <= 0:
        return ""
    window = WINDOW_DAYS[lang].format(n=hours // 24) if hours % 24 == 0 else WINDOW_HOURS[lang].format(n=hours)
    return PLATFORM_PART[lang].format(window=window)


def compose_staff(template: str, params: dict[str, Any], locale: str | None) -> Notice:
    """A staff message (a supervisor's breach alert) in the reader's language."""
    lang = normalize_language(locale)
    ticket = str(params.get("ticket") or "")
    metric = str(params.get("metric") or "")
    case = str(params.get("case") or "")
    dispute = str(params.get("dispute") or "")
    fields = {"ticket": ticket, "metric": METRICS.get(metric, {}).get(lang, metric), "case": case, "dispute": dispute}
    subject, body = STAFF_MESSAGES[template][lang]
    link = f"/desk/tickets/{ticket}" if ticket else f"/cases/{case}" if case else "/supervisor"
    link = f"/disputes/{dispute}" if dispute else link
    return Notice(template=template, subject=subject.format(**fields), body=body.format(**fields), link=link)


def _next_step(template: str, kind: str, lang: str) -> str:
    if template == "case.approved_return":
        return AFTER_RETURN.get(kind, AFTER_RETURN["return_refund"])[lang]
    if template == "case.completed":
        return COMPLETED_OUTCOME.get(kind, {}).get(lang, "")
    return ""


def email_text(notice: Notice, lang: str, name: str, public_url: str) -> str:
    """The plain-text email around a notice: greeting, the message, the link, a footer."""
    frame = EMAIL_FRAME[normalize_language(lang)]
    greeting = frame["greeting"].format(name=name) if name.strip() else frame["greeting_anonymous"]
    url = public_url.rstrip("/") + notice.link
    return "\n\n".join([greeting, notice.body, frame["details"].format(url=url), "-- \n" + frame["footer"]]) + "\n"


def event_time(params: dict[str, Any], now: datetime) -> datetime:
    """When the event behind a notice happened (its `occurred_at`), so a notice is dated by what
    caused it and not by when the worker got round to it; `now` when the event does not say, says
    something unreadable, or claims a time still to come."""
    raw = params.get("occurred_at")
    if not isinstance(raw, str):
        return now
    try:
        at = datetime.fromisoformat(raw)
    except ValueError:
        return now
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return min(at, now)


def looks_like_email(address: str) -> bool:
    """Worth queueing: one address with a local part and a domain, nothing a header cannot carry."""
    local, at, host = address.partition("@")
    return bool(at and local and "." in host and not any(c.isspace() or c in "<>,;" for c in address))


def _opt(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


# --- delivery rules ------------------------------------------------------------------------------
KEY_LENGTH = 160  # the idempotency_key columns
MAX_ATTEMPTS = 24  # with the backoff below: about a day of retries before an email is given up
FIRST_RETRY = timedelta(minutes=1)
MAX_RETRY = timedelta(hours=1)


def storage_key(key: str) -> str:
    """The event's key as stored: itself when it fits, else a digest of it (still one per event)."""
    if len(key) <= KEY_LENGTH:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def message_id(key: str, sender: str) -> str:
    """A Message-ID derived from the event, so a resend after a crash carries the same one and
    mail systems recognise it as the same message."""
    domain = sender.rsplit("@", 1)[-1].strip(" >") if "@" in sender else ""
    digest = hashlib.sha256(key.encode()).hexdigest()[:40]
    return f"<notify.{digest}@{domain or 'aftersales.invalid'}>"


def retry_delay(attempts: int) -> timedelta:
    """Wait after the n-th failed attempt: 1, 2, 4, … minutes, at most an hour."""
    delay = FIRST_RETRY * (2 ** max(attempts - 1, 0)) if attempts < 12 else MAX_RETRY
    return min(delay, MAX_RETRY)


def is_permanent(code: int | None) -> bool:
    """An SMTP reply code that refuses this message for good (5xx); 4xx and no code are worth a retry."""
    return code is not None and 500 <= code < 600


def gives_up(attempts: int) -> bool:
    return attempts >= MAX_ATTEMPTS
