"""The outreach governor against a real database, with the clock moved by hand: caps, the order's
window, quiet hours deferred then sent by the worker, opt-outs (account, email link, SMS), marketing
consent, quiet after an agent's contact (heard from the tickets context's event), digests, one
message per incident, staleness, and every refusal recorded with its reason."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.kit.errors import Forbidden, Invalid
from aftersales.kit.vocabulary import MessageClass
from aftersales.messaging import outbox
from aftersales.notifications import handlers, service
from aftersales.notifications.models import (
    EmailMessage,
    InboxMessage,
    MarketingConsent,
    OutreachDecision,
    OutreachMessage,
)
from aftersales.orders import service as orders
from aftersales.tickets.events import PublicReplied

from ..factories import Factory

# 10:00 in Shanghai.
MORNING = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)
PROACTIVE, MARKETING = MessageClass.SERVICE_PROACTIVE, MessageClass.MARKETING


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with clock.frozen_at(MORNING):
        yield


def buyer(factory: Factory, *, number: str = "SO-1", external_id: str = "C1", **order: Any) -> int:
    if external_id == "C1":
        factory.catalogue()
    factory.put_order(number=number, customer=external_id, **order)
    customer_id = orders.customer_id_for(factory.db, external_id)
    assert customer_id is not None
    with factory.db.write() as uow:
        uow.session.execute(
            text("UPDATE customers SET email = :email, locale = 'en' WHERE id = :id"),
            {"email": f"{external_id.lower()}@example.com", "id": customer_id},
        )
        uow.commit()
    return customer_id


def shipped(order: str = "SO-1") -> dict[str, Any]:
    """Words of an existing template; the class is what the governor reads, not the topic."""
    return {"order": order, "order_number": order, "from": "paid", "to": "shipped", "merchant_id": 1}


def tell(db: Database, customer_id: int, key: str, klass: MessageClass = PROACTIVE, order: str = "SO-1") -> Any:
    result = service.notify(db, customer_id, "order.status_changed", shipped(order), key, message_class=klass)
    assert result is not None
    return result


def rows(db: Database, model: Any) -> list[Any]:
    with db.read() as uow:
        return list(uow.session.scalars(select(model).order_by(model.id)))


def reasons(db: Database) -> list[tuple[str, str]]:
    return [(d.action, d.reason) for d in rows(db, OutreachDecision)]


# --- transactional messages are untouched --------------------------------------------------------
def test_transactional_notices_go_at_midnight_as_before_and_are_not_governed(db: Database, factory: Factory) -> None:
    cid = buyer(factory)
    clock.advance(timedelta(hours=14))  # midnight in Shanghai
    result = service.notify(db, cid, "order.status_changed", shipped(), "order:SO-1:shipped")
    assert result is not None and result.created and result.outcome == "send" and result.inbox_id
    assert len(rows(db, InboxMessage)) == 1 and len(rows(db, EmailMessage)) == 1
    assert rows(db, OutreachMessage) == [] and "Unsubscribe" not in rows(db, EmailMessage)[0].body_text


# --- caps ----------------------------------------------------------------------------------------
def test_three_a_day_then_refused_with_its_reason_and_seven_a_week(db: Database, factory: Factory) -> None:
    cid = buyer(factory)
    for i in range(3):
        assert tell(db, cid, f"incident:{i}").outcome == "send"
        clock.advance(timedelta(minutes=31))  # apart enough not to be merged into a digest
    fourth = tell(db, cid, "incident:3")
    assert (fourth.outcome, fourth.reason, fourth.inbox_id) == ("refuse", "cap_day", None)
    assert reasons(db)[-1] == ("refuse", "cap_day")
    # The next day (rolling 24 h after the first) there is room again, until seven in the week.
    for day in range(1, 3):
        clock.advance(timedelta(days=1))
        for i in range(1 if day == 2 else 3):
            assert tell(db, cid, f"incident:{day}:{i}").outcome == "send"
            clock.advance(timedelta(minutes=31))
    assert len([m for m in rows(db, OutreachMessage) if m.status == "sent"]) == 7
    clock.advance(timedelta(days=1))
    assert tell(db, cid, "incident:late").reason == "cap_week"
    assert len(rows(db, InboxMessage)) == 7
    # Emails of governed messages carry a one-click unsubscribe link.
    assert all("/outreach/unsubscribe/" in e.body_text for e in rows(db, EmailMessage))


def test_marketing_once_a_week_and_four_a_month(db: Database, factory: Factory) -> None:
    cid = buyer(factory)
    service.record_consent(db, cid, "inapp", granted=True, wording_version="v1", source="checkout", by="buyer")
    for week in range(4):
        assert tell(db, cid, f"promo:{week}", MARKETING).outcome == "send"
        assert tell(db, cid, f"promo:{week}:again", MARKETING).reason == "cap_week"
        clock.advance(timedelta(days=7, minutes=1))
    assert tell(db, cid, "promo:5", MARKETING).reason == "cap_month"
    clock.advance(timedelta(days=3))
    assert tell(db, cid, "promo:6", MARKETING).outcome == "send"


# --- window --------------------------------------------------------------------------------------
def test_proactive_notices_stop_thirty_days_after_the_order_closed(db: Database, factory: Factory) -> None:
    cid = buyer(factory, status="completed", updated_at=MORNING - timedelta(days=29))
    assert tell(db, cid, "late:1").outcome == "send"
    clock.advance(timedelta(days=1, seconds=1))
    assert tell(db, cid, "late:2").reason == "outside_window"
    # Someone else's order is no reason to write to this buyer.
    buyer(factory, number="SO-9", external_id="C9")
    assert tell(db, cid, "late:3", order="SO-9").reason == "no_order"
    assert tell(db, cid, "late:4", order="").reason == "no_order"


# --- quiet hours ---------------------------------------------------------------------------------
def test_a_notice_at_night_is_deferred_then_sent_by_the_worker_at_eight(db: Database, factory: Factory) -> None:
    cid = buyer(factory)
    clock.advance(timedelta(hours=13))  # 23:00 in Shanghai
    deferred = tell(db, cid, "night:1")
    assert (deferred.outcome, deferred.reason, deferred.inbox_id) == ("defer", "quiet_hours", None)
    assert rows(db, InboxMessage) == []
    clock.advance(timedelta(hours=8, minutes=59))  # 07:59
    assert service.release_waiting(db).sent == 0 and rows(db, InboxMessage) == []
    clock.advance(timedelta(minutes=1))  # 08:00
    report = service.release_waiting(db)
    assert (report.sent, report.refused) == (1, 0)
    [inbox] = rows(db, InboxMessage)
    assert inbox.subject == "Order SO-1 has shipped" or "SO-1" in inbox.subject
    [message] = rows(db, OutreachMessage)
    assert (message.status, message.sent_at, message.inbox_id) == ("sent", clock.now(), inbox.id)
    assert reasons(db) == [("defer", "quiet_hours"), ("send", "")]
    assert service.release_waiting(db).sent == 0  # never twice
    # Asking again with the same key (the incident) gives the first answer, nothing new.
    again = tell(db, cid, "night:1")
    assert (again.created, again.outcome, again.inbox_id) == (False, "send", inbox.id)


def test_marketing_quiet_hours_start_at_nine(db: Database, factory: Factory) -> None:
    cid = buyer(factory)
    service.record_consent(db, cid, "email", granted=True, wording_version="v2", source="account", by="buyer")
    clock.advance(timedelta(hours=11))  # 21:00 in Shanghai
    assert tell(db, cid, "promo:night", MARKETING).reason == "quiet_hours"
    assert tell(db, cid, "proactive:21h").outcome == "send"


def test_a_deferred_notice_the_buyer_opted_out_of_meanwhile_is_refused_not_sent(db: Database, factory: Factory) -> None:
    cid = buyer(factory)
    clock.advance(timedelta(hours=13))
    tell(db, cid, "night:1")
    for channel in ("inapp", "email"):
        service.set_outreach_choice(db, cid, PROACTIVE.value, channel, opted_out=True, source="account")
    clock.advance(timedelta(hours=9))
    assert service.release_waiting(db).refused == 1
    assert rows(db, InboxMessage) == [] and reasons(db)[-1] == ("refuse", "opted_out")


def test_a_notice_deferred_for_more_than_a_day_expires(db: Database, factory: Factory) -> None:
    cid = buyer(factory)
    clock.advance(timedelta(hours=13))
    tell(db, cid, "night:1")
    clock.advance(timedelta(hours=24, minutes=1))  # the worker was away all day
    assert service.release_waiting(db).refused == 1
    assert reasons(db)[-1] == ("refuse", "expired") and rows(db, InboxMessage) == []


# --- opting out ----------------------------------------------------------------------------------
def test_opting_out_of_email_keeps_the_inbox_and_the_link_in_the_email_works_at_once(
    db: Database, factory: Factory
) -> None:
    cid = buyer(factory)
    first = tell(db, cid, "a")
    assert first.inbox_id and first.email_id
    [email] = rows(db, EmailMessage)
    match = re.search(r"/outreach/unsubscribe/(\S+)", email.body_text)
    assert match
    choice = service.unsubscribe(db, match.group(1))
    assert (choice.message_class, choice.channel, choice.opted_out) == ("service_proactive", "email", True)
    clock.advance(timedelta(hours=1))
    second = tell(db, cid, "b")
    assert second.outcome == "send" and second.inbox_id and second.email_id is None
    with pytest.raises(Forbidden):
        service.unsubscribe(db, match.group(1).replace(str(cid), str(cid + 1), 1))
    # Transactional messages still reach the buyer by email.
    service.notify(db, cid, "order.status_changed", shipped(), "order:SO-1:shipped")
    assert len(rows(db, EmailMessage)) == 2


def test_transactional_cannot_be_opted_out_of_and_sms_keywords_parse_strictly(db: Database, factory: Factory) -> None:
    cid = buyer(factory)
    with pytest.raises(Invalid):
        service.set_outreach_choice(db, cid, "transactional", "email", opted_out=True, source="account")
    with pytest.raises(Invalid):
        service.set_outreach_choice(db, cid, "marketing", "pigeon", opted_out=True, source="account")
    assert not service.sms_reply(db, cid, "T恤有货吗")
    assert all(not c.opted_out for c in service.outreach_choices(db, cid))
    assert service.sms_reply(db, cid, "退订")
    out = {(c.message_class, c.channel) for c in service.outreach_choices(db, cid) if c.opted_out}
    assert out == {("service_proactive", "sms"), ("marketing", "sms")}
    service.set_outreach_choice(db, cid, "marketing", "sms", opted_out=False, source="account")
    out = {(c.message_class, c.channel) for c in service.outreach_choices(db, cid) if c.opted_out}
    assert out == {("service_proactive", "sms")}


# --- consent -------------------------------------------------------------------------------------
def test_marketing_only_with_a_consent_record_and_only_on_its_channel(db: Database, factory: Factory) -> None:
    cid = buyer(factory)
    assert tell(db, cid, "promo:1", MARKETING).reason == "no_consent"
    with pytest.raises(Invalid):
        service.record_consent(db, cid, "email", granted=True, wording_version=" ", source="checkout", by="buyer")
    service.record_consent(db, cid, "email", granted=True, wording_version="2026-11", source="checkout", by="buyer")
    sent = tell(db, cid, "promo:2", MARKETING)
    assert sent.outcome == "send" and sent.email_id and sent.inbox_id is None
    clock.advance(timedelta(days=8))
    service.record_consent(db, cid, "email", granted=False, wording_version="2026-11", source="account", by="buyer")
    assert tell(db, cid, "promo:3", MARKETING).reason == "no_consent"
    proof = rows(db, MarketingConsent)
    assert [(c.channel, c.granted, c.wording_version, c.recorded_by) for c in proof] == [
        ("email", True, "2026-11", "buyer"),
        ("email", False, "2026-11", "buyer"),
    ]
    assert proof[0].at == MORNING


# --- an agent's contact --------------------------------------------------------------------------
def test_no_proactive_notice_within_two_hours_of_an_agents_reply_about_the_order(
    db: Database, factory: Factory, monkeypatch: pytest.MonkeyPatch, no_outbox_kick: None
) -> None:
    monkeypatch.setattr(outbox, "_handlers", {})
    monkeypatch.setattr(handlers, "_registered", False)
    handlers.register()
    cid = buyer(factory)
    reply = PublicReplied(
        ticket_number="T1",
        conversation_id=None,
        message_id=1,
        author_name="Agent",
        body="We are on it.",
        channel="email",
        customer_id=cid,
        order_number="SO-1",
    )
    with db.write() as uow:
        outbox.publish_event(uow.session, reply, idempotency_key="ticket-reply:1")
        uow.commit()
    outbox.drain(db)
    outbox.drain(db)  # delivered twice changes nothing
    assert tell(db, cid, "stalled:1").reason == "agent_contact"
    # Another order of the same buyer is not what the agent talked about.
    factory.put_order(number="SO-2", customer="C1")
    assert tell(db, cid, "stalled:2", order="SO-2").outcome == "send"
    clock.advance(timedelta(hours=2))
    assert tell(db, cid, "stalled:3").outcome == "send"


# --- digest --------------------------------------------------------------------------------------
def test_notices_within_thirty_minutes_go_as_one_digest_counted_once(db: Database, factory: Factory) -> None:
    cid = buyer(factory)
    factory.put_order(number="SO-2", customer="C1")
    assert tell(db, cid, "i:1").outcome == "send"
    clock.advance(timedelta(minutes=10))
    assert tell(db, cid, "i:2").outcome == "digest"
    clock.advance(timedelta(minutes=10))
    assert tell(db, cid, "i:3", order="SO-2").outcome == "digest"
    clock.advance(timedelta(minutes=9))
    assert service.release_waiting(db).sent == 0
    clock.advance(timedelta(minutes=1))  # 30 minutes after the first
    report = service.release_waiting(db)
    assert (report.sent, report.merged) == (1, 1)
    _first, digest = rows(db, InboxMessage)
    assert digest.subject == "2 service updates about your orders" and digest.link == "/inbox"
    assert "SO-1" in digest.body and "SO-2" in digest.body
    assert [m.status for m in rows(db, OutreachMessage)] == ["sent", "sent", "merged"]
    # The digest counts once: one more notice fits under the daily cap of three.
    clock.advance(timedelta(minutes=31))
    assert tell(db, cid, "i:4").outcome == "send"
    clock.advance(timedelta(minutes=31))
    assert tell(db, cid, "i:5").reason == "cap_day"


# --- telling merchants why -----------------------------------------------------------------------
def test_a_merchant_reads_why_its_messages_did_not_go_in_its_language(db: Database, factory: Factory) -> None:
    cid = buyer(factory)
    tell(db, cid, "promo:1", MARKETING)
    [decision] = service.outreach_decisions(db, merchant_id=1, lang="en")
    assert (decision.action, decision.reason, decision.order_number) == ("refuse", "no_consent", "SO-1")
    assert decision.explanation == "the buyer has not consented to marketing on this channel"
    [zh] = service.outreach_decisions(db, customer_id=cid, lang="zh-CN")
    assert zh.explanation == "买家未同意在该渠道接收营销信息"
    assert service.outreach_decisions(db, merchant_id=2) == []
