"""Demo service desk: agents on shift and tickets from the web form, the API and phone notes,
opened through the tickets service so classification, priority, SLA clocks and routing all apply."""

from __future__ import annotations

import random
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from aftersales.db.uow import Database
from aftersales.identity import service as identity
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import AppError
from aftersales.kit.pagination import PageRequest
from aftersales.orders import service as shop
from aftersales.routing import service as routing
from aftersales.tickets import service as tickets
from aftersales.tickets.domain import Channel, MessageKind, TicketStatus
from aftersales.tickets.email import inbound as mail
from aftersales.tickets.schemas import MessageIn, TicketIn

APP = Principal(user_id=0, username="demo-app", role=Role.INTEGRATION, display_name="App")
ON_SHIFT = ("agent1", "agent2", "supervisor", "merchant")

# (text, needs an order, channel): what customers really write, in both languages.
STORIES: list[tuple[str, str, Channel]] = [
    ("物流三天没更新了", "快递三天没动了，到底什么时候能到？订单{order}", Channel.WEB),
    ("杯子碎了", "刚收到货，杯子碎了两个，外箱都压扁了，订单{order}", Channel.API),
    ("发错颜色", "我买的是黑色，收到的是白色，订单{order}，请尽快处理", Channel.WEB),
    ("少发一件", "订单{order}少发了一件，只收到一个包裹", Channel.PHONE),
    ("投诉客服态度", "你们客服态度太差了，问了三次都不理人，再不解决我就打12315投诉！订单{order}", Channel.WEB),
    ("赠品没送", "下单时说好送赠品的，结果没有，订单{order}", Channel.API),
    ("奶瓶漏水", "宝宝的奶瓶漏水，这是质量问题，太危险了，订单{order}", Channel.WEB),
    ("Invoice please", "Hi, how do I get a VAT invoice for order {order}? Thanks", Channel.API),
    ("Headphones broken", "My headphones stopped working after two days. Order {order}.", Channel.WEB),
    ("Parcel late", "Where is my parcel? It was due three days ago. Order {order}", Channel.API),
    ("Refund not received", "I was promised a refund within 3 days but still nothing. Order {order}", Channel.PHONE),
    ("包装太差", "包装就一个塑料袋，东西都刮花了，订单{order}", Channel.WEB),
    ("怎么开发票", "请问怎么开发票？", Channel.WEB),
    ("Rude driver", "The delivery guy was rude and threw the box at my door. Order {order}", Channel.API),
    ("保价", "买了三天就降价了，能补差价吗？订单{order}", Channel.WEB),
]


def seed_tickets(db: Database, rng: random.Random) -> int:
    """Put the demo staff on shift and open the story tickets; a few get a first reply."""
    routing.ensure_defaults(db)
    for username in ON_SHIFT:
        principal = identity.principal_for_username(db, username)
        if principal is not None:
            routing.change_status(db, principal, routing.AgentStatus.ONLINE)
    orders = shop.search_orders(db, APP, "", PageRequest(1, 100), "delivered").items
    phone_agent = identity.principal_for_username(db, "agent1") or APP
    made = 0
    for i, (subject, body, channel) in enumerate(STORIES):
        order = rng.choice(orders) if orders and "{order}" in body else None
        data = TicketIn(
            subject=subject,
            body=body.format(order=order.number if order else ""),
            channel=channel,
            order_number=order.number if order else "",
            requester_name=order.customer_name if order else "访客",
            requester_email="" if order else "guest@example.com",
        )
        try:
            ticket = tickets.open_ticket(
                db, data, phone_agent if channel is Channel.PHONE else APP, idempotency_key=f"demo-{i}"
            )
        except AppError:
            continue
        made += 1
        if i % 4 == 3 and ticket.assignee_user_id:
            agent = identity.principal_for_user_id(db, ticket.assignee_user_id)
            if agent is not None:
                tickets.post_message(
                    db,
                    ticket.number,
                    MessageIn(body="您好，已收到，正在为您处理。", kind=MessageKind.REPLY, then=TicketStatus.PENDING),
                    agent,
                )
    for i, (sender, subject, body) in enumerate(EMAILS):
        raw = EmailMessage()
        raw["From"], raw["To"], raw["Subject"] = sender, "support@aftersales.localhost", subject
        raw["Date"], raw["Message-ID"] = formatdate(localtime=True), make_msgid(f"demo{i}", "mail.example.com")
        raw.set_content(body)
        if mail.receive_email(db, raw.as_bytes()).created:
            made += 1
    return made


# Mail the support address receives (through `aftersales mail-in` in a real shop).
EMAILS = [
    (
        "王先生 <wang.demo@example.com>",
        "发票抬头开错了",
        "你好，我上周的订单发票抬头写错了，公司名称应为上海某某科技有限公司，麻烦重开。",
    ),
    (
        "Emma Clark <emma.demo@example.com>",
        "Wrong size delivered",
        "Hello, I ordered size M but received XL. Can you send the right one?",
    ),
]
