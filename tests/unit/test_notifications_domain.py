"""Which events deserve a message and what it says, in both languages; the delivery rules. Pure."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from aftersales.notifications import catalogue, domain
from aftersales.notifications.domain import Topic

CASE = {
    "case_id": 7,
    "case_number": "AS20261102000007",
    "customer_id": 3,
    "merchant_id": 1,
    "order_number": "SO-1",
    "kind": "return_refund",
}


def case_event(before: str | None, after: str, kind: str = "return_refund") -> dict[str, Any]:
    return {**CASE, "kind": kind, "from": before, "to": after}


@pytest.mark.parametrize(
    ("kind", "before", "after", "template"),
    [
        ("return_refund", None, "under_review", "case.submitted"),
        ("return_refund", "under_review", "awaiting_evidence", "case.evidence_requested"),
        ("invoice", "under_review", "approved", "case.approved"),
        ("return_refund", "under_review", "awaiting_return", "case.approved_return"),
        ("refund_only", "under_review", "refunding", "case.approved_refund"),
        ("return_refund", "received", "refunding", "case.received_refund"),
        ("refund_only", "refund_failed", "refunding", "case.refund_retried"),
        ("exchange", "resolving", "replacement_shipped", "case.replacement_shipped"),
        ("repair", "repairing", "replacement_shipped", "case.repair_shipped"),
        ("exchange", "replacement_shipped", "completed", "case.completed"),
        ("invoice", "approved", "completed", "case.completed"),
        ("compensation", "under_review", "completed", "case.completed"),
        ("refund_only", "under_review", "rejected", "case.rejected"),
        ("return_refund", "received", "inspection_failed", "case.inspection_failed"),
        ("return_refund", "inspection_failed", "rejected", "case.goods_returned"),
    ],
)
def test_the_changes_a_customer_cares_about_get_a_message(
    kind: str, before: str | None, after: str, template: str
) -> None:
    assert domain.case_template(kind, before, after) == template


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("awaiting_evidence", "under_review"),  # the customer added evidence themselves
        ("awaiting_return", "return_in_transit"),
        ("return_in_transit", "received"),
        ("received", "resolving"),
        ("received", "repairing"),
        ("under_review", "cancelled"),
        ("rejected", "appealed"),
        ("refunding", "completed"),  # told by refund.settled, with the amount
        ("refunding", "refund_failed"),  # likewise
        ("under_review", "under_review"),
    ],
)
def test_internal_steps_get_none(before: str, after: str) -> None:
    assert domain.case_template("return_refund", before, after) is None


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (None, "created", None),
        (None, "paid", None),
        ("created", "paid", None),
        ("paid", "fulfilling", None),
        ("fulfilling", "shipped", "order.shipped"),
        ("shipped", "delivered", "order.delivered"),
        ("delivered", "completed", None),
        ("paid", "cancelled", "order.cancelled"),
        ("shipped", "shipped", None),
    ],
)
def test_order_changes(before: str | None, after: str, expected: str | None) -> None:
    assert domain.order_template(before, after) == expected


def test_every_template_exists_in_both_languages_and_formats() -> None:
    fields = {
        "case": "C",
        "order": "O",
        "kind": "K",
        "amount": "A",
        "next_step": "N",
        "case_part": "",
        "dispute": "D",
        "shipping_part": "",
        "platform_part": "",
        "ref": "R",
    }
    for template, texts in catalogue.MESSAGES.items():
        assert set(texts) == set(domain.LANGUAGES), template
        for subject, body in texts.values():
            assert subject.format(**fields) and body.format(**fields)
            assert len(subject.format(**fields)) < 120


def test_chinese_and_english_texts_carry_the_number_and_the_link() -> None:
    event = case_event("under_review", "awaiting_return")
    zh = domain.compose(Topic.CASE_STATUS_CHANGED, event, "zh-CN")
    en = domain.compose(Topic.CASE_STATUS_CHANGED, event, "en")
    assert zh is not None and en is not None
    assert zh.link == en.link == "/cases/AS20261102000007"
    assert "AS20261102000007" in zh.subject and "已通过" in zh.subject
    assert "退货退款" in zh.body and "上门取件" in zh.body and "退款" in zh.body
    assert "approved" in en.subject and "return and refund" in en.body and "book a pickup" in en.body
    assert "已" not in en.subject + en.body


@pytest.mark.parametrize("before", ["under_review", "received"])
def test_a_refusal_points_to_customer_service_and_promises_no_appeal(before: str) -> None:
    """There is no platform ruling yet (no disputes flow): the notice must not promise one."""
    zh = domain.compose(Topic.CASE_STATUS_CHANGED, case_event(before, "rejected"), "zh-CN")
    en = domain.compose(Topic.CASE_STATUS_CHANGED, case_event(before, "rejected"), "en")
    assert zh is not None and en is not None
    assert "申诉" not in zh.body and "介入" not in zh.body and "在线客服" in zh.body
    assert "appeal" not in en.body and "step in" not in en.body and "customer service" in en.body


def test_no_completion_notice_speaks_of_a_coupon() -> None:
    """A case has no coupon step: no case's completion notice mentions a coupon (the wallet tells of its own)."""
    for kind in ("compensation", "refund_only", "exchange", "repair", "invoice"):
        for lang in ("zh-CN", "en"):
            notice = domain.compose(Topic.CASE_STATUS_CHANGED, case_event("under_review", "completed", kind=kind), lang)
            assert notice is not None
            assert "优惠券" not in notice.body and "coupon" not in notice.body.lower(), (kind, lang, notice.body)


def test_refund_messages_show_the_amount_and_link_to_what_is_known() -> None:
    settled = {"refund_id": 1, "case_id": 7, "order_number": "SO-1", "status": "succeeded", "amount": "12.50"}
    zh = domain.compose(Topic.REFUND_SETTLED, {**settled, "currency": "CNY"}, "zh-CN")
    assert zh is not None and "¥12.50" in zh.subject and "原路退回" in zh.body
    assert zh.link == "/orders/SO-1"  # no case number in the payload: the order's page
    en = domain.compose(Topic.REFUND_SETTLED, {**settled, "currency": "CNY", "case_number": "AS1"}, "en")
    assert en is not None and "12.50" in en.subject and "original payment method" in en.body
    assert en.link == "/cases/AS1" and "request AS1" in en.body
    failed = domain.compose(Topic.REFUND_SETTLED, {**settled, "status": "failed", "currency": "CNY"}, "en")
    assert failed is not None and failed.template == "refund.failed"
    assert domain.compose(Topic.REFUND_SETTLED, {**settled, "status": "submitted"}, "en") is None


def test_a_broken_amount_never_breaks_the_message() -> None:
    notice = domain.compose(Topic.REFUND_SETTLED, {"status": "succeeded", "amount": "n/a", "order_number": "S"}, "en")
    assert notice is not None and notice.subject


def test_unknown_locales_fall_back_to_chinese() -> None:
    assert domain.normalize_language("en-US") == "en"
    assert domain.normalize_language("en_GB") == "en"
    assert domain.normalize_language("fr") == "zh-CN"
    assert domain.normalize_language(None) == "zh-CN"


def test_unknown_topics_and_statuses_get_nothing() -> None:
    assert domain.compose("something.else", {"to": "shipped"}, "en") is None
    assert domain.compose(Topic.CASE_STATUS_CHANGED, case_event("under_review", "made_up"), "en") is None


def test_email_text_greets_by_name_and_links_absolutely() -> None:
    notice = domain.compose(Topic.ORDER_STATUS_CHANGED, {"order": "SO-9", "from": "paid", "to": "shipped"}, "zh-CN")
    assert notice is not None
    text = domain.email_text(notice, "zh-CN", "李娜", "https://shop.example.com/")
    assert text.startswith("李娜，您好：")
    assert "https://shop.example.com/orders/SO-9" in text
    anonymous = domain.email_text(notice, "en", " ", "https://shop.example.com")
    assert anonymous.startswith("Hello,")


def test_message_ids_are_stable_per_event_and_distinct_between_events() -> None:
    first = domain.message_id("case:1:approve", "Aftersales <no-reply@shop.example.com>")
    assert first == domain.message_id("case:1:approve", "Aftersales <no-reply@shop.example.com>")
    assert first != domain.message_id("case:1:reject", "Aftersales <no-reply@shop.example.com>")
    assert first.startswith("<notify.") and first.endswith("@shop.example.com>")
    assert domain.message_id("k", "nobody").endswith("@aftersales.invalid>")


def test_long_keys_are_stored_as_a_digest() -> None:
    assert domain.storage_key("short") == "short"
    long_key = "x" * 500
    stored = domain.storage_key(long_key)
    assert len(stored) <= domain.KEY_LENGTH and stored == domain.storage_key(long_key)


def test_retry_backoff_doubles_up_to_an_hour_and_gives_up_after_about_a_day() -> None:
    delays = [domain.retry_delay(n) for n in range(1, domain.MAX_ATTEMPTS + 1)]
    assert delays[:3] == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert max(delays) == timedelta(hours=1)
    assert timedelta(hours=12) < sum(delays, timedelta()) < timedelta(hours=36)
    assert not domain.gives_up(domain.MAX_ATTEMPTS - 1) and domain.gives_up(domain.MAX_ATTEMPTS)


def test_only_5xx_replies_are_final() -> None:
    assert domain.is_permanent(550) and domain.is_permanent(554)
    assert not domain.is_permanent(451) and not domain.is_permanent(421) and not domain.is_permanent(None)


@pytest.mark.parametrize(
    ("address", "ok"),
    [
        ("li.na@example.com", True),
        ("", False),
        ("no-at-sign", False),
        ("a@b", False),
        ("a b@example.com", False),
        ("a@example.com\nBcc: x@example.com", False),
        ("<a@example.com>", False),
    ],
)
def test_only_plausible_addresses_are_queued(address: str, ok: bool) -> None:
    assert domain.looks_like_email(address) is ok


def test_a_notice_is_dated_by_its_event_never_in_the_future() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    assert domain.event_time({"occurred_at": "2026-11-02T08:30:00+00:00"}, now) == datetime(
        2026, 11, 2, 8, 30, tzinfo=UTC
    )
    assert domain.event_time({"occurred_at": "2026-11-02T16:30:00+08:00"}, now) == datetime(
        2026, 11, 2, 8, 30, tzinfo=UTC
    )
    assert domain.event_time({"occurred_at": "2026-11-02T08:30:00"}, now).tzinfo is not None  # naive is UTC
    assert domain.event_time({"occurred_at": "2027-01-01T00:00:00+00:00"}, now) == now
    assert domain.event_time({"occurred_at": "yesterday"}, now) == now
    assert domain.event_time({}, now) == now


def test_a_settled_refund_says_it_was_sent_back_not_that_it_arrived() -> None:
    # The gateway only reports the money sent back; when it shows in the account is up to the payment provider.
    settled = {"refund_id": 1, "case_id": 7, "order_number": "SO-1", "status": "succeeded", "amount": "39.00"}
    zh = domain.compose(Topic.REFUND_SETTLED, {**settled, "currency": "CNY"}, "zh-CN")
    en = domain.compose(Topic.REFUND_SETTLED, {**settled, "currency": "CNY"}, "en")
    assert zh is not None and en is not None
    assert zh.subject == "退款 ¥39.00 已原路退回" and "已到账" not in zh.subject
    assert "arrived" not in en.subject and "sent back" in en.subject
    assert "reached" not in en.body


def test_a_survey_invitation_links_to_the_survey_in_the_customers_language() -> None:
    params = {"subject_ref": "TK1", "survey_link": "/surveys/1.2.abc", "customer_id": 1}
    zh = domain.compose("survey.sent", params, "zh-CN")
    en = domain.compose("survey.sent", params, "en")
    assert zh is not None and en is not None
    assert zh.link == en.link == "/surveys/1.2.abc"
    assert "TK1" in zh.body and "满意" in zh.subject and "How did we do" in en.subject
    # A link that is not a survey's is not followed: the inbox falls back to itself.
    odd = domain.compose("survey.sent", {**params, "survey_link": "https://evil.example/x"}, "en")
    assert odd is not None and odd.link == "/inbox"
