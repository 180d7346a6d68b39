"""Notifications end to end against a real SMTP server (aiosmtpd on 127.0.0.1): an event leaves
through the outbox, becomes one inbox message and one email in the customer's language, exactly
once, and waits in the queue while the relay is away."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage as MimeMessage
from typing import Any

import pytest
import structlog.testing
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import select, text, update

from aftersales.config import reset_settings
from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.kit.events import StoredEvent
from aftersales.messaging import outbox
from aftersales.messaging.models import OutboxMessage
from aftersales.notifications import handlers, mailer, service, tasks
from aftersales.notifications.models import EmailMessage, InboxMessage
from aftersales.notifications.settings import notification_settings
from aftersales.orders import service as orders

from ..factories import Factory

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


# --- a real SMTP server ----------------------------------------------------------------------------
class Mailbox:
    """aiosmtpd handler: keeps what it accepts; refuses chosen recipients with a chosen reply."""

    def __init__(self) -> None:
        self.messages: list[MimeMessage] = []
        self.refuse: dict[str, str] = {}

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        content = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
        parsed = message_from_bytes(content, policy=policy.default)
        assert isinstance(parsed, MimeMessage)
        self.messages.append(parsed)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Relay:
    """Starts and stops an SMTP server on one fixed port, so tests can take the relay away."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.mailbox = Mailbox()
        self._controller: Controller | None = None

    def start(self) -> Relay:
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def messages(self) -> list[MimeMessage]:
        return self.mailbox.messages


@pytest.fixture
def relay(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Relay]:
    """Settings point at a free local port; the server on it is started by the test (`smtp`) or not."""
    server = Relay(free_port())
    monkeypatch.setenv("AFTERSALES_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("AFTERSALES_SMTP_PORT", str(server.port))
    monkeypatch.setenv("AFTERSALES_SMTP_FROM", "Aftersales <no-reply@shop.example.com>")
    monkeypatch.setenv("AFTERSALES_SMTP_TIMEOUT_SECONDS", "5")
    monkeypatch.setenv("AFTERSALES_PUBLIC_URL", "https://shop.example.com")
    reset_settings()
    try:
        yield server
    finally:
        server.stop()
        reset_settings()


@pytest.fixture
def smtp(relay: Relay) -> Relay:
    return relay.start()


@pytest.fixture(autouse=True)
def subscribed(monkeypatch: pytest.MonkeyPatch, no_outbox_kick: None) -> Iterator[None]:
    """Only the notification handlers listen, registered for this test alone; the clock stands still."""
    monkeypatch.setattr(outbox, "_handlers", {})
    monkeypatch.setattr(handlers, "_registered", False)
    monkeypatch.setattr(handlers, "_paused_until", 0.0)
    handlers.register()
    handlers.register()  # twice changes nothing
    assert all(len(listeners) == 1 for listeners in outbox._handlers.values())
    with clock.frozen_at(NOW):
        yield


# --- helpers -------------------------------------------------------------------------------------
def customer(factory: Factory, external_id: str, *, email: str, locale: str, number: str) -> int:
    factory.catalogue() if external_id == "C1" else None
    factory.put_order(number=number, customer=external_id, customer_name="李娜" if locale == "zh-CN" else "Ann Lee")
    customer_id = orders.customer_id_for(factory.db, external_id)
    assert customer_id is not None
    with factory.db.write() as uow:
        uow.session.execute(
            text("UPDATE customers SET email = :email, locale = :locale WHERE id = :id"),
            {"email": email, "locale": locale, "id": customer_id},
        )
        uow.commit()
    return customer_id


def case_event(customer_id: int, before: str | None, after: str, *, number: str = "AS20261102000001") -> dict[str, Any]:
    return {
        "case_id": 1,
        "case_number": number,
        "customer_id": customer_id,
        "merchant_id": 1,
        "order_number": "SO-1",
        "kind": "return_refund",
        "from": before,
        "to": after,
    }


def publish(db: Database, topic: str, payload: dict[str, Any], key: str) -> None:
    with db.write() as uow:
        outbox.publish(uow.session, topic, payload, idempotency_key=key)
        uow.commit()


def inbox_rows(db: Database) -> list[InboxMessage]:
    with db.read() as uow:
        return list(uow.session.scalars(select(InboxMessage).order_by(InboxMessage.id)))


def email_rows(db: Database) -> list[EmailMessage]:
    with db.read() as uow:
        return list(uow.session.scalars(select(EmailMessage).order_by(EmailMessage.id)))


# --- the journey ---------------------------------------------------------------------------------
def test_a_case_change_becomes_one_inbox_message_and_one_chinese_email(
    db: Database, factory: Factory, smtp: Relay
) -> None:
    cid = customer(factory, "C1", email="li.na@example.com", locale="zh-CN", number="SO-1")
    publish(db, "case.status_changed", case_event(cid, "under_review", "awaiting_return"), "case:1:approve:1")
    outbox.drain(db)

    [message] = inbox_rows(db)
    assert (message.customer_id, message.topic, message.read_at) == (cid, "case.status_changed", None)
    assert message.subject == "售后申请 AS20261102000001 已通过，请寄回商品"
    assert message.link == "/cases/AS20261102000001"
    [email] = email_rows(db)
    assert (email.status, email.attempts, email.to_address, email.sent_at) == ("sent", 1, "li.na@example.com", NOW)
    [received] = smtp.messages
    assert received["Subject"] == message.subject
    assert received["To"] == "li.na@example.com"
    assert received["From"] == "Aftersales <no-reply@shop.example.com>"
    assert received["Message-ID"] == email.message_id and received["Message-ID"].endswith("@shop.example.com>")
    body = received.get_content()
    assert body.startswith("李娜，您好：") and "上门取件" in body
    assert "https://shop.example.com/cases/AS20261102000001" in body
    assert outbox.pending_count(db) == 0


def test_an_english_customer_gets_english(db: Database, factory: Factory, smtp: Relay) -> None:
    factory.catalogue()
    cid = customer(factory, "C2", email="ann@example.com", locale="en", number="SO-2")
    publish(db, "case.status_changed", case_event(cid, "under_review", "rejected"), "case:1:reject:1")
    outbox.drain(db)
    [received] = smtp.messages
    assert received["Subject"] == "Your request AS20261102000001 was not approved"
    body = received.get_content()
    assert body.startswith("Hello Ann Lee,") and "customer service" in body and "appeal" not in body
    assert "申" not in body
    [message] = inbox_rows(db)
    assert message.subject == received["Subject"]


def test_a_disputes_ruling_reaches_the_buyer_with_a_link_to_the_dispute(
    db: Database, factory: Factory, smtp: Relay
) -> None:
    factory.catalogue()
    cid = customer(factory, "C3", email="ann@example.com", locale="en", number="SO-3")
    ruled = {
        "dispute_id": 1,
        "dispute_number": "DP261207000001",
        "case_number": "AS20261102000001",
        "order_number": "SO-3",
        "customer_id": cid,
        "merchant_id": None,
        "action": "rule",
        "from": "under_review",
        "to": "enforcing",
    }
    publish(db, "dispute.status_changed", ruled, "dispute:1:rule")
    publish(db, "dispute.status_changed", {**ruled, "action": "accept", "to": "awaiting_evidence"}, "dispute:1:x")
    outbox.drain(db)
    [message] = inbox_rows(db)  # the ruling is told; the steps before it show on the dispute's page
    assert message.subject == "The platform has ruled on dispute DP261207000001"
    assert message.link == "/disputes/DP261207000001"
    [received] = smtp.messages
    assert "request AS20261102000001" in received.get_content()


def test_a_replayed_event_creates_and_sends_nothing_more(db: Database, factory: Factory, smtp: Relay) -> None:
    cid = customer(factory, "C1", email="li.na@example.com", locale="zh-CN", number="SO-1")
    event = case_event(cid, "under_review", "refunding") | {"kind": "refund_only"}
    publish(db, "case.status_changed", event, "case:1:approve:2")
    assert outbox.drain(db) >= 1
    # The outbox delivers again (a worker died before recording the delivery).
    with db.write() as uow:
        uow.session.execute(update(OutboxMessage).values(delivered_at=None))
        uow.commit()
    clock.advance(outbox.LEASE)
    assert outbox.drain(db) >= 1
    handlers.on_case_status_changed(StoredEvent("case.status_changed", event), "case:1:approve:2")  # and once more
    assert len(inbox_rows(db)) == 1 and len(email_rows(db)) == 1 and len(smtp.messages) == 1
    assert tasks.send_until_done(db).tried == 0


def test_while_the_relay_is_down_the_email_waits_and_goes_once_it_is_back(
    db: Database, factory: Factory, relay: Relay
) -> None:
    cid = customer(factory, "C1", email="li.na@example.com", locale="zh-CN", number="SO-1")
    publish(db, "case.status_changed", case_event(cid, None, "under_review"), "case:1:submitted")
    publish(db, "case.status_changed", case_event(cid, "under_review", "awaiting_evidence"), "case:1:evidence")
    assert outbox.drain(db) == 3  # the handlers do not fail: the inbox is written, the emails wait
    assert outbox.pending_count(db) == 0
    assert [m.subject for m in inbox_rows(db)] == [
        "售后申请 AS20261102000001 已提交",
        "请为售后申请 AS20261102000001 补充凭证",
    ]
    first, second = email_rows(db)
    assert (first.status, first.attempts, first.sent_at) == ("queued", 1, None)
    assert first.next_attempt_at == NOW + timedelta(minutes=1)
    assert "127.0.0.1" in first.last_error
    # After one refused connection the handlers stop trying at once; the periodic sender takes over.
    assert (second.status, second.attempts, second.next_attempt_at) == ("queued", 0, NOW)

    relay.start()
    # After the relay's first failure every sender waits out a short back-off (said once, not per try).
    clock.advance(timedelta(seconds=mailer.relays.first))
    report = tasks.send_until_done(db)
    assert (report.sent, report.retrying, report.failed) == (1, 0, 0)  # the one that is due
    clock.advance(timedelta(minutes=1))
    assert tasks.send_until_done(db).sent == 1
    emails = email_rows(db)
    assert [(e.status, e.attempts, e.last_error) for e in emails] == [("sent", 2, ""), ("sent", 1, "")]
    assert sorted(m["Message-ID"] for m in relay.messages) == sorted(e.message_id for e in emails)
    clock.advance(timedelta(hours=1))
    assert tasks.send_until_done(db).tried == 0


def test_a_permanent_refusal_fails_the_email_and_a_temporary_one_retries(
    db: Database, factory: Factory, smtp: Relay
) -> None:
    factory.catalogue()
    gone = customer(factory, "C2", email="gone@example.com", locale="en", number="SO-2")
    busy = customer(factory, "C3", email="busy@example.com", locale="en", number="SO-3")
    smtp.mailbox.refuse = {
        "gone@example.com": "550 5.1.1 No such mailbox",
        "busy@example.com": "451 4.3.0 Try again later",
    }
    publish(db, "order.status_changed", {"order": "SO-2", "customer_id": gone, "from": "paid", "to": "shipped"}, "o2")
    publish(db, "order.status_changed", {"order": "SO-3", "customer_id": busy, "from": "paid", "to": "shipped"}, "o3")
    outbox.drain(db)
    by_address = {e.to_address: e for e in email_rows(db)}
    assert by_address["gone@example.com"].status == "failed"
    assert "550" in by_address["gone@example.com"].last_error
    assert by_address["busy@example.com"].status == "queued"
    assert by_address["busy@example.com"].next_attempt_at == NOW + timedelta(minutes=1)
    assert len(inbox_rows(db)) == 2 and smtp.messages == []  # the inbox has them all the same

    smtp.mailbox.refuse = {}
    clock.advance(timedelta(minutes=5))
    assert tasks.send_until_done(db).sent == 1  # the failed one is not tried again
    assert [m["To"] for m in smtp.messages] == ["busy@example.com"]


def test_an_email_that_cannot_be_sent_is_retried_later_and_holds_up_no_other(
    db: Database, factory: Factory, smtp: Relay, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prometheus_client import REGISTRY

    factory.catalogue()
    bad = customer(factory, "C2", email="bad@example.com", locale="en", number="SO-2")
    good = customer(factory, "C3", email="good@example.com", locale="en", number="SO-3")
    for cid, number in ((bad, "SO-2"), (good, "SO-3")):
        service.notify(db, cid, "order.status_changed", {"order": number, "from": "paid", "to": "shipped"}, number)
    real_build = mailer.build_message

    def planted(email: Any, sender: str) -> Any:  # a fault nobody foresaw, in one email only
        if email.to_address == "bad@example.com":
            raise RuntimeError("planted fault")
        return real_build(email, sender)

    monkeypatch.setattr(mailer, "build_message", planted)
    before = REGISTRY.get_sample_value("aftersales_scan_item_failures_total", {"scan": "emails"}) or 0.0
    report = service.send_due_emails(db, notification_settings(), limit=10)
    assert (report.sent, report.retrying) == (1, 1)
    assert [m["To"] for m in smtp.messages] == ["good@example.com"]
    failed = next(e for e in email_rows(db) if e.to_address == "bad@example.com")
    assert (failed.status, failed.attempts, failed.next_attempt_at) == ("queued", 1, NOW + timedelta(minutes=1))
    assert "planted fault" in failed.last_error
    assert REGISTRY.get_sample_value("aftersales_scan_item_failures_total", {"scan": "emails"}) == before + 1


def test_after_a_crash_between_sending_and_recording_the_resend_carries_the_same_message_id(
    db: Database, factory: Factory, smtp: Relay, monkeypatch: pytest.MonkeyPatch
) -> None:
    cid = customer(factory, "C1", email="li.na@example.com", locale="zh-CN", number="SO-1")
    settings = notification_settings()
    result = service.notify(db, cid, "order.status_changed", {"order": "SO-1", "from": "paid", "to": "shipped"}, "k1")
    assert result is not None and result.created and result.email_id is not None

    def crash(*_: Any) -> None:
        raise SystemExit("worker killed")

    with monkeypatch.context() as patch:
        patch.setattr(service, "_record", crash)
        with pytest.raises(SystemExit):
            service.send_due_emails(db, settings, limit=10)
    assert len(smtp.messages) == 1
    assert service.send_due_emails(db, settings).tried == 0  # leased: no second sender meanwhile
    clock.advance(service.LEASE)
    assert service.send_due_emails(db, settings).sent == 1
    first, second = smtp.messages
    assert first["Message-ID"] == second["Message-ID"] and first["Date"] == second["Date"]


def test_events_not_worth_a_message_leave_nothing(db: Database, factory: Factory, smtp: Relay) -> None:
    cid = customer(factory, "C1", email="li.na@example.com", locale="zh-CN", number="SO-1")
    publish(db, "case.status_changed", case_event(cid, "awaiting_return", "return_in_transit"), "c1")
    publish(db, "case.status_changed", case_event(cid, "refunding", "completed"), "c2")
    publish(db, "order.status_changed", {"order": "SO-1", "customer_id": cid, "from": "paid", "to": "fulfilling"}, "o")
    publish(db, "refund.settled", {"refund_id": 1, "order_number": "SO-1", "status": "succeeded", "amount": "1"}, "r")
    outbox.drain(db)
    assert inbox_rows(db) == [] and email_rows(db) == [] and smtp.messages == []
    assert outbox.pending_count(db) == 0  # all delivered: nothing retried


def test_orders_and_refunds_are_told_with_their_own_words(db: Database, factory: Factory, smtp: Relay) -> None:
    cid = customer(factory, "C1", email="li.na@example.com", locale="zh-CN", number="SO-1")
    publish(
        db, "order.status_changed", {"order": "SO-1", "customer_id": cid, "from": "shipped", "to": "delivered"}, "o"
    )
    refund = {"refund_id": 4, "case_id": None, "order_number": "SO-1", "status": "succeeded"}
    publish(db, "refund.settled", refund | {"amount": "398.00", "currency": "CNY", "customer_id": cid}, "r")
    outbox.drain(db)
    delivered, refunded = inbox_rows(db)
    assert (delivered.subject, delivered.link) == ("订单 SO-1 已送达", "/orders/SO-1")
    assert refunded.subject == "退款 ¥398.00 已原路退回" and "原路退回" in refunded.body
    assert [m["Subject"] for m in smtp.messages] == [delivered.subject, refunded.subject]


def test_a_customer_without_an_email_address_gets_the_inbox_message_only(
    db: Database, factory: Factory, smtp: Relay
) -> None:
    cid = customer(factory, "C1", email="", locale="zh-CN", number="SO-1")
    publish(db, "case.status_changed", case_event(cid, "under_review", "awaiting_evidence"), "c")
    outbox.drain(db)
    assert [m.subject for m in inbox_rows(db)] == ["请为售后申请 AS20261102000001 补充凭证"]
    assert email_rows(db) == [] and smtp.messages == []


def test_two_deliveries_racing_on_one_event_leave_one_notice(
    db: Database, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    cid = customer(factory, "C1", email="li.na@example.com", locale="en", number="SO-1")
    params = {"order": "SO-1", "from": "paid", "to": "cancelled"}
    first = service.notify(db, cid, "order.status_changed", params, "race")
    assert first is not None and first.created
    # The second delivery checked before the first committed: its insert hits the unique key.
    real = service._existing
    calls: list[str] = []

    def late_check(database: Database, key: str) -> Any:
        calls.append(key)
        return None if len(calls) == 1 else real(database, key)

    monkeypatch.setattr(service, "_existing", late_check)
    second = service.notify(db, cid, "order.status_changed", params, "race")
    assert second is not None and not second.created
    assert (second.inbox_id, second.email_id) == (first.inbox_id, first.email_id)
    assert len(inbox_rows(db)) == 1 and len(email_rows(db)) == 1


def test_unknown_customers_are_skipped(db: Database, smtp: Relay) -> None:
    assert service.notify(db, 999_999, "order.status_changed", {"order": "X", "to": "shipped"}, "k") is None
    publish(db, "order.status_changed", {"order": "X", "customer_id": 999_999, "from": "paid", "to": "shipped"}, "k")
    assert outbox.drain(db) == 1 and inbox_rows(db) == []


def test_a_relay_that_does_not_answer_is_reported_once_then_tried_less_often(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    moment = [0.0]
    watch = mailer.RelayWatch(first=10, cap=40, now=lambda: moment[0])
    # The module's own logger, wrapped to record: capture_logs misses a logger that an earlier
    # test in the same process already cached; no level filter (the app may set one).
    capture = structlog.testing.LogCapture()
    recording = structlog.wrap_logger(None, processors=[capture], wrapper_class=structlog.BoundLogger)
    monkeypatch.setattr(mailer, "log", recording)
    logs = capture.entries
    watch.failed("smtp:25", "refused")
    with pytest.raises(mailer.Unreachable):
        watch.check("smtp:25")  # inside the back-off nothing connects
    waits = []
    for _ in range(4):
        moment[0] += 1000
        watch.check("smtp:25")
        watch.failed("smtp:25", "refused")
        waits.append(watch._down["smtp:25"][0])
    watch.answered("smtp:25")
    watch.check("smtp:25")
    assert waits == [20, 40, 40, 40]  # doubling, capped
    warnings = [e for e in logs if e["log_level"] == "warning"]
    assert [e["event"] for e in warnings] == ["notifications.smtp_unreachable"]
    assert [e["event"] for e in logs if e["log_level"] == "info"] == ["notifications.smtp_recovered"]
