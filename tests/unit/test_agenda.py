"""The dialogue's agenda and readers, without the model: clauses, distinct requests, rudeness,
chit-chat, and the conversation's memory surviving the JSON it is stored as."""

from __future__ import annotations

import pytest

from aftersales.assistant import agenda, slots
from aftersales.assistant.dialogue import State
from aftersales.understanding.intents import Understanding

RETURN_EN, TRACK_EN = "I want to return the shoes", "where is my other parcel"


def said(text: str, intent: str, confidence: float = 0.9) -> Understanding:
    return Understanding(text=text, intent=intent, confidence=confidence)


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("我要退这双鞋，另一个包裹到哪了", ["我要退这双鞋", "另一个包裹到哪了"]),
        (f"{RETURN_EN} and {TRACK_EN}?", [RETURN_EN, TRACK_EN]),
        ("退货，顺便开个发票", ["退货", "开个发票"]),
        ("我要退货", []),
        ("你好，我要退货", ["你好", "我要退货"]),  # the greeting is read, and starts nothing
    ],
)  # fmt: skip
def test_clauses(text: str, parts: list[str]) -> None:
    assert agenda.clauses(text) == (parts if len(parts) >= 2 else [])


def test_requests_are_distinct_kinds_in_the_order_written() -> None:
    parts = [said("退这双鞋", "return_goods"), said("坏了要退款", "refund"), said("包裹到哪了", "track_order")]
    assert [r.intent for r in agenda.requests(parts)] == ["return_goods", "track_order"]  # one claim, then tracking
    unsure = [said("拍错了", "change_order", 0.94), said("帮我把订单取消了", "cancel_order", 0.88)]
    assert [r.intent for r in agenda.requests(unsure)] == ["cancel_order"]  # change_order starts no flow
    implied = [said("取消订单", "cancel_order"), said("退款", "refund")]
    assert [r.intent for r in agenda.requests(implied)] == ["cancel_order"]  # a cancel refunds anyway
    assert (
        agenda.requests([said("退货", "return_goods", 0.4), said("查物流", "track_order")])[0].intent == "track_order"
    )


@pytest.mark.parametrize("text", ["你好笨", "you're stupid", "垃圾机器人", "什么破机器人", "you are USELESS"])
def test_insults(text: str) -> None:
    assert slots.insult_in(text)


@pytest.mark.parametrize("text", ["太笨重了", "颜色和图片不一样", "垃圾桶盖坏了", "the colour is different", "笨重"])
def test_not_insults(text: str) -> None:
    assert not slots.insult_in(text)


@pytest.mark.parametrize(
    ("text", "chat"), [("哈哈哈", True), ("嗯嗯", True), ("lol", True), ("???", True), ("太大了", False)]
)
def test_chit_chat(text: str, chat: bool) -> None:
    assert slots.chit_chat(text) is chat


def test_the_memory_round_trips_through_json() -> None:
    state = State(
        "case",
        {"order": "SO1", "kind": "return_refund", "intent": "return_goods"},
        "reason",
        focus="SO1",
        subject={"product": "洗衣机", "product_category": "home_appliances"},
        queue=({"intent": "track_order", "text": "另一个包裹到哪了", "entities": {}, "other": True},),
        seen=("SO1", "SO2"),
        last="return_goods",
    )
    assert State.from_json(state.as_json()) == state
    assert agenda.intent_of(State("case", {"kind": "exchange", "intent": "out_of_scope"})) == "exchange"
    assert agenda.left(state) == {
        "intent": "return_goods",
        "slots": {"order": "SO1", "kind": "return_refund"},
        "offer": True,
    }
