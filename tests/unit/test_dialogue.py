"""The dialogue without a model or a database: slot filling, confirmations, keyword triggers, and
that an unsure or out-of-scope message never leads to an action."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from aftersales.assistant import replies as texts
from aftersales.assistant import slots
from aftersales.assistant.dialogue import (
    CancelOrder,
    ChangeAddress,
    Faq,
    HandOff,
    L,
    Line,
    OpenCase,
    Order,
    Outcome,
    PreviewCase,
    RefundInfo,
    Snapshot,
    State,
    SubmitCase,
    Turn,
    Urge,
    after_action,
    respond,
)
from aftersales.understanding.intents import Understanding

TODAY = date(2026, 11, 22)
HEADPHONES = Order(
    number="SO100",
    status="delivered",
    placed_on=date(2026, 11, 14),
    delivered_on=date(2026, 11, 17),
    shipped=True,
    total="398.00",
    currency="CNY",
    lines=(Line(1, "Sony WH-1000XM5 无线降噪耳机", "electronics", 2),),
)
STROLLER = Order(
    number="SO200",
    status="completed",
    placed_on=date(2026, 10, 2),
    delivered_on=date(2026, 10, 5),
    shipped=True,
    total="1299.00",
    currency="CNY",
    lines=(Line(1, "Babyzen 婴儿推车", "baby_maternal", 1), Line(2, "推车雨罩", "baby_maternal", 1)),
    refunds=(RefundInfo("99.00", "CNY", "succeeded"),),
)
UNSHIPPED = Order(
    number="SO300",
    status="paid",
    placed_on=date(2026, 11, 21),
    delivered_on=None,
    shipped=False,
    total="59.90",
    currency="CNY",
    lines=(Line(1, "数据线", "electronics", 1),),
    recipient_name="李娜",
    recipient_phone="13800138000",
    address="上海市 世纪大道 100 号",
)
IN_TRANSIT = Order(
    number="SO400",
    status="shipped",
    placed_on=date(2026, 11, 19),
    delivered_on=None,
    shipped=True,
    total="89.00",
    currency="CNY",
    lines=(Line(1, "T恤", "apparel", 1),),
    carrier="SF",
    tracking_number="SF123456789",
    node="arrived_station",
    place="浦东营业部",
    eta=date(2026, 11, 23),
    late=True,
)
CTX = Snapshot(today=TODAY, orders=(UNSHIPPED, IN_TRANSIT, HEADPHONES, STROLLER))


def said(text: str, intent: str = "out_of_scope", confidence: float = 0.9, **entities: Any) -> Understanding:
    return Understanding(text=text, intent=intent, confidence=confidence, entities=entities)


def keys(turn: Turn) -> list[str]:
    return [r.key for r in turn.replies]


def values(turn: Turn) -> list[str]:
    return [b.value for r in turn.replies for b in r.buttons]


def previewed(turn: Turn, ctx: Snapshot = CTX, **outcome: Any) -> Turn:
    """The service's part of a PreviewCase: the policy said yes (or no)."""
    assert isinstance(turn.action, PreviewCase)
    result = Outcome(**({"ok": True, "amount": "199.00", "payer": "merchant", "approval": "auto"} | outcome))
    return after_action(turn.state, turn.action, result, ctx)


# --- the return flow -----------------------------------------------------------------------------
def test_the_headphones_i_bought_last_week_finds_the_order_and_the_line() -> None:
    turn = respond(
        said("I want to return the headphones I bought last week", "return_goods", 0.95,
             product="headphones", product_category="electronics", date="2026-11-15"),
        State(),
        CTX,
    )  # fmt: skip
    assert keys(turn) == ["chat.picked_order", "chat.ask_qty"]
    assert turn.state.slots["order"] == "SO100" and turn.state.slots["line"] == 1
    assert turn.state.awaiting == "qty" and values(turn) == ["qty:1", "qty:2"]
    assert turn.action is None


def test_a_return_completes_in_four_turns_and_only_after_yes() -> None:
    turn = respond(said("我要退耳机", "return_goods", product="耳机", product_category="electronics"), State(), CTX)
    turn = respond(said("两件"), turn.state, CTX)
    assert turn.state.slots["qty"] == 2 and keys(turn) == ["chat.ask_reason"]
    assert "reason:defect" in values(turn)
    turn = respond(said("没声音了，质量问题"), turn.state, CTX)
    assert isinstance(turn.action, PreviewCase)
    request = turn.action.request
    assert (request.order_number, request.kind, request.reason, request.lines) == (
        "SO100",
        "return_refund",
        "defect",
        ((1, 2),),
    )
    offer = previewed(turn)
    assert keys(offer)[-1] == "chat.case.confirm" and offer.action is None
    assert "chat.case.payer" in keys(offer) and "chat.case.auto" in keys(offer)
    done = respond(said("确认"), offer.state, CTX)
    assert isinstance(done.action, SubmitCase) and done.action.request == request
    result = Outcome(True, case_number="AS1", case_status="awaiting_return")
    created = after_action(done.state, done.action, result, CTX)
    assert keys(created) == ["chat.case.created", "chat.next.awaiting_return"]
    # The flow is over; the conversation still knows which order it is about.
    assert created.replies[0].link == "/cases/AS1" and _idle_on(created.state, "SO100")


def test_no_at_the_confirmation_abandons_without_acting() -> None:
    offer = previewed(respond(said("退货 SO100 两件 不喜欢", "return_goods", order_number="SO100"), State(), CTX))
    turn = respond(said("算了"), offer.state, CTX)
    assert keys(turn) == ["chat.abandoned"] and turn.action is None and turn.state.flow == ""


def test_an_unclear_answer_to_the_confirmation_asks_again() -> None:
    offer = previewed(respond(said("退货 SO100 两件 不喜欢", "return_goods", order_number="SO100"), State(), CTX))
    turn = respond(said("嗯？"), offer.state, CTX)
    assert keys(turn) == ["chat.confirm_reask"] and turn.action is None and turn.state.awaiting == "confirm"


def test_refused_preview_is_explained_with_a_way_to_a_person() -> None:
    turn = respond(said("退货 SO100 两件 不喜欢", "return_goods", order_number="SO100"), State(), CTX)
    refused = previewed(turn, ok=False, message=L("已超过 7 天。", "More than 7 days ago."))
    assert keys(refused) == ["chat.case.not_eligible"] and values(refused) == ["human"]
    assert _idle_on(refused.state, "SO100")


def test_several_candidate_orders_are_asked_with_buttons_and_picked_by_position() -> None:
    turn = respond(said("我要换货", "exchange"), State(), CTX)
    assert keys(turn) == ["chat.ask_order"] and values(turn) == ["order:SO100", "order:SO200"]
    turn = respond(said("第二个"), turn.state, CTX)
    assert turn.state.slots["order"] == "SO200" and keys(turn) == ["chat.ask_line"]
    assert values(turn) == ["line:1", "line:2"]
    turn = respond(said("雨罩"), turn.state, CTX)
    assert turn.state.slots["line"] == 2 and keys(turn) == ["chat.ask_reason"]


def test_the_only_fitting_order_is_taken() -> None:
    turn = respond(said("能帮我改一下地址吗", "change_address"), State(), CTX)
    assert keys(turn) == ["chat.picked_order", "chat.address.ask"] and turn.state.slots["order"] == "SO300"


def test_an_order_that_does_not_fit_the_flow_is_refused() -> None:
    turn = respond(said("取消订单 SO100", "cancel_order", order_number="SO100"), State(), CTX)
    assert keys(turn) == ["chat.order_not_fit"] and turn.action is None


def test_an_unknown_order_number_is_said_and_the_choice_offered() -> None:
    turn = respond(said("取消订单 SO999", "cancel_order", order_number="SO999"), State(), CTX)
    assert keys(turn)[0] == "chat.order_unknown" and turn.action is None


# --- triggers ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "kind", "reason"),
    [
        ("快递到了，盒子都压坏了", "return_refund", "damaged"),
        ("the screen arrived cracked", "return_refund", "damaged"),
        ("少件了，只收到一个", "refund_only", "missing_item"),
        ("漏发了一件", "refund_only", "missing_item"),
    ],
)
def test_damaged_or_missing_goes_to_the_claim_flow(text: str, kind: str, reason: str) -> None:
    ctx = Snapshot(today=TODAY, orders=(HEADPHONES,))
    turn = respond(said(text, "track_order", 0.7), State(), ctx)
    assert turn.state.flow == "case"
    assert (turn.state.slots["kind"], turn.state.slots["reason"]) == (kind, reason)
    assert turn.action is None or isinstance(turn.action, PreviewCase)


# --- cancel, address, urge, track, refund status -----------------------------------------------
def test_cancel_requires_a_yes() -> None:
    turn = respond(said("帮我取消 SO300", "cancel_order", order_number="SO300"), State(), CTX)
    assert keys(turn) == ["chat.cancel.confirm"] and turn.action is None
    assert values(turn) == ["yes", "no"]
    turn = respond(said("yes", choice=None), turn.state, CTX, choice="yes")
    assert turn.action == CancelOrder("SO300")


def test_cancel_of_a_shipped_order_says_it_will_be_intercepted() -> None:
    turn = respond(said("cancel SO400", "cancel_order", order_number="SO400"), State(), CTX)
    assert keys(turn) == ["chat.cancel.confirm_shipped"] and turn.action is None


def test_change_address_reads_the_new_address_and_confirms() -> None:
    turn = respond(said("改地址", "change_address"), State(), CTX)
    turn = respond(said("北京市朝阳区建国路88号 13900001111", phone="13900001111"), turn.state, CTX)
    assert keys(turn) == ["chat.address.confirm"] and turn.action is None
    assert turn.state.slots["address"] == {"name": "李娜", "phone": "13900001111", "detail": "北京市朝阳区建国路88号"}
    turn = respond(said("好的"), turn.state, CTX)
    assert turn.action == ChangeAddress("SO300", "李娜", "13900001111", "北京市朝阳区建国路88号")


def test_urge_acts_at_once_on_the_only_unshipped_order() -> None:
    ctx = Snapshot(today=TODAY, orders=(UNSHIPPED, HEADPHONES))
    turn = respond(said("怎么还不发货", "urge_delivery"), State(), ctx)
    assert turn.action == Urge("SO300")
    result = after_action(turn.state, turn.action, Outcome(True, L("已通知商家。", "Told the merchant.")), ctx)
    assert keys(result) == ["chat.result"] and _idle_on(result.state, "SO300")


def test_track_answers_from_the_snapshot_and_offers_to_hurry_a_late_parcel() -> None:
    turn = respond(said("where is my parcel SO400", "track_order", order_number="SO400"), State(), CTX)
    assert keys(turn) == ["chat.track.shipped", "chat.track.late"] and turn.action is None
    assert values(turn) == ["intent:urge_delivery@SO400"]
    hurry = respond(said("催发货"), State(), CTX, choice="intent:urge_delivery@SO400")
    assert hurry.action == Urge("SO400")


def test_refund_status_lists_refunds_and_open_cases() -> None:
    ctx = Snapshot(today=TODAY, orders=CTX.orders, cases=(OpenCase("AS9", "refund_only", "refunding", "SO200"),))
    turn = respond(said("退款到哪了", "refund_status"), State(), ctx)
    assert keys(turn) == ["chat.picked_order", "chat.refund.line", "chat.refund.case"]
    assert turn.replies[2].link == "/cases/AS9"


def test_refund_status_of_a_named_order_without_a_refund_yet_answers_with_its_case() -> None:
    """Another order has a refund; this one has only an open case: its case is the answer, not
    "the order is delivered, a refund status cannot be handled"."""
    ctx = Snapshot(today=TODAY, orders=CTX.orders, cases=(OpenCase("AS7", "return_refund", "under_review", "SO100"),))
    turn = respond(said("订单 SO100 的退款什么时候到账", "refund_status", order_number="SO100"), State(), ctx)
    assert keys(turn) == ["chat.refund.case"]
    assert turn.replies[0].link == "/cases/AS7"


# --- unsure, out of scope, people ----------------------------------------------------------------
def test_out_of_scope_clarifies_then_hands_off_and_never_acts() -> None:
    first = respond(said("今天天气怎么样", "out_of_scope", 0.8), State(), CTX)
    assert keys(first) == ["chat.clarify"] and first.action is None and "human" in values(first)
    second = respond(said("讲个笑话", "out_of_scope", 0.8), first.state, CTX)
    assert keys(second) == ["chat.handoff.not_understood"] and second.action == HandOff("not_understood")


def test_an_unsure_message_asks_with_the_two_likeliest_requests_then_a_person_takes_over() -> None:
    ranking = (("refund", 0.35), ("return_goods", 0.3), ("exchange", 0.2))
    unsure = Understanding("那个东西", "out_of_scope", 0.65, {}, ranking)
    first = respond(unsure, State(), CTX)
    assert keys(first) == ["chat.clarify"] and first.action is None
    assert values(first) == ["intent:refund", "intent:return_goods", "human"]
    second = respond(unsure, first.state, CTX)
    assert isinstance(second.action, HandOff) and second.action.reason == "not_understood"
    understood = respond(said("我要退货", "return_goods"), first.state, CTX)  # a clear message resets the count
    assert not isinstance(understood.action, HandOff)


def test_a_low_confidence_action_intent_is_confirmed_by_a_button_not_acted_on() -> None:
    u = Understanding("取消吧", "cancel_order", 0.45, {}, (("cancel_order", 0.45), ("refund", 0.3)))
    turn = respond(u, State(), CTX)
    assert keys(turn) == ["chat.clarify"] and turn.action is None
    assert values(turn)[:2] == ["intent:cancel_order", "intent:refund"]


def test_a_good_help_article_answers_questions() -> None:
    ctx = Snapshot(today=TODAY, faq=Faq("七天无理由退货", "签收后 7 天内……", "/help/returns-7-day", 0.9))
    turn = respond(said("七天无理由怎么算", "policy_question"), State(), ctx)
    assert keys(turn) == ["chat.faq_answer"] and turn.replies[0].link == "/help/returns-7-day"
    weak = Snapshot(today=TODAY, faq=Faq("x", "y", "/help/x", 0.2))
    assert keys(respond(said("七天无理由怎么算", "policy_question"), State(), weak)) == ["chat.no_answer"]


@pytest.mark.parametrize("intent", ["human_agent", "complaint"])
def test_people_and_complaints_are_handed_off(intent: str) -> None:
    turn = respond(said("转人工", intent), State(), CTX)
    assert isinstance(turn.action, HandOff) and turn.replies == []
    done = after_action(turn.state, turn.action, Outcome(True, ticket_number="T1"), CTX)
    assert keys(done) == ["chat.handoff.done"]


def _idle_on(state: State, focus: str) -> bool:
    """No flow and no question pending, the order under discussion kept."""
    return (state.flow, state.slots, state.awaiting, state.misses, state.focus) == ("", {}, "", 0, focus)


def test_a_new_request_mid_flow_leaves_the_flow() -> None:
    turn = respond(said("我要退货", "return_goods"), State(), CTX)
    assert turn.state.awaiting == "order"
    turn = respond(said("算了，我的快递到哪了 SO400", "track_order", 0.9, order_number="SO400"), turn.state, CTX)
    assert keys(turn)[0] == "chat.track.shipped"


def test_a_stored_state_without_a_question_is_never_acted_on_again() -> None:
    stale = State.from_json({"flow": "urge", "slots": {"order": "SO300"}, "awaiting": "done"})
    turn = respond(said("asdf", "out_of_scope", 0.9), stale, CTX)
    assert turn.action is None


def test_state_round_trips_through_json() -> None:
    state = State("case", {"order": "SO1", "line": 1, "kind": "exchange"}, "reason", 1, focus="SO1")
    assert State.from_json(state.as_json()) == state


# --- slips found walking the customer's journeys ----------------------------------------------
def _through_slots(turn: Turn, ctx: Snapshot = CTX) -> Turn:
    """Answer the quantity and reason questions until the flow asks the service for a preview."""
    for _ in range(3):
        if turn.state.awaiting == "qty":
            turn = respond(said("1"), turn.state, ctx)
        elif turn.state.awaiting == "reason":
            turn = respond(said("没声音了，质量问题"), turn.state, ctx)
    return turn


def test_a_repair_proposal_promises_no_refund() -> None:
    turn = _through_slots(
        respond(said("耳机坏了", "repair", 0.9, product="耳机", product_category="electronics"), State(), CTX)
    )
    offer = previewed(turn, amount="999.00")
    summary = offer.replies[0]
    assert turn.action is not None and turn.action.request.kind == "repair"  # type: ignore[union-attr]
    for lang in ("zh-CN", "en"):
        text = texts.render(summary, lang)
        assert "999" not in text and "预计退款" not in text and "Refund:" not in text, text
    assert "维修" in texts.render(summary, "zh-CN") and "repair" in texts.render(summary, "en")


def test_an_exchange_proposal_promises_no_refund_but_a_return_does() -> None:
    turn = _through_slots(respond(said("耳机想换一个", "exchange", 0.9, product="耳机"), State(), CTX))
    assert "999" not in texts.render(previewed(turn, amount="999.00").replies[0], "en")
    turn = _through_slots(respond(said("我要退耳机", "return_goods", 0.9, product="耳机"), State(), CTX))
    assert "¥199.00" in texts.render(previewed(turn).replies[0], "zh-CN")


def test_a_refused_repeat_request_names_the_open_case_and_links_it() -> None:
    ctx = replace(CTX, cases=(OpenCase("AS2611200000007", "return_refund", "awaiting_return", "SO100"),))
    turn = _through_slots(respond(said("我要退耳机", "return_goods", 0.9, product="耳机"), State(), ctx), ctx)
    refused = previewed(
        turn, ctx, ok=False, message=L("第 1 行最多还可申请 0 件。", "At most 0 of line 1 can still be claimed.")
    )
    reply = refused.replies[0]
    assert reply.key == "chat.case.already_open"
    assert reply.link == "/cases/AS2611200000007" and reply.link_label == "AS2611200000007"
    for lang in ("zh-CN", "en"):
        text = texts.render(reply, lang)
        assert "AS2611200000007" in text and "At most 0" not in text and "0 件" not in text, text


NEWER_HEADPHONES = Order(
    number="SO110",
    status="delivered",
    placed_on=date(2026, 11, 16),
    delivered_on=date(2026, 11, 18),
    shipped=True,
    total="299.00",
    currency="CNY",
    lines=(Line(1, "Bose QC45 耳机", "electronics", 1),),
)
TWO_HEADPHONES = replace(CTX, orders=(UNSHIPPED, IN_TRANSIT, NEWER_HEADPHONES, HEADPHONES, STROLLER))
LAST_WEEK = {"product": "headphones", "product_category": "electronics", "date": "2026-11-15"}


def test_the_headphones_i_bought_last_week_means_the_order_just_discussed() -> None:
    turn = respond(said("SO100 到了吗", "track_order", 0.9, order_number="SO100"), State(), TWO_HEADPHONES)
    assert keys(turn) == ["chat.track.delivered"]
    turn = respond(
        said("I want to return the headphones I bought last week", "return_goods", 0.95, **LAST_WEEK),
        turn.state,
        TWO_HEADPHONES,
    )
    assert turn.state.slots["order"] == "SO100" and turn.state.slots["line"] == 1


def test_without_an_order_under_discussion_two_fitting_orders_are_asked() -> None:
    turn = respond(
        said("I want to return the headphones I bought last week", "return_goods", 0.95, **LAST_WEEK),
        State(),
        TWO_HEADPHONES,
    )
    assert keys(turn) == ["chat.ask_order"] and set(values(turn)) == {"order:SO110", "order:SO100"}


def test_the_order_under_discussion_survives_an_action_and_json() -> None:
    turn = respond(said("SO100 到了吗", "track_order", 0.9, order_number="SO100"), State(), TWO_HEADPHONES)
    state = State.from_json(turn.state.as_json())
    turn = respond(
        said("那个耳机我要退", "return_goods", 0.9, product="耳机", product_category="electronics"),
        state,
        TWO_HEADPHONES,
    )
    assert turn.state.slots["order"] == "SO100"


DELIVERED_TEE = replace(IN_TRANSIT, number="SO500", status="delivered", delivered_on=date(2026, 11, 20), late=False)


def test_a_product_word_no_order_has_is_said_not_answered_with_unrelated_orders() -> None:
    turn = respond(
        said("羽绒服我想退", "return_goods", 0.9, product="羽绒服", product_category="apparel"), State(), CTX
    )
    assert keys(turn) == ["chat.no_matching_orders"]
    assert not [v for v in values(turn) if v.startswith("order:")]
    assert "羽绒服" in texts.render(turn.replies[0], "zh-CN")


def test_a_product_word_lists_only_orders_of_that_kind() -> None:
    ctx = replace(CTX, orders=(DELIVERED_TEE, replace(DELIVERED_TEE, number="SO501"), *CTX.orders))
    down_jacket = said("羽绒服我想退", "return_goods", 0.9, product="羽绒服", product_category="apparel")
    turn = respond(down_jacket, State(), ctx)
    assert keys(turn) == ["chat.ask_order"]
    assert [v for v in values(turn) if v.startswith("order:")] == ["order:SO500", "order:SO501"]
    # The only order of that kind is taken, and named, so the customer can say it is not that one.
    turn = respond(down_jacket, State(), replace(CTX, orders=(DELIVERED_TEE, *CTX.orders)))
    assert keys(turn)[0] == "chat.picked_order" and turn.state.slots["order"] == "SO500"


# --- slot readers --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "answer"),
    [("确认", True), ("好的", True), ("yes please", True), ("OK", True), ("不用了", False), ("no", False),
     ("算了吧", False), ("确认取消", True), ("运费多少", None), ("", None)],
)  # fmt: skip
def test_yes_no(text: str, answer: bool | None) -> None:
    assert slots.yes_no(text) is answer


@pytest.mark.parametrize(
    ("text", "most", "qty"),
    [("2", 3, 2), ("两件", 3, 2), ("都退", 3, 3), ("just one", 2, 1), ("5", 2, None), ("嗯", 2, None)],
)
def test_quantity(text: str, most: int, qty: int | None) -> None:
    assert slots.quantity_in(text, most) == qty


@pytest.mark.parametrize(
    ("text", "lang"),
    [("我要退货", "zh-CN"), ("I want to return this", "en"), ("SO2611220000123", "zh-CN"), ("1", "zh-CN")],
)
def test_language(text: str, lang: str) -> None:
    assert slots.language_of(text, "zh-CN") == lang


@pytest.mark.parametrize(
    ("text", "back"),
    [("把它退了", True), ("退这个", True), ("I want to return it", True), ("刚才那单", True),
     ("其它的不用", False), ("我要退货", False), ("return my order", False)],
)  # fmt: skip
def test_pointing_back(text: str, back: bool) -> None:
    assert slots.points_back(text) is back
