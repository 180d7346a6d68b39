"""The email channel against real local mail servers: our gateway (aiosmtpd on 127.0.0.1) takes a
customer's mail over SMTP and a ticket exists, classified, with its attachment; the agent's reply
leaves through the outbox to the app's SMTP relay (a second aiosmtpd) threaded on the customer's
Message-ID; the customer's answer to it lands on the same ticket and reopens it; the same mail twice
is one message; auto-replies, bounces and our own mail are dropped; a database that is away gets
451 (the sender retries) and an oversized mail 552."""

from __future__ import annotations

import base64
import smtplib
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import select, text, update

from aftersales.config import reset_settings
from aftersales.db.uow import Database
from aftersales.identity import service as identity
from aftersales.kit import clock
from aftersales.kit.access import Principal
from aftersales.messaging import outbox
from aftersales.messaging.models import OutboxMessage
from aftersales.orders import service as orders
from aftersales.routing import service as routing
from aftersales.sla import service as sla
from aftersales.tickets import classification, handlers
from aftersales.tickets import email as ticket_email
from aftersales.tickets import service as tickets
from aftersales.tickets.domain import MessageKind, TicketAction, TicketStatus
from aftersales.tickets.mail_gateway import MailGateway
from aftersales.tickets.models import Ticket, TicketAttachment, TicketLink, TicketMessage
from aftersales.tickets.schemas import ActionIn, MessageIn
from aftersales.understanding import service as understanding

from ..factories import Factory, Role
from .helpers import delivered_order

NOW = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
ORDER = "SO261102000123"
SHOP = "Shop Service <service@shop.example.com>"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


# --- real SMTP servers ---------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Sink:
    """The app's SMTP relay: keeps every mail it accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        parsed = message_from_bytes(envelope.original_content or b"", policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"


class Relay:
    def __init__(self) -> None:
        self.port = free_port()
        self.sink = Sink()
        self._controller: Controller | None = None

    def start(self) -> Relay:
        self._controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def relay(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Relay]:
    server = Relay()
    monkeypatch.setenv("AFTERSALES_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("AFTERSALES_SMTP_PORT", str(server.port))
    monkeypatch.setenv("AFTERSALES_SMTP_FROM", SHOP)
    monkeypatch.setenv("AFTERSALES_SMTP_TIMEOUT_SECONDS", "5")
    monkeypatch.setenv("AFTERSALES_UPLOAD_DIR", str(tmp_path / "uploads"))
    reset_settings()
    try:
        yield server
    finally:
        server.stop()
        reset_settings()


@pytest.fixture
def gateway(db: Database, relay: Relay) -> Iterator[MailGateway]:
    understanding.load_model()  # as `aftersales mail-in` does before it listens
    classification.warm_up()
    with MailGateway(db, "127.0.0.1", free_port()) as running:
        yield running


@pytest.fixture(autouse=True)
def only_ticket_handlers(monkeypatch: pytest.MonkeyPatch, no_outbox_kick: None) -> Iterator[None]:
    """The tickets context's handlers alone listen; the test drains the outbox itself; the clock
    stands still on a Monday morning in Shanghai (the gateway's threads read the same clock)."""
    monkeypatch.setattr(outbox, "_handlers", {})
    monkeypatch.setattr(handlers, "_registered", False)
    handlers.register()
    with clock.frozen_at(NOW):
        yield


@pytest.fixture
def agent(db: Database, factory: Factory) -> Principal:
    """A shop: the customer 李娜 (li.na@example.com) with a delivered order, an agent online, the
    default priority policies, SLA targets and routing groups."""
    from aftersales.rules import service as rules

    factory.catalogue()
    delivered_order(factory, db, ORDER, customer="C1")
    delivered_order(factory, db, "SO261102000999", customer="C2", customer_name="王伟")
    customer_id = orders.customer_id_for(db, "C1")
    with db.write() as uow:
        uow.session.execute(
            text("UPDATE customers SET email = :email WHERE id = :id"),
            {"email": "Li.Na@example.com", "id": customer_id},
        )
        uow.commit()
    factory.user("agent1", Role.AGENT_T1)
    rules.load_defaults(db)
    sla.load_defaults(db)
    routing.ensure_defaults(db)
    found = identity.principal_for_username(db, "agent1")
    assert found is not None
    routing.change_status(db, found, routing.AgentStatus.ONLINE)
    return found


def customer_mail(
    body: str,
    *,
    subject: str = "杯子碎了",
    message_id: str = "<c1@mail.example.com>",
    sender: str = "李娜 <li.na@example.com>",
    in_reply_to: str = "",
    references: str = "",
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "service@shop.example.com"
    msg["Subject"] = subject
    if message_id:
        msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = references or in_reply_to
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    return msg


def send(gateway: MailGateway, msg: EmailMessage, envelope_from: str | None = None) -> tuple[int, bytes]:
    """Through smtplib, as a mail server would; returns the gateway's answer to the data."""
    with smtplib.SMTP(gateway.host, gateway.port, timeout=120) as conn:
        conn.ehlo()
        sender = envelope_from if envelope_from is not None else msg["From"].addresses[0].addr_spec
        code, reply = conn.mail(sender)
        assert code == 250, reply
        code, reply = conn.rcpt("service@shop.example.com")
        assert code == 250, reply
        return conn.data(msg.as_bytes())


def ticket_rows(db: Database) -> list[Ticket]:
    with db.read() as uow:
        return list(uow.session.scalars(select(Ticket).order_by(Ticket.id)))


def messages_of(db: Database, number: str) -> list[TicketMessage]:
    with db.read() as uow:
        return list(
            uow.session.scalars(
                select(TicketMessage)
                .join(Ticket, Ticket.id == TicketMessage.ticket_id)
                .where(Ticket.number == number)
                .order_by(TicketMessage.id)
            )
        )


# --- the journey -----------------------------------------------------------------------------------------
def test_email_in_ticket_reply_out_and_the_answer_threads_back(
    db: Database, agent: Principal, relay: Relay, gateway: MailGateway
) -> None:
    relay.start()
    first = customer_mail(f"你好，订单 {ORDER} 收到的杯子碎了，请帮我退货。\n\n-- \n李娜")
    first.add_attachment(PNG, maintype="image", subtype="png", filename="破损.png")
    code, reply = send(gateway, first)
    assert code == 250 and b"Ticket TK" in reply

    [ticket] = ticket_rows(db)
    assert (ticket.channel, ticket.status, ticket.requester_email) == ("email", "new", "li.na@example.com")
    assert ticket.customer_id == orders.customer_id_for(db, "C1")
    assert ticket.order_number == ORDER  # the customer's own order, found in the text
    assert ticket.subject == "杯子碎了"
    assert ticket.responsibility and ticket.scenario and ticket.auto_classification  # classified on arrival
    assert ticket.entities.get("order_number") == ORDER
    [message] = messages_of(db, ticket.number)
    assert (message.kind, message.channel, message.email_message_id) == ("customer", "email", "<c1@mail.example.com>")
    assert message.body == f"你好，订单 {ORDER} 收到的杯子碎了，请帮我退货。"
    assert message.author_name == "李娜"
    with db.read() as uow:
        [attachment] = uow.session.scalars(select(TicketAttachment)).all()
    assert (attachment.filename, attachment.content_type, attachment.size) == ("破损.png", "image/png", len(PNG))
    assert Path(attachment.path).read_bytes() == PNG
    assert Path(attachment.path).parent == ticket_email.ticket_folder(ticket.number)

    # The agent answers and waits for the customer; the outbox sends the reply through the relay.
    tickets.post_message(db, ticket.number, MessageIn(body="已为您安排上门取件。", then=TicketStatus.PENDING), agent)
    outbox.drain(db)
    [sent] = relay.sink.messages
    assert sent["To"] == "李娜 <li.na@example.com>"
    assert sent["From"] == SHOP
    assert sent["Subject"] == f"Re: 杯子碎了 [{ticket.number}]"
    assert sent["In-Reply-To"] == "<c1@mail.example.com>"
    assert sent["References"] == "<c1@mail.example.com>"
    body = sent.get_content()
    assert body.startswith("已为您安排上门取件。") and ticket.number in body
    ours = sent["Message-ID"]
    assert ours.endswith("@shop.example.com>")
    reply_row = messages_of(db, ticket.number)[-1]
    assert (reply_row.kind, reply_row.email_message_id) == ("reply", ours)

    # The customer answers our mail from her mail client: the same ticket, reopened.
    answer = customer_mail(
        f"还是没人来取件。\n\n在 2026年11月2日 10:00，{SHOP} 写道：\n> 已为您安排上门取件。",
        subject=f"回复: Re: 杯子碎了 [{ticket.number}]",
        message_id="<c2@mail.example.com>",
        in_reply_to=ours,
        references=f"<c1@mail.example.com> {ours}",
    )
    assert send(gateway, answer)[0] == 250
    assert len(ticket_rows(db)) == 1
    rows = messages_of(db, ticket.number)
    assert [(m.kind, m.body) for m in rows] == [
        ("customer", message.body),
        ("reply", "已为您安排上门取件。"),
        ("customer", "还是没人来取件。"),
    ]
    assert ticket_rows(db)[0].status == TicketStatus.OPEN.value

    # The sending server retries the same mail: nothing changes.
    code, reply = send(gateway, answer)
    assert code == 250 and b"Already received" in reply
    assert len(messages_of(db, ticket.number)) == 3

    # The second reply is threaded on the whole conversation.
    tickets.post_message(db, ticket.number, MessageIn(body="快递员明天上午到。"), agent)
    outbox.drain(db)
    second = relay.sink.messages[-1]
    assert second["In-Reply-To"] == "<c2@mail.example.com>"
    assert second["References"].split() == ["<c1@mail.example.com>", ours, "<c2@mail.example.com>"]

    # The outbox delivers the reply events again (a worker died before recording them): no resend.
    with db.write() as uow:
        uow.session.execute(update(OutboxMessage).values(delivered_at=None))
        uow.commit()
    clock.advance(outbox.LEASE)
    outbox.drain(db)
    assert len(relay.sink.messages) == 2


def test_auto_replies_bounces_and_our_own_mail_make_no_ticket(
    db: Database, agent: Principal, relay: Relay, gateway: MailGateway
) -> None:
    out_of_office = customer_mail("我在休假", subject="自动回复: 杯子碎了", headers={"Auto-Submitted": "auto-replied"})
    code, reply = send(gateway, out_of_office)
    assert code == 250 and b"not a ticket" in reply
    bulk = customer_mail("newsletter", message_id="<n@x>", headers={"Precedence": "bulk"})
    assert send(gateway, bulk)[0] == 250
    bounce = customer_mail("Delivery failed", message_id="<b@x>")
    assert send(gateway, bounce, envelope_from="")[0] == 250  # MAIL FROM:<>
    ours = customer_mail("loop", message_id="<o@x>", sender=SHOP)
    assert send(gateway, ours)[0] == 250
    assert ticket_rows(db) == []


def test_a_strangers_mail_opens_a_ticket_without_someone_elses_order(
    db: Database, agent: Principal, relay: Relay, gateway: MailGateway
) -> None:
    stranger = customer_mail(
        "Order SO261102000999 is broken, refund me", sender="Eve <eve@example.net>", subject="Re: Broken"
    )
    assert send(gateway, stranger)[0] == 250
    # A known customer naming another customer's order: the ticket opens, the order is not linked.
    nosy = customer_mail("订单 SO261102000999 的杯子碎了", message_id="<c9@mail.example.com>")
    assert send(gateway, nosy)[0] == 250
    eve, lina = ticket_rows(db)
    assert (eve.customer_id, eve.order_number, eve.subject, eve.requester_name) == (None, "", "Broken", "Eve")
    assert lina.customer_id == orders.customer_id_for(db, "C1") and lina.order_number == ""


def test_subject_number_threads_only_for_the_requester_and_closed_tickets_get_a_follow_up(
    db: Database, agent: Principal, relay: Relay, gateway: MailGateway
) -> None:
    send(gateway, customer_mail(f"订单 {ORDER} 的杯子碎了"))
    [ticket] = ticket_rows(db)
    # No headers to thread by (a new mail typed with the number), from the requester: the same ticket.
    by_number = customer_mail("补充照片", subject=f"[{ticket.number}] 补充", message_id="<c3@mail.example.com>")
    send(gateway, by_number)
    assert len(ticket_rows(db)) == 1 and len(messages_of(db, ticket.number)) == 2
    # The same number from someone else: a ticket of its own.
    other = customer_mail("hello", subject=f"[{ticket.number}]", message_id="<e1@x>", sender="eve@example.net")
    send(gateway, other)
    assert len(ticket_rows(db)) == 2

    tickets.act(db, ticket.number, ActionIn(action=TicketAction.CLOSE, reason="done"), agent)
    late = customer_mail("又碎了一个", message_id="<c4@mail.example.com>", in_reply_to="<c1@mail.example.com>")
    assert send(gateway, late)[0] == 250
    follow_up = ticket_rows(db)[-1]
    assert follow_up.number != ticket.number and follow_up.channel == "email"
    assert follow_up.customer_id == ticket.customer_id and follow_up.order_number == ORDER
    with db.read() as uow:
        link = uow.session.scalar(select(TicketLink).where(TicketLink.ticket_id == follow_up.id))
    assert link is not None and link.other_ticket_id == ticket.id


def test_the_reply_waits_while_the_relay_is_down_and_goes_once(
    db: Database, agent: Principal, relay: Relay, gateway: MailGateway
) -> None:
    send(gateway, customer_mail("杯子碎了"))
    [ticket] = ticket_rows(db)
    tickets.post_message(db, ticket.number, MessageIn(body="马上处理"), agent)
    outbox.drain(db)  # nobody listens on the relay's port yet
    with db.read() as uow:
        pending = uow.session.scalars(select(OutboxMessage).where(OutboxMessage.topic == "tickets.public_reply")).one()
    assert pending.delivered_at is None and pending.attempts == 1 and "ReplyDeferred" in pending.last_error
    assert messages_of(db, ticket.number)[-1].email_message_id is None

    relay.start()
    clock.advance(outbox.LEASE)
    outbox.drain(db)
    [sent] = relay.sink.messages
    assert messages_of(db, ticket.number)[-1].email_message_id == sent["Message-ID"]
    # A note from an agent never leaves by email.
    tickets.post_message(db, ticket.number, MessageIn(body="内部备注", kind=MessageKind.NOTE), agent)
    outbox.drain(db)
    assert len(relay.sink.messages) == 1


def test_a_database_that_is_away_gets_451_and_an_oversized_mail_552(db: Database, relay: Relay, tmp_path: Path) -> None:
    away = Database(f"sqlite:///{tmp_path / 'missing' / 'nowhere.db'}")
    with MailGateway(away, "127.0.0.1", free_port()) as broken:
        code, reply = send(broken, customer_mail("杯子碎了"))
    assert code == 451 and b"try again later" in reply

    with MailGateway(db, "127.0.0.1", free_port()) as running, smtplib.SMTP(running.host, running.port) as conn:
        conn.ehlo()
        assert conn.has_extn("size") and int(conn.esmtp_features["size"]) == 25 * 1024 * 1024
        code, _ = conn.mail("li.na@example.com", options=[f"SIZE={26 * 1024 * 1024}"])
        assert code == 552
    assert ticket_rows(db) == []


def test_the_same_mail_at_once_from_two_deliveries_is_one_message(db: Database, agent: Principal, relay: Relay) -> None:
    """Two MTAs (or a retry racing the first try) hand over the same mail at the same moment."""
    from concurrent.futures import ThreadPoolExecutor

    understanding.load_model()
    classification.warm_up()
    raw = customer_mail("杯子碎了", message_id="<race@mail.example.com>").as_bytes()
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: ticket_email.receive_email(db, raw), range(2)))
    assert sorted((r.created, r.duplicate) for r in results) == [(False, True), (True, False)]
    assert results[0].ticket_number == results[1].ticket_number
    [ticket] = ticket_rows(db)
    assert len(messages_of(db, ticket.number)) == 1


def test_a_mail_without_message_id_is_received_once(db: Database, agent: Principal, relay: Relay) -> None:
    msg = customer_mail("没有 Message-ID 的邮件", message_id="")
    first = ticket_email.receive_email(db, msg.as_bytes())
    again = ticket_email.receive_email(db, msg.as_bytes())
    assert first.created and again.duplicate and again.ticket_number == first.ticket_number
    [message] = messages_of(db, first.ticket_number)
    assert message.email_message_id is not None and message.email_message_id.startswith("<digest.")


# --- who sent it: the address, not the display name; joining a ticket ----------------------------------
AUTH_FAIL = (
    "mx.shop.example.com; spf=fail (1.2.3.4 is not allowed) smtp.mailfrom=example.com;"
    " dkim=none; dmarc=fail (p=reject) header.from=example.com"
)


def raw_mail(from_header: str, body: str, *, subject: str = "杯子碎了", message_id: str, extra: str = "") -> bytes:
    """A mail written byte by byte: headers exactly as an attacker would type them."""
    head = (
        f"From: {from_header}\r\nTo: service@shop.example.com\r\nSubject: {subject}\r\nMessage-ID: {message_id}\r\n"
        f"{extra}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
    )
    return head.encode() + body.encode() + b"\r\n"


def send_raw(gateway: MailGateway, raw: bytes, envelope_from: str) -> tuple[int, bytes]:
    with smtplib.SMTP(gateway.host, gateway.port, timeout=120) as conn:
        conn.ehlo()
        assert conn.mail(envelope_from)[0] == 250
        assert conn.rcpt("service@shop.example.com")[0] == 250
        return conn.data(raw)


def encoded(text: str) -> str:
    return f"=?utf-8?b?{base64.b64encode(text.encode()).decode()}?="


def test_an_encoded_display_name_holding_a_customers_address_files_as_the_real_sender(
    db: Database, agent: Principal, relay: Relay, gateway: MailGateway
) -> None:
    # The display name decodes to 李娜's address; the address in the header is Eve's.
    forged = raw_mail(
        f"{encoded('li.na@example.com')} <eve@evil.example>",
        f"订单 {ORDER} 的退款请改打到我的新账户",
        message_id="<f1@evil.example>",
    )
    assert send_raw(gateway, forged, "eve@evil.example")[0] == 250
    [ticket] = ticket_rows(db)
    assert (ticket.requester_email, ticket.customer_id, ticket.order_number) == ("eve@evil.example", None, "")
    assert ticket.requester_verified is False
    [message] = messages_of(db, ticket.number)
    assert message.email_from == "eve@evil.example"


def test_a_forged_sender_with_the_victims_ticket_number_opens_a_linked_ticket(
    db: Database, agent: Principal, relay: Relay, gateway: MailGateway
) -> None:
    send(gateway, customer_mail(f"订单 {ORDER} 的杯子碎了"))
    [victim] = ticket_rows(db)
    # The display-name trick with the (sequential, guessable) ticket number in the subject.
    trick = raw_mail(
        f"{encoded('李娜 <li.na@example.com>')} <eve@evil.example>",
        "退款请打到新账户",
        subject=f"Re: [{victim.number}]",
        message_id="<f2@evil.example>",
    )
    assert send_raw(gateway, trick, "eve@evil.example")[0] == 250
    # A plain forged From with the victim's address, which the shop's MTA found failing DMARC.
    spoof = raw_mail(
        "李娜 <li.na@example.com>",
        "退款请打到新账户",
        subject=f"Re: [{victim.number}]",
        message_id="<f3@evil.example>",
        extra=f"Authentication-Results: {AUTH_FAIL}\r\nAuthentication-Results: evil.example; dmarc=pass\r\n",
    )
    assert send_raw(gateway, spoof, "li.na@example.com")[0] == 250

    assert len(messages_of(db, victim.number)) == 1  # nothing posted into the victim's ticket
    assert victim.requester_verified is True
    _, by_trick, by_spoof = ticket_rows(db)
    for ticket in (by_trick, by_spoof):
        assert (ticket.customer_id, ticket.order_number, ticket.requester_verified) == (None, "", False)
        with db.read() as uow:
            link = uow.session.scalar(select(TicketLink).where(TicketLink.ticket_id == ticket.id))
        assert link is not None and link.other_ticket_id == victim.id
        note = [m for m in messages_of(db, ticket.number) if m.kind == MessageKind.NOTE.value]
        assert note and victim.number in note[0].body
    [spoofed] = [m for m in messages_of(db, by_spoof.number) if m.kind == "customer"]
    assert spoofed.email_from == "li.na@example.com"
    # The topmost header (the shop's MTA) counts; the one the sender wrote below it does not.
    assert spoofed.email_auth == {"authserv_id": "mx.shop.example.com", "spf": "fail", "dkim": "none", "dmarc": "fail"}


def test_a_reply_joins_only_from_the_requester_or_a_participant(
    db: Database, agent: Principal, relay: Relay, gateway: MailGateway
) -> None:
    first = customer_mail("杯子碎了", headers={"Cc": "王伟 <wang.wei@example.com>"})
    send(gateway, first)
    [ticket] = ticket_rows(db)
    # Someone copied on the conversation answers it: the same ticket.
    copied = customer_mail(
        "我是她家人，补充一下地址",
        sender="王伟 <wang.wei@example.com>",
        message_id="<w1@example.com>",
        in_reply_to="<c1@mail.example.com>",
    )
    send(gateway, copied)
    # A stranger who copied the thread's headers: a new ticket, linked, nothing from the old one.
    stranger = customer_mail(
        "退款打到这个账户",
        sender="Eve <eve@evil.example>",
        message_id="<e2@evil.example>",
        in_reply_to="<c1@mail.example.com>",
    )
    send(gateway, stranger)
    rows = ticket_rows(db)
    assert len(rows) == 2
    assert [m.body for m in messages_of(db, ticket.number)] == ["杯子碎了", "我是她家人，补充一下地址"]
    assert [m.email_from for m in messages_of(db, ticket.number)] == ["li.na@example.com", "wang.wei@example.com"]
    assert messages_of(db, ticket.number)[0].email_recipients == ["wang.wei@example.com"]  # our address left out
    eve = rows[1]
    assert (eve.requester_email, eve.customer_id, eve.requester_verified) == ("eve@evil.example", None, False)
    with db.read() as uow:
        assert uow.session.scalar(select(TicketLink).where(TicketLink.ticket_id == eve.id)) is not None
