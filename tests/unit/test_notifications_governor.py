"""The outreach governor's rules, pure: classes, window, consent, opt-out, agent contact, caps,
quiet hours in the buyer's zone, the digest, the SMS keywords and the signed unsubscribe link."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from aftersales.kit.vocabulary import MessageClass
from aftersales.notifications import governor
from aftersales.notifications.governor import Action, Channel, Facts, OrderWindow, Reason

PROACTIVE, MARKETING, TRANSACTIONAL = (
    MessageClass.SERVICE_PROACTIVE,
    MessageClass.MARKETING,
    MessageClass.TRANSACTIONAL,
)
# 10:00 in Shanghai (02:00 UTC): inside every window.
DAYTIME = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)
OPEN = OrderWindow(status="shipped", closed_at=None)
BOTH = frozenset({Channel.INAPP, Channel.EMAIL})


def facts(**kw: object) -> Facts:
    base = Facts(now=DAYTIME, order=OPEN, consented=BOTH)
    return replace(base, **kw)  # type: ignore[arg-type]


def test_transactional_always_goes_whatever_the_facts() -> None:
    worst = facts(
        order=None,
        opted_out=BOTH,
        consented=frozenset(),
        sent_day=99,
        agent_contact_at=DAYTIME,
        now=datetime(2026, 11, 3, 16, 0, tzinfo=UTC),  # midnight in Shanghai
    )
    assert governor.decide(TRANSACTIONAL, worst).action is Action.SEND


def test_a_proactive_notice_in_the_day_about_an_open_order_goes_on_every_channel() -> None:
    decision = governor.decide(PROACTIVE, facts())
    assert (decision.action, decision.reason, decision.channels) == (Action.SEND, Reason.NONE, BOTH)


@pytest.mark.parametrize(
    ("order", "allowed"),
    [
        (OrderWindow("delivered", None), True),
        (OrderWindow("completed", DAYTIME - timedelta(days=30)), True),
        (OrderWindow("completed", DAYTIME - timedelta(days=30, seconds=1)), False),
        (OrderWindow("cancelled", DAYTIME - timedelta(days=2)), True),
        (OrderWindow("completed", None), False),
    ],
)
def test_window_is_the_open_order_and_thirty_days_after_it_closed(order: OrderWindow, allowed: bool) -> None:
    decision = governor.decide(PROACTIVE, facts(order=order))
    assert (decision.action is Action.SEND) is allowed
    if not allowed:
        assert decision.reason is Reason.OUTSIDE_WINDOW


def test_a_proactive_notice_without_the_buyers_order_is_refused() -> None:
    assert governor.decide(PROACTIVE, facts(order=None)).reason is Reason.NO_ORDER


def test_marketing_needs_consent_and_goes_only_where_it_was_given() -> None:
    assert governor.decide(MARKETING, facts(consented=frozenset())).reason is Reason.NO_CONSENT
    decision = governor.decide(MARKETING, facts(consented=frozenset({Channel.EMAIL}), order=None))
    assert (decision.action, decision.channels) == (Action.SEND, frozenset({Channel.EMAIL}))


def test_opting_out_of_one_channel_leaves_the_others_and_of_all_refuses() -> None:
    decision = governor.decide(PROACTIVE, facts(opted_out=frozenset({Channel.EMAIL})))
    assert decision.channels == frozenset({Channel.INAPP})
    assert governor.decide(PROACTIVE, facts(opted_out=BOTH)).reason is Reason.OPTED_OUT
    assert governor.decide(MARKETING, facts(opted_out=BOTH)).reason is Reason.OPTED_OUT


def test_no_proactive_or_marketing_message_within_two_hours_of_an_agents_contact() -> None:
    recent = facts(agent_contact_at=DAYTIME - timedelta(hours=1, minutes=59))
    assert governor.decide(PROACTIVE, recent).reason is Reason.AGENT_CONTACT
    assert governor.decide(MARKETING, recent).reason is Reason.AGENT_CONTACT
    assert governor.decide(PROACTIVE, facts(agent_contact_at=DAYTIME - timedelta(hours=2))).action is Action.SEND


@pytest.mark.parametrize(
    ("message_class", "counts", "reason"),
    [
        (PROACTIVE, {"sent_day": 3, "sent_week": 3}, Reason.CAP_DAY),
        (PROACTIVE, {"sent_day": 2, "sent_week": 7}, Reason.CAP_WEEK),
        (PROACTIVE, {"sent_day": 2, "sent_week": 6}, None),
        (MARKETING, {"sent_week": 1, "sent_month": 1}, Reason.CAP_WEEK),
        (MARKETING, {"sent_week": 0, "sent_month": 4}, Reason.CAP_MONTH),
        (MARKETING, {"sent_week": 0, "sent_month": 3}, None),
    ],
)
def test_caps_per_buyer(message_class: MessageClass, counts: dict[str, int], reason: Reason | None) -> None:
    decision = governor.decide(message_class, facts(**counts))
    assert decision.reason is (reason or Reason.NONE)
    assert (decision.action is Action.REFUSE) is (reason is not None)


@pytest.mark.parametrize(
    ("message_class", "local_hour", "quiet"),
    [
        (PROACTIVE, 21, False),
        (PROACTIVE, 22, True),
        (PROACTIVE, 7, True),
        (PROACTIVE, 8, False),
        (MARKETING, 20, False),
        (MARKETING, 21, True),
        (MARKETING, 3, True),
    ],
)
def test_quiet_hours_in_the_buyers_zone_defer_to_eight(
    message_class: MessageClass, local_hour: int, quiet: bool
) -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    now = datetime(2026, 11, 3, local_hour, 30, tzinfo=shanghai).astimezone(UTC)
    decision = governor.decide(message_class, facts(now=now))
    assert (decision.action is Action.DEFER) is quiet
    if quiet:
        assert decision.reason is Reason.QUIET_HOURS
        opening = decision.send_at.astimezone(shanghai) if decision.send_at else None
        assert opening is not None and (opening.hour, opening.minute) == (8, 0)
        assert opening > now and opening - now < timedelta(hours=11)


def test_the_zone_is_the_buyers_and_a_bad_one_falls_back_to_shanghai() -> None:
    noon_utc = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)  # 20:00 Shanghai, 07:00 New York, 13:00 Paris
    assert governor.decide(PROACTIVE, facts(now=noon_utc)).action is Action.SEND
    assert governor.decide(PROACTIVE, facts(now=noon_utc, zone="America/New_York")).action is Action.DEFER
    assert governor.decide(MARKETING, facts(now=noon_utc, zone="Europe/Paris")).action is Action.SEND
    assert governor.zone_of("Not/AZone") == ZoneInfo("Asia/Shanghai")
    assert governor.zone_of("../etc/passwd") == ZoneInfo("Asia/Shanghai")


def test_a_second_notice_within_thirty_minutes_waits_for_a_digest() -> None:
    decision = governor.decide(PROACTIVE, facts(last_sent_at=DAYTIME - timedelta(minutes=10)))
    assert (decision.action, decision.send_at) == (Action.DIGEST, DAYTIME + timedelta(minutes=20))
    joined = governor.decide(PROACTIVE, facts(pending_digest_at=DAYTIME + timedelta(minutes=5)))
    assert (joined.action, joined.send_at) == (Action.DIGEST, DAYTIME + timedelta(minutes=5))
    assert governor.decide(PROACTIVE, facts(last_sent_at=DAYTIME - timedelta(minutes=30))).action is Action.SEND
    # The worker sending a digest does not merge it again; marketing is never digested.
    assert governor.decide(PROACTIVE, facts(last_sent_at=DAYTIME), digest_ok=False).action is Action.SEND
    assert governor.decide(MARKETING, facts(last_sent_at=DAYTIME - timedelta(days=8))).action is Action.SEND


def test_a_proactive_notice_not_sent_within_a_day_expires() -> None:
    stale = facts(created_at=DAYTIME - timedelta(hours=24, seconds=1))
    assert governor.decide(PROACTIVE, stale).reason is Reason.EXPIRED
    assert governor.decide(PROACTIVE, facts(created_at=DAYTIME - timedelta(hours=23))).action is Action.SEND


@pytest.mark.parametrize("text", ["TD", "td", " T ", "N", "r", "退订", "STOP", "ＴＤ", "stop\n"])
def test_sms_opt_out_keywords(text: str) -> None:
    assert governor.is_sms_opt_out(text)


@pytest.mark.parametrize("text", ["", "T恤", "TD please", "don't stop", "退订了吗", "STOPP", "Y", "unsubscribe me"])
def test_other_sms_replies_opt_nobody_out(text: str) -> None:
    assert not governor.is_sms_opt_out(text)


def test_the_unsubscribe_link_is_signed_and_names_one_optable_class() -> None:
    token = governor.unsubscribe_token("s3cret", 42, PROACTIVE, Channel.EMAIL)
    assert governor.read_unsubscribe_token("s3cret", token) == (42, PROACTIVE, Channel.EMAIL)
    assert governor.read_unsubscribe_token("other", token) is None
    forged = token.replace("42.", "43.", 1)
    assert governor.read_unsubscribe_token("s3cret", forged) is None
    assert governor.read_unsubscribe_token("s3cret", "garbage") is None
    assert governor.read_unsubscribe_token("s3cret", "") is None
    transactional = governor.unsubscribe_token("s3cret", 42, TRANSACTIONAL, Channel.EMAIL)
    assert governor.read_unsubscribe_token("s3cret", transactional) is None
    assert not governor.can_opt_out(TRANSACTIONAL) and governor.can_opt_out(MARKETING)


def test_consent_proof_is_kept_at_least_five_months_after_withdrawal() -> None:
    assert not governor.consent_purgeable(None, DAYTIME)
    assert not governor.consent_purgeable(DAYTIME - timedelta(days=150), DAYTIME)
    assert governor.consent_purgeable(DAYTIME - timedelta(days=156), DAYTIME)


def test_every_reason_is_explained_in_both_languages_and_the_digest_counts_its_items() -> None:
    for reason in Reason:
        assert governor.explain(reason.value, "en") and governor.explain(reason.value, "zh-CN")
        assert governor.explain(reason.value, "en") != governor.explain(reason.value, "zh-CN")
    assert governor.explain("mystery", "en") == "mystery"
    subject, body = governor.digest_text([("A", "a"), ("B", "b")], "en")
    assert subject == "2 service updates about your orders" and body == "1. A\na\n\n2. B\nb"
    assert governor.digest_text([("A", "a")], "zh-CN")[0] == "您有 1 条订单服务提醒"


def test_sms_retries_one_five_thirty_minutes_two_and_six_hours_then_give_up() -> None:
    waits = [governor.sms_retry_after(n) for n in range(1, 7)]
    assert waits == [
        timedelta(minutes=1),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(hours=6),
        None,
    ]
    assert governor.sms_retry_after(0) is None


def test_a_proactive_sms_older_than_a_day_is_stale_a_marketing_one_is_not_by_age() -> None:
    assert governor.sms_is_stale(PROACTIVE, DAYTIME - timedelta(hours=24, seconds=1), DAYTIME)
    assert not governor.sms_is_stale(PROACTIVE, DAYTIME - timedelta(hours=23), DAYTIME)
    assert not governor.sms_is_stale(MARKETING, DAYTIME - timedelta(days=3), DAYTIME)


def test_an_sms_always_ends_with_how_to_opt_out_even_when_cut() -> None:
    zh = governor.sms_text("包裹延误", "您的订单 SO-1 预计晚一天送达。", "zh-CN", opt_out=True)
    assert zh == "【包裹延误】您的订单 SO-1 预计晚一天送达。回复TD退订"
    long = governor.sms_text("Late parcel", "x" * 1000, "en", opt_out=True)
    assert len(long) == governor.SMS_MAX_CHARS and long.endswith("… Reply STOP to opt out")
    assert governor.sms_text("A", "b", "en", opt_out=False) == "A: b"
