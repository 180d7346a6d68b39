"""SMS for governed messages through Twilio's REST API, against a stand-in server on 127.0.0.1
that checks what Twilio checks (the path, basic auth, the form) and answers as Twilio does: the
message goes once; a busy provider is retried 1 m, 5 m, 30 m, 2 h, 6 h; a bad number fails for
good; a proactive notice still unsent after 24 h becomes a dead letter."""

from __future__ import annotations

import base64
import json
import threading
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select, text

from aftersales.config import reset_settings
from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.kit.vocabulary import MessageClass
from aftersales.notifications import service
from aftersales.notifications.models import SmsMessage
from aftersales.notifications.sms import SimulatedSms, TwilioSms
from aftersales.orders import service as orders

from ..factories import Factory

MORNING = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
SID, TOKEN = "AC0123456789abcdef0123456789abcdef", "secret-token"


class StandIn(BaseHTTPRequestHandler):
    """Twilio's Messages resource, as documented: 201 with a sid, or an error with a code."""

    received: list[dict[str, Any]] = []
    answers: list[tuple[int, dict[str, Any]]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
        expected = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
        if self.path != f"/2010-04-01/Accounts/{SID}/Messages.json" or self.headers["Authorization"] != expected:
            self._answer(401, {"code": 20003, "message": "Authenticate", "status": 401})
            return
        type(self).received.append({**form, "key": self.headers.get("I-Twilio-Idempotency-Token")})
        status, body = type(self).answers.pop(0) if type(self).answers else (201, {})
        if status == 201:
            body = {"sid": f"SM{len(type(self).received):032d}", "status": "queued", "to": form["To"], **body}
        self._answer(status, body)

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def twilio() -> Iterator[TwilioSms]:
    StandIn.received, StandIn.answers = [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield TwilioSms(SID, TOKEN, "+15005550006", base_url=f"http://127.0.0.1:{server.server_address[1]}", timeout=5)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def sms_on(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AFTERSALES_SMS_PROVIDER", "simulated")
    reset_settings()
    with clock.frozen_at(MORNING):
        yield
    reset_settings()


def buyer(factory: Factory, phone: str = "13800138000") -> int:
    factory.catalogue()
    factory.put_order(number="SO-1", customer="C1", phone=phone)
    customer_id = orders.customer_id_for(factory.db, "C1")
    assert customer_id is not None
    with factory.db.write() as uow:
        uow.session.execute(text("UPDATE customers SET locale = 'zh-CN' WHERE id = :id"), {"id": customer_id})
        uow.commit()
    return customer_id


def tell(db: Database, customer_id: int, key: str) -> Any:
    params = {"order": "SO-1", "order_number": "SO-1", "from": "paid", "to": "shipped"}
    return service.notify(
        db, customer_id, "order.status_changed", params, key, message_class=MessageClass.SERVICE_PROACTIVE
    )


def sms_rows(db: Database) -> list[SmsMessage]:
    with db.read() as uow:
        return list(uow.session.scalars(select(SmsMessage).order_by(SmsMessage.id)))


def test_a_proactive_notice_goes_once_by_sms_through_twilio_with_how_to_opt_out(
    db: Database, factory: Factory, twilio: TwilioSms
) -> None:
    cid = buyer(factory)
    tell(db, cid, "incident:1")
    # Status notices never go by SMS: the channel is for governed messages only.
    service.notify(db, cid, "order.status_changed", {"order": "SO-1", "from": "paid", "to": "shipped"}, "order:1")
    report = service.send_due_sms(db, twilio)
    assert report.sent == 1
    [sent] = StandIn.received
    assert sent["To"] == "13800138000" and sent["From"] == "+15005550006" and sent["key"] == "incident:1"
    assert sent["Body"].startswith("【") and sent["Body"].endswith("回复TD退订") and "SO-1" in sent["Body"]
    [row] = sms_rows(db)
    assert (row.status, row.attempts, row.sent_at, row.provider_id) == ("sent", 1, MORNING, f"SM{1:032d}")
    assert service.send_due_sms(db, twilio).sent == 0 and len(StandIn.received) == 1


def test_a_busy_provider_is_retried_on_the_schedule_then_given_up(
    db: Database, factory: Factory, twilio: TwilioSms
) -> None:
    cid = buyer(factory)
    tell(db, cid, "incident:1")
    StandIn.answers = [(503, {"code": 20500, "message": "Internal Server Error"})] * 6
    waits = []
    for _ in range(6):
        report = service.send_due_sms(db, twilio)
        [row] = sms_rows(db)
        if row.next_attempt_at is None:
            break
        waits.append(clock.ensure_utc(row.next_attempt_at) - clock.now())
        assert service.send_due_sms(db, twilio).retrying == 0  # not due yet
        clock.advance(waits[-1])
    assert waits == [
        timedelta(minutes=1),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(hours=6),
    ]
    assert report.failed == 1 and row.status == "failed" and row.attempts == 6 and "20500" in row.last_error


def test_a_bad_number_fails_at_once_and_a_day_old_proactive_sms_is_a_dead_letter(
    db: Database, factory: Factory, twilio: TwilioSms
) -> None:
    cid = buyer(factory)
    tell(db, cid, "incident:1")
    StandIn.answers = [(400, {"code": 21211, "message": "The 'To' number is not a valid phone number."})]
    assert service.send_due_sms(db, twilio).failed == 1
    assert sms_rows(db)[0].status == "failed"
    clock.advance(timedelta(hours=1))
    tell(db, cid, "incident:2")
    simulated = SimulatedSms()
    with db.write() as uow:  # the gateway was away for a day
        uow.session.execute(
            text("UPDATE sms_messages SET next_attempt_at = :later WHERE status = 'queued'"),
            {"later": MORNING + timedelta(days=2)},
        )
        uow.commit()
    clock.advance(timedelta(days=2))
    report = service.send_due_sms(db, simulated)
    assert (report.dead, report.sent) == (1, 0) and simulated.sent == []
    assert [r.status for r in sms_rows(db)] == ["failed", "dead"]


def test_the_buyer_who_replied_td_gets_no_more_sms_but_still_the_inbox(db: Database, factory: Factory) -> None:
    cid = buyer(factory)
    assert service.sms_reply(db, cid, "TD")
    result = tell(db, cid, "incident:1")
    assert result.outcome == "send" and result.inbox_id is not None
    assert sms_rows(db) == []


def test_wrong_credentials_are_retried_not_dropped(db: Database, factory: Factory, twilio: TwilioSms) -> None:
    cid = buyer(factory)
    tell(db, cid, "incident:1")
    wrong = TwilioSms(SID, "not-the-token", "+15005550006", base_url=twilio.base_url, timeout=5)
    assert service.send_due_sms(db, wrong).retrying == 1
    assert sms_rows(db)[0].status == "queued" and "401" in sms_rows(db)[0].last_error
