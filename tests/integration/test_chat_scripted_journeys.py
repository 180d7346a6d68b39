"""Scripted journeys (issue 20): return, exchange, cancel, change address, track, urge, invoice and
price protection, in Chinese and in English, each done in at most four customer turns from a
realistic first message (typos and code-mixing included), through the real services on the real
database. Each ends in what the system really did: a case, a cancelled order, a new address, an
urge recorded, tracking read from the shipment."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest
from sqlalchemy import select

from aftersales.cases import service as cases
from aftersales.cases.models import OrderAction
from aftersales.db.uow import Database
from aftersales.kit.access import Principal
from aftersales.kit.pagination import PageRequest
from aftersales.orders import service as orders
from aftersales.orders.schemas import ProductIn, SkuIn

from ..factories import Factory
from .test_chat_context import SHOES, store  # noqa: F401 (fixture)
from .test_conversations import Chat, _customer, _order, desk, shop  # noqa: F401 (fixtures)

MAX_TURNS = 4
ADDRESS_ZH = "北京市朝阳区建国路 88 号 3 单元 13900001111"
ADDRESS_EN = "Room 3, 88 Jianguo Road, Chaoyang District, Beijing 13900001111"


@dataclass(frozen=True)
class Journey:
    order: dict[str, object]  # _order's keywords
    says: tuple[str, ...]
    ends: str  # the key of the last reply that matters
    check: Callable[[Database, Principal], None]


def _case(kind: str, reason: str | None = None, amount: str | None = None) -> Callable[[Database, Principal], None]:
    def check(db: Database, who: Principal) -> None:
        found = cases.list_cases(db, who, PageRequest(1, 5)).items
        assert [(c.order_number, c.kind) for c in found] == [("SO-J", kind)]
        case = cases.get_case(db, found[0].number, who)
        if reason:
            assert case.reason == reason
        if amount:
            assert case.requested_amount == Decimal(amount)  # the drop the bot quoted, not the price

    return check


def _status(status: str) -> Callable[[Database, Principal], None]:
    def check(db: Database, who: Principal) -> None:
        assert orders.get_order(db, "SO-J", who).status == status

    return check


def _moved(db: Database, who: Principal) -> None:
    order = orders.get_order(db, "SO-J", who)
    assert ("建国路 88 号" in order.address_detail) or ("88 Jianguo Road" in order.address_detail)
    assert order.recipient_phone == "13900001111"


def _urged(db: Database, who: Principal) -> None:
    with db.read() as uow:
        assert [a.action for a in uow.session.scalars(select(OrderAction))] == ["urge"]


def _nothing_changed(db: Database, who: Principal) -> None:
    assert cases.list_cases(db, who, PageRequest(1, 5)).total == 0
    assert orders.get_order(db, "SO-J", who).status == "shipped"


DELIVERED = {"placed_days_ago": 5, "delivered_days_ago": 2, "lines": SHOES}
PAID = {"status": "paid", "placed_days_ago": 3, "lines": SHOES}
SHIPPED = {"status": "shipped", "placed_days_ago": 2, "lines": SHOES}

CREATED = "chat.case.created"
EXCHANGED = _case("exchange")
RETURNED = _case("return_refund", "changed_mind")
PRICE_PROTECTED = _case("price_protection", "price_drop", "50.00")
EXCHANGE_EN = "can i exchange my shoes for a biger size? too small"
PRICE_EN = "the price dropped right after I bought it, can I get the difference back?"

JOURNEYS = {
    # code-mixed, and a typo ("retrun")
    "return-zh": Journey(DELIVERED, ("我想 return 这个 order", "尺码太小了", "确认"), CREATED, RETURNED),
    "return-en": Journey(DELIVERED, ("I want to retrun my shoes", "they are too small", "yes"), CREATED, RETURNED),
    "exchange-zh": Journey(DELIVERED, ("鞋子太小了，想换大一码", "确认"), CREATED, EXCHANGED),
    "exchange-en": Journey(DELIVERED, (EXCHANGE_EN, "yes"), CREATED, EXCHANGED),
    "cancel-zh": Journey(PAID, ("拍错了，帮我把订单取消了", "确认"), "chat.result", _status("cancelled")),
    "cancel-en": Journey(PAID, ("pls cancle my order", "yes"), "chat.result", _status("cancelled")),
    "address-zh": Journey(PAID, ("收货地址填错了，要改一下", ADDRESS_ZH, "确认"), "chat.result", _moved),
    "address-en": Journey(PAID, ("wrong address on my order", ADDRESS_EN, "yes"), "chat.result", _moved),
    "track-zh": Journey(SHIPPED, ("我的快递到哪了",), "chat.track.shipped", _nothing_changed),
    "track-en": Journey(SHIPPED, ("where is my pakage??",), "chat.track.shipped", _nothing_changed),
    "urge-zh": Journey(PAID, ("付款三天了还不发货，帮我催一下",), "chat.result", _urged),
    "urge-en": Journey(PAID, ("please ship my order asap, it's been 3 days",), "chat.result", _urged),
    "invoice-zh": Journey(DELIVERED, ("我需要开发票", "确认"), CREATED, _case("invoice")),
    "invoice-en": Journey(DELIVERED, ("I need an invoice for my order", "yes"), CREATED, _case("invoice")),
    "price-zh": Journey(DELIVERED, ("买完就降价了，能退差价吗", "确认"), CREATED, PRICE_PROTECTED),
    "price-en": Journey(DELIVERED, (PRICE_EN, "yes"), CREATED, PRICE_PROTECTED),
}  # fmt: skip


def _price_drops(db: Database) -> None:
    """The shoes cost 399.00 at purchase and 349.00 now: a drop of 50.00 a pair."""
    product = ProductIn(
        merchant_code="selfop",
        category_code="apparel",
        name="跑步鞋 running shoes",
        skus=[SkuIn(code="SH-1", price=Decimal("349.00"), stock=10)],
    )
    orders.upsert_product(db, product)


@pytest.mark.parametrize("name", list(JOURNEYS))
def test_scripted_journey(store: Factory, db: Database, name: str) -> None:  # noqa: F811
    journey = JOURNEYS[name]
    _order(store, db, "SO-J", **journey.order)  # type: ignore[arg-type]
    if name.startswith("price"):
        _price_drops(db)
    who = _customer(store, db)
    talk = Chat(db, who, lang="zh-CN" if name.endswith("en") else "en")  # the customer's words decide
    said, shown = [], []
    for text in journey.says:
        replies = talk.say(text)
        said.append(talk.keys(replies))
        shown += replies
    assert talk.turns <= MAX_TURNS
    assert journey.ends in said[-1], said
    answer = next(r for r in replies if r.key == journey.ends)
    # Answered in the customer's language, whatever the page's language was.
    assert answer.sender_name == ("Assistant" if name.endswith("en") else "小售"), answer.text
    if name.startswith("price"):
        summary = next(r for r in shown if r.key == "chat.case.summary")
        assert "¥50.00" in summary.text  # the drop of 349 from 399, as the case will ask
    journey.check(db, who)
