"""Demo service desk: agents on shift and tickets from the web form, the API, phone notes and
email, opened through the tickets service so classification, priority, SLA clocks and routing all
apply. Each ticket speaks of goods its order holds and happens at its own moment: most of the
past weeks' tickets are answered and solved, today's queue has fresh tickets, some near their
first-response deadline and some past it."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from aftersales.db.uow import Database
from aftersales.identity import service as identity
from aftersales.kit import clock
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import AppError, Conflict
from aftersales.routing import service as routing
from aftersales.sla import admin as sla_admin
from aftersales.sla import service as sla
from aftersales.tickets import service as tickets
from aftersales.tickets.domain import Channel, MessageKind, TicketStatus
from aftersales.tickets.email import inbound as mail
from aftersales.tickets.schemas import MessageIn, TicketIn, TicketOut

from .catalogue import product_in_english
from .history import History, OrderFacts
from .timing import Past, living_the_past

APP = Principal(user_id=0, username="demo-app", role=Role.INTEGRATION, display_name="App")
ON_SHIFT = ("agent1", "agent3", "agent2", "supervisor", "merchant")
TRANSIT, DELIVERED, REFUND, NONE = "transit", "delivered", "refund", "none"


@dataclass(frozen=True, slots=True)
class Story:
    subject: str
    body: str  # {order} and {product} are filled from the order the ticket is about
    channel: Channel
    need: str  # which order it can be about: on the way, delivered, waiting for a refund, none
    fits: frozenset[str] = frozenset()  # category codes or SKU codes of the goods; empty: any goods


def _story(subject: str, body: str, channel: Channel, need: str, *fits: str) -> Story:
    return Story(subject, body, channel, need, frozenset(fits))


# What customers really write, in both languages, each about goods it can be about.
STORIES: list[Story] = [
    _story("物流三天没更新了", "快递三天没动了，{product}到底什么时候能到？订单{order}", Channel.WEB, TRANSIT),
    _story("Parcel late", "Where is my parcel? The {product} was due days ago. Order {order}", Channel.API, TRANSIT),
    _story("少发一件", "订单{order}少发了一件{product}，只收到一个包裹", Channel.PHONE, DELIVERED),
    _story(
        "投诉客服态度",
        "你们客服态度太差了，问了三次都不理人，再不解决我就打12315投诉！订单{order}",
        Channel.WEB,
        DELIVERED,
    ),
    _story("赠品没送", "下单时说好买{product}送赠品的，结果没有，订单{order}", Channel.API, DELIVERED),
    _story("奶瓶漏水", "宝宝的{product}漏水，这是质量问题，太危险了，订单{order}", Channel.WEB, DELIVERED, "PG-BOT240"),
    _story(
        "纸尿裤起坨", "这批{product}用了宝宝红屁股，还起坨，是不是假货？订单{order}", Channel.WEB, DELIVERED, "PP-L-52"
    ),
    _story("Invoice please", "Hi, how do I get a VAT invoice for order {order}? Thanks", Channel.API, DELIVERED),
    _story(
        "Headphones broken",
        "My {product} stopped working after two days. Order {order}.",
        Channel.WEB,
        DELIVERED,
        "HW-FB5-W",
        "HW-FB5-B",
    ),
    _story(
        "屏幕有亮点",
        "{product}屏幕有两个亮点，刚拆封就发现了，订单{order}",
        Channel.WEB,
        DELIVERED,
        "AP-IPA11-128",
        "AP-IPA11-256",
    ),
    _story(
        "Refund not received",
        "I was promised a refund within 3 days but still nothing. Order {order}",
        Channel.PHONE,
        REFUND,
    ),
    _story(
        "包装太差", "包装就一个塑料袋，{product}都刮花了，订单{order}", Channel.WEB, DELIVERED, "books", "electronics"
    ),
    _story(
        "车厘子坏了一半", "{product}到手一半都烂了，冰袋也化了，订单{order}", Channel.API, DELIVERED, "FR-CHERRY-25"
    ),
    _story(
        "发错颜色",
        "我买的是黑色，收到的{product}是白色，订单{order}，请尽快处理",
        Channel.WEB,
        DELIVERED,
        "US-TEE-XL",
        "US-DOWN-M",
    ),
    _story(
        "空调安装没人联系",
        "{product}到货三天了，安装师傅一直没联系我，订单{order}",
        Channel.PHONE,
        DELIVERED,
        "MD-AC15",
    ),
    _story("内胆磕坏了", "刚收到{product}，内胆磕了个坑，外箱都压扁了，订单{order}", Channel.API, DELIVERED, "SP-RC4"),
    _story("书页破损", "{product}有十几页印刷不清，还有折痕，订单{order}", Channel.WEB, DELIVERED, "books"),
    _story(
        "Rude driver", "The delivery guy was rude and threw the box at my door. Order {order}", Channel.API, DELIVERED
    ),
    _story(
        "保价",
        "{product}买了三天就降价了，能补差价吗？订单{order}",
        Channel.WEB,
        DELIVERED,
        "electronics",
        "home_appliances",
    ),
    _story("怎么开发票", "请问怎么开发票？", Channel.WEB, NONE),
]
# Where each ticket stands today: most of the weeks' tickets are solved; the rest is today's queue.
SOLVED, PENDING, FRESH, NEAR_BREACH, BREACHED = "solved", "pending", "fresh", "near_breach", "breached"
ROUNDS = [SOLVED] * 18 + [PENDING] * 4 + [FRESH] * 5 + [NEAR_BREACH] * 2 + [BREACHED] * 2
REPLY = "您好，已收到您的反馈，正在为您核实处理，有结果会第一时间告诉您。"
SOLVED_REPLY = "您好，已为您处理完毕：相关售后已提交，请留意短信与站内信通知。如还有问题可直接回复。"
REPLY_EN = "Hello, we have your message and are looking into it; we will tell you as soon as we know more."
SOLVED_REPLY_EN = (
    "Hello, it is taken care of: the after-sales request is submitted; watch for the text message and your "
    "inbox. Reply here if anything else is wrong."
)


def _in_english(text: str) -> bool:
    """A story or a ticket written in English (the demo's English customers write and are answered so)."""
    return text.isascii()


def seed_tickets(db: Database, history: History, rng: random.Random) -> int:
    """Put the demo staff on shift and live the desk's weeks: solved, pending and open tickets."""
    routing.ensure_defaults(db)
    sla_admin.load_defaults(db)  # the desk's clocks need their policies (migrate loads them too)
    for username in ON_SHIFT:
        principal = identity.principal_for_username(db, username)
        if principal is not None:
            routing.change_status(db, principal, routing.AgentStatus.ONLINE)
    desk = Desk(db, history, rng, identity.principal_for_username(db, "agent1") or APP)
    with living_the_past(db) as past:
        desk.past = past
        for n, state in enumerate(ROUNDS):
            desk.open(STORIES[n % len(STORIES)], state, n)
        for i, (sender, subject, body) in enumerate(EMAILS):
            desk.mail(i, sender, subject, body)
        with clock.frozen_at(history.now):
            sla.sweep(db, history.now)
    return desk.made


@dataclass(slots=True)
class Desk:
    db: Database
    history: History
    rng: random.Random
    phone_agent: Principal
    past: Past | None = None
    made: int = 0

    def _moment(self, story: Story, state: str) -> datetime:
        now = self.history.now
        if story.need == REFUND:  # asked about a refund still on its way: lately
            return now - timedelta(hours=self.rng.uniform(0.5, 5))
        if state == SOLVED:
            return now - timedelta(days=self.rng.uniform(1.5, 45))
        if state == PENDING:
            return now - timedelta(hours=self.rng.uniform(6, 40))
        return now - timedelta(minutes=self.rng.uniform(2, 15))

    def _order(self, story: Story, at: datetime) -> OrderFacts | None:
        def fits(o: OrderFacts) -> bool:
            if _in_english(o.customer.name) and not _in_english(story.subject):
                return False  # an English-speaking customer does not write in Chinese
            if story.fits and not story.fits & ({line.sku for line in o.lines} | o.categories):
                return False
            if story.need == TRANSIT:
                return o.on_the_way_at(at) and at - (o.first_scan_at or at) > timedelta(days=2)
            if story.need == REFUND:
                case = self.history.cases.get(o.number, "")
                moved = self.history.case_moved_at.get(case)
                waiting = self.history.case_status.get(case) in ("refunding", "refund_failed")
                return waiting and moved is not None and moved < at
            return o.delivered_at is not None and timedelta(hours=2) < at - o.delivered_at < timedelta(days=12)

        found = [o for o in self.history.orders if fits(o)]
        return self.rng.choice(found) if found else None

    def open(self, story: Story, state: str, n: int) -> TicketOut | None:
        at = self._moment(story, state)
        if state in (NEAR_BREACH, BREACHED):
            at = self._backdated(story, state) or at
        order = self._order(story, at) if story.need != NONE else None
        if story.need != NONE and order is None:
            return None
        product = (
            next((line.product for line in order.lines if story.fits & {line.sku, line.category}), None)
            if order
            else None
        )
        product = product or (order.first_product if order else "")
        if _in_english(story.subject):
            product = product_in_english(product)
        data = TicketIn(
            subject=story.subject,
            body=story.body.format(order=order.number if order else "", product=product),
            channel=story.channel,
            order_number=order.number if order else "",
            case_number=self.history.cases.get(order.number, "") if order and story.need == REFUND else "",
            requester_name=order.customer.name if order else "访客",
            requester_email="" if order else "guest@example.com",
        )
        assert self.past is not None
        try:
            with self.past.at(at):
                ticket = tickets.open_ticket(
                    self.db, data, self.phone_agent if story.channel is Channel.PHONE else APP, f"demo-{n}"
                )
        except AppError:
            return None
        self.made += 1
        if state in (SOLVED, PENDING):
            self._answer(ticket, at, solved=state == SOLVED)
        return ticket

    def _answer(self, ticket: TicketOut, opened: datetime, *, solved: bool) -> None:
        agent = identity.principal_for_user_id(self.db, ticket.assignee_user_id) if ticket.assignee_user_id else None
        if agent is None or self.past is None:
            return
        replied = opened + timedelta(minutes=self.rng.uniform(4, 25))
        then = TicketStatus.SOLVED if solved else TicketStatus.PENDING
        english = _in_english(ticket.subject)
        body = (SOLVED_REPLY_EN if english else SOLVED_REPLY) if solved else (REPLY_EN if english else REPLY)
        try:
            with self.past.at(replied):
                tickets.post_message(
                    self.db, ticket.number, MessageIn(body=body, kind=MessageKind.REPLY, then=then), agent
                )
        except Conflict:
            if solved:  # its case's refund failed: the ticket waits for the retry, it is not solved
                self._answer(ticket, opened, solved=False)
        except AppError:
            return

    def _backdated(self, story: Story, state: str) -> datetime | None:
        """A start whose first-response clock, by its own business calendar, has now run past its
        warning (near breach) or past its target (breached): opened a moment ago, a ticket like
        this one shows which calendar and targets apply."""
        probe = self._probe(story)
        clocks = [c for c in probe.clocks if c.metric == "first_response"] if probe else []
        if probe is None or not clocks or clocks[0].target_at is None:
            return None
        policy = next(
            (
                p
                for p in sla_admin.list_policies(self.db)
                if (p.ticket_type, p.priority, p.metric) == (probe.ticket_type, probe.priority, "first_response")
            ),
            None,
        )
        if policy is None:
            return None
        started = probe.created_at
        key = next(
            (
                c.key
                for c in sla_admin.list_calendars(self.db)
                if _same_minute(
                    sla_admin.preview_deadline(self.db, c.key, started, policy.target_minutes), clocks[0].target_at
                )
            ),
            None,
        )
        if key is None:
            return None
        warn = policy.target_minutes * policy.warn_percent // 100
        minutes = (warn + policy.target_minutes) // 2 if state == NEAR_BREACH else policy.target_minutes * 2
        return _latest_start(self.db, key, max(minutes, 1), self.history.now)

    def _probe(self, story: Story) -> TicketOut | None:
        """A fresh ticket of the same story, opened a few minutes ago."""
        return self.open(story, FRESH, 1000 + self.made)

    def mail(self, i: int, sender: str, subject: str, body: str) -> None:
        """Mail the support address received (through `aftersales mail-in` in a real shop)."""
        at = self.history.now - timedelta(minutes=self.rng.uniform(20, 50))
        raw = EmailMessage()
        raw["From"], raw["To"], raw["Subject"] = sender, "support@aftersales.localhost", subject
        raw["Date"], raw["Message-ID"] = format_datetime(at), make_msgid(f"demo{i}", "mail.example.com")
        raw.set_content(body)
        assert self.past is not None
        with self.past.at(at):
            if mail.receive_email(self.db, raw.as_bytes()).created:
                self.made += 1


def _same_minute(a: datetime, b: datetime) -> bool:
    return abs((clock.ensure_utc(a) - clock.ensure_utc(b)).total_seconds()) < 60


def _latest_start(db: Database, key: str, minutes: int, now: datetime) -> datetime:
    """The latest start from which `minutes` of business time on the calendar have passed by now."""
    low, high = now - timedelta(days=30), now
    for _ in range(32):
        middle = low + (high - low) / 2
        if clock.ensure_utc(sla_admin.preview_deadline(db, key, middle, minutes)) <= now:
            low = middle
        else:
            high = middle
    return low


# Mail the support address received this afternoon.
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
