"""Scripted chats against real orders on the real database (SQLite and PostgreSQL): the model
understands, the dialogue fills slots, the cases and self-service contexts act, and the messages
are stored. A return takes at most four customer turns, in Chinese and in English."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from aftersales.assistant import conversation as chat
from aftersales.assistant import handoff
from aftersales.assistant.models import ChatMessage, Conversation
from aftersales.assistant.schemas import MessageOut
from aftersales.cases import service as cases
from aftersales.cases.models import Case, OrderAction
from aftersales.db.uow import Database
from aftersales.identity import service as identity
from aftersales.kit import clock
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import Forbidden, Invalid, NotFound
from aftersales.kit.pagination import PageRequest
from aftersales.knowledge import service as knowledge
from aftersales.orders import service as orders
from aftersales.orders.schemas import LogisticsEventIn, OrderIn
from aftersales.rules import service as rules
from aftersales.tickets import service as tickets
from aftersales.web import i18n

from ..factories import FEED, Factory

HEADPHONES = [{"line_no": 1, "sku": "SKU-1", "quantity": 2, "unit_price": "199.00"}]
ONE_HEADPHONE = [{"line_no": 1, "sku": "SKU-1", "quantity": 1, "unit_price": "199.00"}]


@pytest.fixture(autouse=True)
def desk() -> None:
    handoff.bind(tickets)  # as main.create_app binds it


@pytest.fixture
def shop(factory: Factory, db: Database) -> Factory:
    rules.load_defaults(db)
    knowledge.load_articles(db)
    knowledge.clear_cache()
    factory.catalogue()
    return factory


def _order(
    shop: Factory,
    db: Database,
    number: str,
    *,
    status: str = "paid",
    delivered_days_ago: int | None = None,
    placed_days_ago: int = 9,
    lines: list[dict[str, Any]] | None = None,
    merchant: str = "selfop",
) -> None:
    """An order of customer C1 placed `placed_days_ago`, delivered when asked."""
    now = clock.now()
    shipped = delivered_days_ago is not None or status == "shipped"
    payload = shop.order_payload(
        number,
        status=status,
        merchant=merchant,
        lines=lines or HEADPHONES,
        updated_at=now - timedelta(days=placed_days_ago - 1),
        shipments=[{"carrier": "SF", "tracking_number": f"T{number}"}] if shipped else None,
    )
    payload["placed_at"] = payload["paid_at"] = (now - timedelta(days=placed_days_ago)).isoformat()
    total = sum(float(x["unit_price"]) * x["quantity"] for x in lines or HEADPHONES)
    payload["payments"] = [
        {"reference": f"P{number}", "method": "alipay", "amount": f"{total:.2f}", "paid_at": payload["paid_at"]}
    ]
    orders.upsert_order(db, OrderIn.model_validate(payload), FEED)
    if shipped:
        orders.record_logistics_event(
            db,
            LogisticsEventIn(
                event_id=f"P{number}",
                carrier="SF",
                tracking_number=f"T{number}",
                node="picked_up",
                occurred_at=now - timedelta(days=placed_days_ago - 1),
                place="上海仓",
            ),
            FEED,
        )
    if delivered_days_ago is not None:
        orders.record_logistics_event(
            db,
            LogisticsEventIn(
                event_id=f"E{number}",
                carrier="SF",
                tracking_number=f"T{number}",
                node="delivered",
                occurred_at=now - timedelta(days=delivered_days_ago),
            ),
            FEED,
        )


def _customer(shop: Factory, db: Database, username: str = "lina") -> Principal:
    user = shop.customer_user(username, "C1")
    found = identity.principal_for_user_id(db, user.id)
    assert found is not None
    return found


class Chat:
    """One customer's conversation, one message at a time, counting the customer's turns."""

    def __init__(self, db: Database, who: Principal, lang: str = "zh-CN") -> None:
        self.db, self.who = db, who
        self.conversation = chat.start_or_resume(db, who, lang)
        self.turns = 0

    def say(self, text: str = "", choice: str = "") -> list[MessageOut]:
        self.turns += 1
        said = chat.post_customer_message(self.db, self.who, self.conversation.id, text, choice=choice)
        assert said[0].sender == "customer"
        return said[1:]

    @staticmethod
    def keys(replies: list[MessageOut]) -> list[str]:
        return [m.key for m in replies]

    def buttons(self) -> dict[str, str]:
        return {b.value: b.label for b in chat.transcript(self.db, self.who, self.conversation.id).buttons}


def _count(db: Database, model: Any) -> int:
    with db.read() as uow:
        return uow.session.scalar(select(func.count()).select_from(model)) or 0


# --- returns in at most four turns ---------------------------------------------------------------
def test_english_return_of_the_headphones_bought_last_week(shop: Factory, db: Database) -> None:
    _order(shop, db, "SO-OLD", placed_days_ago=30, delivered_days_ago=27, lines=ONE_HEADPHONE, merchant="pop-b")
    _order(shop, db, "SO-HP", placed_days_ago=7, delivered_days_ago=4)
    _order(shop, db, "SO-NEW", status="paid", placed_days_ago=1)
    talk = Chat(db, _customer(shop, db), lang="zh-CN")

    replies = talk.say("I want to return the headphones I bought last week")
    assert talk.keys(replies) == ["chat.picked_order", "chat.ask_qty"]
    assert "SO-HP" in replies[0].text and replies[0].text.startswith("Got it")  # answered in English
    replies = talk.say("1")
    assert talk.keys(replies) == ["chat.ask_reason"]
    assert "reason:defect" in talk.buttons()
    replies = talk.say("it's too big")
    assert "chat.case.summary" in talk.keys(replies) and talk.keys(replies)[-1] == "chat.case.confirm"
    assert "¥199.00" in replies[0].text
    assert _count(db, Case) == 0  # nothing happens before the yes
    replies = talk.say("yes")
    assert talk.keys(replies)[0] == "chat.case.created"
    number = replies[0].link_label
    assert replies[0].link == f"/cases/{number}" and number.startswith("AS")
    assert talk.turns <= 4
    case = cases.get_case(db, number, talk.who)
    assert (case.order_number, case.kind, case.reason, case.submitted_via) == (
        "SO-HP",
        "return_refund",
        "changed_mind",
        "chat",
    )
    assert [(line.line_no, line.quantity) for line in case.lines] == [(1, 1)]


def test_chinese_return_with_buttons_in_three_turns(shop: Factory, db: Database) -> None:
    _order(shop, db, "SO-A", placed_days_ago=6, delivered_days_ago=3, lines=ONE_HEADPHONE)
    _order(shop, db, "SO-B", placed_days_ago=5, delivered_days_ago=2, lines=ONE_HEADPHONE, merchant="pop-a")
    talk = Chat(db, _customer(shop, db), lang="en")

    replies = talk.say("我要退货")
    assert talk.keys(replies) == ["chat.ask_order"]  # two delivered orders: ask, with buttons
    assert {"order:SO-A", "order:SO-B"} <= set(talk.buttons())
    replies = talk.say(choice="order:SO-B")
    assert talk.keys(replies) == ["chat.ask_reason"]
    assert "质量问题" in talk.buttons().values() or "reason:defect" in talk.buttons()
    replies = talk.say(choice="reason:defect")
    assert talk.keys(replies)[-1] == "chat.case.confirm"
    assert "确认提交吗" in replies[-1].text  # the conversation switched to Chinese with the first message
    replies = talk.say("确认")
    assert talk.keys(replies)[0] == "chat.case.created" and talk.turns == 4
    case = cases.get_case(db, replies[0].link_label, talk.who)
    assert (case.order_number, case.reason) == ("SO-B", "defect")


def test_damaged_parcel_goes_straight_to_the_claim(shop: Factory, db: Database) -> None:
    _order(shop, db, "SO-D", placed_days_ago=4, delivered_days_ago=1, lines=ONE_HEADPHONE)
    talk = Chat(db, _customer(shop, db))
    replies = talk.say("收到的耳机外壳碎了")
    keys = talk.keys(replies)
    assert keys[0] == "chat.picked_order" and keys[-1] == "chat.case.confirm"  # reason known: damaged
    replies = talk.say("不用了")
    assert talk.keys(replies) == ["chat.abandoned"]
    assert _count(db, Case) == 0


def test_not_eligible_is_a_polite_reply(shop: Factory, db: Database) -> None:
    _order(shop, db, "SO-LATE", placed_days_ago=60, delivered_days_ago=55, lines=ONE_HEADPHONE)
    talk = Chat(db, _customer(shop, db))
    replies = talk.say("I want to return this, I changed my mind")
    assert talk.keys(replies)[-1] == "chat.case.not_eligible"
    assert "human" in talk.buttons()
    assert _count(db, Case) == 0


# --- self-service actions ------------------------------------------------------------------------
def test_cancel_needs_a_yes(shop: Factory, db: Database) -> None:
    _order(shop, db, "SO-C", status="paid", placed_days_ago=1)
    talk = Chat(db, _customer(shop, db))
    replies = talk.say("帮我取消订单 SO-C")
    assert talk.keys(replies) == ["chat.cancel.confirm"]
    assert orders.get_order(db, "SO-C", talk.who).status == "paid"
    replies = talk.say("嗯？运费怎么算")  # no yes: nothing is cancelled
    assert orders.get_order(db, "SO-C", talk.who).status == "paid"
    talk.say("取消订单")
    replies = talk.say(choice="yes")
    assert talk.keys(replies) == ["chat.result"] and "已取消" in replies[0].text
    assert orders.get_order(db, "SO-C", talk.who).status == "cancelled"


def test_change_address_and_urge(shop: Factory, db: Database) -> None:
    _order(shop, db, "SO-ADDR", status="paid", placed_days_ago=2)
    talk = Chat(db, _customer(shop, db))
    replies = talk.say("收货地址填错了，要改一下")
    assert talk.keys(replies) == ["chat.picked_order", "chat.address.ask"]
    replies = talk.say("北京市朝阳区建国路 88 号 3 单元 13900001111")
    assert talk.keys(replies) == ["chat.address.confirm"] and "13900001111" in replies[0].text
    replies = talk.say("确认")
    assert talk.keys(replies) == ["chat.result"]
    order = orders.get_order(db, "SO-ADDR", talk.who)
    assert "建国路 88 号" in order.address_detail and order.recipient_phone == "13900001111"

    replies = talk.say("付款两天了还不发货，帮我催一下")
    assert talk.keys(replies) == ["chat.picked_order", "chat.result"]
    with db.read() as uow:
        actions = [a.action for a in uow.session.scalars(select(OrderAction))]
    assert actions.count("urge") == 1 and "change_address" in actions


def test_track_and_refund_status(shop: Factory, db: Database) -> None:
    _order(shop, db, "SO-T", status="shipped", placed_days_ago=2)
    talk = Chat(db, _customer(shop, db))
    replies = talk.say("我的快递到哪了")
    assert talk.keys(replies) == ["chat.picked_order", "chat.track.shipped"]
    assert "TSO-T" in replies[1].text and "上海仓" in replies[1].text

    talk.say("取消订单 SO-T")
    replies = talk.say("确认")
    assert replies[0].link.startswith("/cases/AS")  # shipped: an intercept case
    case_number = replies[0].link.removeprefix("/cases/")
    replies = talk.say("退款什么时候到账")
    # The intercept case is the refund the customer asks about: the answer names it.
    assert talk.keys(replies) == ["chat.picked_order", "chat.refund.case"]
    assert (replies[1].link, replies[1].link_label) == (f"/cases/{case_number}", case_number)


def test_invoice_request_opens_an_invoice_case(shop: Factory, db: Database) -> None:
    _order(shop, db, "SO-INV", placed_days_ago=5, delivered_days_ago=2, lines=ONE_HEADPHONE)
    talk = Chat(db, _customer(shop, db))
    replies = talk.say("我需要开发票")
    # The shipped policies allow an invoice for a delivered order: the bot sums it up and asks.
    assert talk.keys(replies) == [
        "chat.picked_order",
        "chat.case.summary_invoice",
        "chat.case.auto",
        "chat.case.confirm",
    ]
    replies = talk.say("确认")
    assert talk.keys(replies)[0] == "chat.case.created"
    case = cases.get_case(db, replies[0].link_label, talk.who)
    assert (case.kind, case.order_number) == ("invoice", "SO-INV")


# --- out of scope, help center, people -----------------------------------------------------------
def test_out_of_scope_never_acts(shop: Factory, db: Database) -> None:
    _order(shop, db, "SO-X", status="paid", placed_days_ago=1)
    talk = Chat(db, _customer(shop, db))
    before = (_count(db, Case), _count(db, OrderAction))
    first = talk.say("今天天气怎么样")
    assert talk.keys(first) == ["chat.clarify"] and "human" in talk.buttons()
    second = talk.say("asdfgh qwerty")
    # A second miss in a row: a person takes over with the transcript; no action on a guess.
    assert talk.keys(second) == ["chat.handoff.not_understood", "chat.handoff.done"]
    state = chat.transcript(db, talk.who, talk.conversation.id)
    assert state.status == "waiting_human" and state.handed_off_to
    from aftersales.tickets import service as tickets

    staff = Principal(user_id=0, username="sup", role=Role.SUPERVISOR, display_name="sup")
    dump = tickets.get_ticket(db, state.handed_off_to, staff).model_dump_json()
    # Why a person took over: a catalogue key the pages say in each reader's language (the
    # customer's and the desk's may differ), never an internal code on a page.
    assert "今天天气怎么样" in dump and "asdfgh qwerty" in dump and "handoff.subject.not_understood" in dump
    assert i18n.gettext("en", "handoff.subject.not_understood") == "Chat: the assistant did not understand"
    assert i18n.gettext("zh-CN", "handoff.subject.not_understood") == "在线咨询：智能助手未能理解"
    assert (_count(db, Case), _count(db, OrderAction)) == before
    assert orders.get_order(db, "SO-X", talk.who).status == "paid"


def test_policy_question_is_answered_from_the_help_center(shop: Factory, db: Database) -> None:
    talk = Chat(db, _customer_with_an_order(shop, db))
    replies = talk.say("七天无理由退货怎么算")
    assert talk.keys(replies) == ["chat.faq_answer"]
    assert replies[0].link.startswith("/help/")


def test_a_question_about_fresh_food_is_answered_by_the_fresh_food_article(shop: Factory, db: Database) -> None:
    talk = Chat(db, _customer_with_an_order(shop, db))
    replies = talk.say("生鲜可以七天无理由退货吗")
    assert talk.keys(replies) == ["chat.faq_answer"]
    assert replies[0].link == "/help/claims-fresh-food"


def _customer_with_an_order(shop: Factory, db: Database) -> Principal:
    _order(shop, db, "SO-P", status="paid", placed_days_ago=1)
    return _customer(shop, db)


def test_hand_off_carries_transcript_intent_and_entities(shop: Factory, db: Database) -> None:
    from aftersales.tickets import service as tickets

    _order(shop, db, "SO-H", placed_days_ago=4, delivered_days_ago=1, lines=ONE_HEADPHONE)
    who = _customer(shop, db)
    talk = Chat(db, who)
    talk.say("我要退货 SO-H")
    replies = talk.say("转人工")
    assert talk.keys(replies) == ["chat.handoff.done"]
    state = chat.transcript(db, who, talk.conversation.id)
    assert state.status == "waiting_human" and state.handed_off_to
    staff = Principal(user_id=0, username="sup", role=Role.SUPERVISOR, display_name="sup")
    ticket = tickets.get_ticket(db, state.handed_off_to, staff)
    dump = ticket.model_dump_json()
    assert "SO-H" in dump and "我要退货 SO-H" in dump
    assert ticket.conversation_id == talk.conversation.id

    # The bot stays quiet; the customer's words reach the ticket.
    replies = talk.say("请快一点")
    assert replies == []
    assert "请快一点" in tickets.get_ticket(db, state.handed_off_to, staff).model_dump_json()


def test_agent_reply_and_solve_come_back_into_the_chat(shop: Factory, db: Database) -> None:
    who = _customer_with_an_order(shop, db)
    talk = Chat(db, who)
    with db.write() as uow:  # a conversation already with a person (as after a hand-off)
        row = uow.session.get(Conversation, talk.conversation.id)
        assert row is not None
        row.status = "waiting_human"
        uow.commit()
    assert chat.on_agent_reply(db, talk.conversation.id, "m1", "王客服", "您好，我来帮您看看。", "T0001")
    assert not chat.on_agent_reply(db, talk.conversation.id, "m1", "王客服", "您好，我来帮您看看。")  # once
    view = chat.transcript(db, who, talk.conversation.id)
    assert view.status == "with_human" and view.messages[-1].sender == "agent"
    assert [m.text for m in view.messages].count("您好，我来帮您看看。") == 1
    assert chat.on_ticket_solved(db, talk.conversation.id)
    view = chat.transcript(db, who, talk.conversation.id)
    assert view.status == "bot" and view.messages[-1].key == "chat.back_to_bot" and view.buttons


# --- scoping and bad input -----------------------------------------------------------------------
def test_only_the_customer_sees_and_writes_the_conversation(shop: Factory, db: Database) -> None:
    who = _customer_with_an_order(shop, db)
    shop.put_order(number="SO2611010000999", customer="C2", customer_name="Bob", phone="13800000002")
    other_user = shop.customer_user("bob", "C2")
    other = identity.principal_for_user_id(db, other_user.id)
    assert other is not None
    talk = Chat(db, who)
    with pytest.raises(NotFound):
        chat.transcript(db, other, talk.conversation.id)
    with pytest.raises(NotFound):
        chat.post_customer_message(db, other, talk.conversation.id, "hi")
    with pytest.raises(Invalid):
        chat.post_customer_message(db, who, talk.conversation.id, "   ")
    staff = Principal(user_id=0, username="agent", role=Role.AGENT_T1, display_name="agent")
    with pytest.raises(Forbidden):
        chat.start_or_resume(db, staff)
    assert chat.transcript(db, staff, talk.conversation.id).id == talk.conversation.id
    # Another customer's order number in the chat is not found, and nothing is acted on.
    replies = talk.say("帮我取消订单 SO2611010000999")
    assert "chat.order_unknown" in talk.keys(replies)
    assert orders.get_order(db, "SO2611010000999", other).status == "paid"


def test_resume_keeps_one_conversation(shop: Factory, db: Database) -> None:
    who = _customer_with_an_order(shop, db)
    first = chat.start_or_resume(db, who, "en")
    again = chat.start_or_resume(db, who, "zh-CN")
    assert first.id == again.id and first.messages[0].key == "chat.welcome"
    assert first.language == "en" and first.buttons
    with db.read() as uow:
        assert uow.session.scalar(select(func.count(ChatMessage.id))) == 1
    assert cases.list_cases(db, who, PageRequest(1, 5)).total == 0


@pytest.mark.usefixtures("no_outbox_kick")
def test_an_agents_reply_reaches_the_chat_through_the_outbox(shop: Factory, db: Database) -> None:
    from aftersales.assistant import handlers
    from aftersales.messaging import outbox
    from aftersales.tickets import service as tickets
    from aftersales.tickets.schemas import MessageIn

    handlers.register()
    who = _customer_with_an_order(shop, db)
    agent_user = shop.user("agent-wang", Role.AGENT_T1)
    agent = identity.principal_for_user_id(db, agent_user.id)
    assert agent is not None
    talk = Chat(db, who)
    talk.say("转人工")
    ticket = chat.transcript(db, who, talk.conversation.id).handed_off_to
    tickets.post_message(db, ticket, MessageIn(body="您好，我是客服小王。"), agent)
    outbox.drain(db)
    view = chat.transcript(db, who, talk.conversation.id)
    assert view.status == "with_human"
    assert [(m.sender, m.text) for m in view.messages][-1] == ("agent", "您好，我是客服小王。")
    assert view.buttons == []  # no bot quick replies while a person has the chat
    outbox.drain(db)  # a second delivery run adds nothing
    assert len(chat.transcript(db, who, talk.conversation.id).messages) == len(view.messages)

    tickets.post_message(db, ticket, MessageIn(body="已为您处理好。", then="solved"), agent)
    outbox.drain(db)
    view = chat.transcript(db, who, talk.conversation.id)
    assert view.status == "bot" and view.buttons
    # The agent's last words, then the bot's closing line, whatever order the events came in.
    assert [(m.sender, m.key) for m in view.messages][-2:] == [("agent", ""), ("bot", "chat.back_to_bot")]
    assert [m.text for m in view.messages].count("已为您处理好。") == 1
    talk.say("谢谢")  # the bot answers again
    assert chat.transcript(db, who, talk.conversation.id).messages[-1].key == "chat.thanks"


def test_abusive_words_are_masked_in_the_chat(shop: Factory, db: Database) -> None:
    _order(shop, db, "SO-M", status="paid", placed_days_ago=1)
    lina = _customer(shop, db)
    conversation = chat.start_or_resume(db, lina)
    shown = chat.post_customer_message(db, lina, conversation.id, "你们这群傻逼，耳机坏了")
    assert shown[0].sender == "customer"
    assert "傻逼" not in shown[0].text and "耳机坏了" in shown[0].text


def test_a_second_return_of_the_same_item_names_the_case_already_open(shop: Factory, db: Database) -> None:
    _order(shop, db, "SO-HP", placed_days_ago=7, delivered_days_ago=4, lines=ONE_HEADPHONE)
    talk = Chat(db, _customer(shop, db))
    talk.say("我要退货，不想要了")
    created = talk.say("确认")
    assert talk.keys(created)[0] == "chat.case.created"
    number = created[0].link_label

    again = talk.say("我要退货，不想要了")
    assert talk.keys(again) == ["chat.picked_order", "chat.case.already_open"]
    assert again[1].link == f"/cases/{number}" and number in again[1].text
    assert "0" not in again[1].text.replace(number, "").replace("SO-HP", "")


def test_a_repair_of_broken_headphones_proposes_no_refund(shop: Factory, db: Database) -> None:
    _order(shop, db, "SO-HP", placed_days_ago=20, delivered_days_ago=17, lines=ONE_HEADPHONE)
    talk = Chat(db, _customer(shop, db))
    replies = talk.say("耳机坏了")
    summary = next(r for r in replies if r.key.startswith("chat.case.summary"))
    assert summary.key == "chat.case.summary_repair" and "¥" not in summary.text and "维修" in summary.text


def test_the_headphones_i_bought_last_week_is_the_order_just_tracked(shop: Factory, db: Database) -> None:
    _order(shop, db, "SO-HP1", placed_days_ago=8, delivered_days_ago=5, lines=ONE_HEADPHONE)
    _order(shop, db, "SO-HP2", placed_days_ago=6, delivered_days_ago=3, lines=ONE_HEADPHONE, merchant="pop-a")
    talk = Chat(db, _customer(shop, db))
    assert talk.keys(talk.say("SO-HP1 到哪了")) == ["chat.track.delivered"]
    replies = talk.say("I want to return the headphones I bought last week")
    assert talk.keys(replies)[0] == "chat.picked_order" and "SO-HP1" in replies[0].text
