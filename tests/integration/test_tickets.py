"""Tickets end to end through the service: arrival (classified, prioritised, SLA clocks, routed),
replies and the clocks, versions, escalation, merge, corrections, the bot's hand-off, masking,
macros, one-click cases and what each role may see."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from aftersales.db.uow import Database
from aftersales.identity import service as identity
from aftersales.kit import clock
from aftersales.kit.access import Principal
from aftersales.kit.errors import Conflict, Forbidden, Invalid, NotFound
from aftersales.messaging import outbox
from aftersales.messaging.models import OutboxMessage
from aftersales.routing import service as routing
from aftersales.sla import service as sla
from aftersales.tickets import macros, presence
from aftersales.tickets import service as tickets
from aftersales.tickets.domain import Channel, MessageKind, TicketAction, TicketStatus
from aftersales.tickets.schemas import ActionIn, ClassificationIn, MessageIn, TicketIn
from aftersales.worker import wiring

from ..factories import Factory, Role
from .helpers import delivered_order, timeline_rows


def _principal(db: Database, username: str) -> Principal:
    found = identity.principal_for_username(db, username)
    assert found is not None
    return found


@pytest.fixture
def desk(db: Database, factory: Factory) -> dict[str, Principal]:
    """A shop with one delivered order, its customer, two agents on shift and a supervisor."""
    from aftersales.rules import service as rules

    factory.catalogue()
    delivered_order(factory, db, "SO-1", customer="C1")
    delivered_order(factory, db, "SO-POP", merchant="pop-b", customer="C1")
    factory.customer_user("lina", "C1")
    factory.user("agent1", Role.AGENT_T1)
    factory.user("agent2", Role.AGENT_T2)
    factory.user("boss", Role.SUPERVISOR)
    factory.merchant_user("mama", "pop-b")
    rules.load_defaults(db)
    sla.load_defaults(db)
    macros.load_default_macros(db)
    routing.ensure_defaults(db)
    people = {name: _principal(db, name) for name in ("lina", "agent1", "agent2", "boss", "mama")}
    for name in ("agent1", "agent2", "boss", "mama"):
        routing.change_status(db, people[name], routing.AgentStatus.ONLINE)
    return people


def _open(db: Database, who: Principal, body: str, order: str = "SO-1", **extra: object) -> str:
    data = TicketIn(body=body, channel=Channel.WEB, order_number=order, **extra)  # type: ignore[arg-type]
    return tickets.open_ticket(db, data, who).number


def test_a_ticket_arrives_classified_prioritised_with_clocks_and_an_agent(
    db: Database, desk: dict[str, Principal]
) -> None:
    number = _open(db, desk["lina"], "收到的耳机是坏的，完全没有声音")
    ticket = tickets.get_ticket(db, number, desk["agent1"])
    assert ticket.status is TicketStatus.NEW
    assert ticket.channel is Channel.WEB
    assert ticket.scenario.startswith("product.")
    assert ticket.responsibility in ("merchant", "logistics", "platform")
    assert ticket.auto_classification["scenario"] == ticket.scenario
    assert ticket.priority_reasons
    assert {c.metric for c in ticket.clocks} >= {"first_response"}
    assert all(c.status == "running" for c in ticket.clocks)
    assert ticket.assignee_user_id in (desk["agent1"].user_id, desk["agent2"].user_id, desk["boss"].user_id)
    assert ticket.requester_name == "李娜"
    kinds = [row["action"] for row in timeline_rows(db, "ticket")]
    assert kinds == ["ticket.opened"]
    with db.read() as uow:
        topics = uow.session.scalars(select(OutboxMessage.topic)).all()
    # The desk hears of it live (signal); analytics hears the event and counts a contact.
    assert "tickets.opened" in topics


def test_a_threat_to_escalate_raises_the_priority(db: Database, desk: dict[str, Principal]) -> None:
    calm = tickets.get_ticket(db, _open(db, desk["lina"], "请问发票什么时候开？"), desk["agent1"])
    angry = tickets.get_ticket(
        db, _open(db, desk["lina"], "耳机坏了，客服也不理人，再不处理我就去12315投诉，还要发微博曝光！"), desk["agent1"]
    )
    ranks = {"low": 0, "medium": 1, "high": 2, "urgent": 3}
    assert ranks[angry.priority.value] > ranks[calm.priority.value]
    assert angry.ticket_type.value in ("complaint", "dispute")


def test_first_reply_meets_the_clock_pending_pauses_and_the_customer_reopens(
    db: Database, desk: dict[str, Principal]
) -> None:
    number = _open(db, desk["lina"], "What's the status of my order?")
    agent = desk["agent1"]
    out = tickets.post_message(db, number, MessageIn(body="We are on it.", then=TicketStatus.PENDING), agent)
    assert out.status is TicketStatus.PENDING
    assert out.first_response_at is not None
    by_metric = {c.metric: c.status for c in out.clocks}
    assert by_metric["first_response"] == "met"
    assert all(status in ("met", "paused") for status in by_metric.values())

    customer_view = tickets.post_message(
        db, number, MessageIn(body="Thanks, any news?", kind=MessageKind.CUSTOMER), desk["lina"]
    )
    assert customer_view.status is TicketStatus.OPEN
    assert [m.kind for m in customer_view.messages] == [MessageKind.CUSTOMER, MessageKind.REPLY, MessageKind.CUSTOMER]
    assert {c.metric: c.status for c in tickets.get_ticket(db, number, agent).clocks}.get("resolution") in (
        "running",
        None,
    )
    with db.read() as uow:
        reply = uow.session.scalar(select(OutboxMessage).where(OutboxMessage.topic == "tickets.public_reply"))
    assert reply is not None and reply.payload["ticket_number"] == number


def test_customers_never_see_notes_and_only_their_own_tickets(
    db: Database, desk: dict[str, Principal], factory: Factory
) -> None:
    number = _open(db, desk["lina"], "我的订单什么时候到？")
    tickets.post_message(db, number, MessageIn(body="@agent2 这个客户是VIP", kind=MessageKind.NOTE), desk["agent1"])
    own = tickets.get_ticket(db, number, desk["lina"])
    assert [m.kind for m in own.messages] == [MessageKind.CUSTOMER]
    assert own.allowed_actions == [] and own.tags == []
    assert presence.my_mentions(db, desk["agent2"]) == [number]
    factory.put_order(number="SO-2", customer="C2", customer_name="王伟")
    factory.customer_user("wangwei", "C2")
    stranger = _principal(db, "wangwei")
    with pytest.raises(NotFound):
        tickets.get_ticket(db, number, stranger)
    with pytest.raises(Invalid, match="No order 'SO-1' that you can see"):
        _open(db, stranger, "看看别人的订单")
    with pytest.raises(Forbidden):
        tickets.act(db, number, ActionIn(action=TicketAction.SOLVE), desk["lina"])


def test_two_agents_with_the_same_version_get_one_success_and_one_conflict(
    db: Database, desk: dict[str, Principal]
) -> None:
    number = _open(db, desk["lina"], "where is my parcel")
    version = tickets.get_ticket(db, number, desk["agent1"]).version
    tickets.post_message(db, number, MessageIn(body="Looking now", version=version), desk["agent1"])
    with pytest.raises(Conflict, match="changed since you loaded it"):
        tickets.post_message(db, number, MessageIn(body="Me too", version=version), desk["agent2"])


def test_escalation_and_transfer_need_a_reason_and_keep_the_ticket(db: Database, desk: dict[str, Principal]) -> None:
    number = _open(db, desk["lina"], "The headphones broke after two days, I want my money back")
    with pytest.raises(Invalid, match="Say why"):
        tickets.act(db, number, ActionIn(action=TicketAction.ESCALATE), desk["agent1"])
    out = tickets.act(
        db, number, ActionIn(action=TicketAction.ESCALATE, reason="needs a refund decision"), desk["agent1"]
    )
    assert out.escalated
    assert out.group_key.startswith("tier2")
    assert [m.kind for m in out.messages] == [MessageKind.CUSTOMER]
    actions = [row["action"] for row in timeline_rows(db, "ticket")]
    assert "ticket.escalated" in actions


def test_a_pop_order_goes_to_the_merchant_first_who_sees_masked_contacts(
    db: Database, desk: dict[str, Principal]
) -> None:
    number = _open(db, desk["lina"], "奶瓶漏水，质量太差了", order="SO-POP", subject="奶瓶漏水")
    merchant_view = tickets.get_ticket(db, number, desk["mama"])
    assert merchant_view.group_key.startswith("merchant")
    assert "*" in merchant_view.requester_phone
    agent_view = tickets.get_ticket(db, number, desk["agent1"])
    assert agent_view.requester_phone == "13800138000"
    assert agent_view.priority.value in ("high", "urgent")  # baby product quality


def test_merge_closes_the_source_into_the_target(db: Database, desk: dict[str, Principal]) -> None:
    first = _open(db, desk["lina"], "快递怎么还没到")
    second = _open(db, desk["lina"], "再问一次，快递到哪了")
    out = tickets.act(db, second, ActionIn(action=TicketAction.MERGE, merge_into=first), desk["agent1"])
    assert out.status is TicketStatus.CLOSED and out.merged_into == first
    target = tickets.get_ticket(db, first, desk["agent1"])
    assert any(m.kind is MessageKind.NOTE and second in m.body for m in target.messages)
    assert second in target.links


def test_corrections_are_kept_and_measured(db: Database, desk: dict[str, Principal]) -> None:
    number = _open(db, desk["lina"], "东西收到了，但是盒子压坏了")
    before = tickets.get_ticket(db, number, desk["agent1"])
    # A correction to something the classifier did not say, so it must be counted as one.
    corrected = ("platform", "service.attitude")
    assert (before.responsibility, before.scenario) != corrected
    out = tickets.reclassify(
        db, number, ClassificationIn(responsibility=corrected[0], scenario=corrected[1]), desk["agent1"]
    )
    assert (out.responsibility, out.scenario) == corrected
    assert out.auto_classification["scenario"] == before.scenario
    report = tickets.classification_accuracy(db)
    assert report.total == 1
    with pytest.raises(Invalid, match="Unknown scenario"):
        tickets.reclassify(
            db, number, ClassificationIn(responsibility="logistics", scenario="nonsense"), desk["agent1"]
        )


def test_the_bot_hands_off_with_the_transcript_and_later_lines_join_the_same_ticket(
    db: Database, desk: dict[str, Principal]
) -> None:
    with db.write() as uow:
        number = tickets.open_from_chat(
            uow.session,
            desk["lina"],
            conversation_id=77,
            transcript=[{"role": "customer", "text": "我要退货"}, {"role": "bot", "text": "请问是哪个订单？"}],
            intent="return_goods",
            entities={"order_number": "SO-1"},
            order_number="SO-1",
            summary="转人工：退货",
        )
        again = tickets.open_from_chat(
            uow.session,
            desk["lina"],
            conversation_id=77,
            transcript=[],
            intent=None,
            entities={},
            order_number=None,
            summary="还在吗？",
        )
        tickets.add_chat_message(uow.session, 77, "人呢")
        uow.commit()
    assert again == number
    ticket = tickets.get_ticket(db, number, desk["agent1"])
    assert ticket.channel is Channel.CHAT and ticket.conversation_id == 77
    assert ticket.intent == "return_goods" and ticket.entities == {"order_number": "SO-1"}
    # The customer's words open the ticket; the whole conversation is a note for the staff only.
    assert "我要退货" in ticket.messages[0].body and "请问是哪个订单" not in ticket.messages[0].body
    assert ticket.messages[1].kind is MessageKind.NOTE and "请问是哪个订单" in ticket.messages[1].body
    assert [m.body for m in ticket.messages[2:]] == ["还在吗？", "人呢"]


def test_abusive_words_are_masked_when_shown(db: Database, desk: dict[str, Principal]) -> None:
    number = _open(db, desk["lina"], "你们这群傻逼，东西坏了都不管")
    shown = tickets.get_ticket(db, number, desk["agent1"]).messages[0].body
    assert "傻逼" not in shown and "东西坏了都不管" in shown


def test_a_macro_fills_the_ticket_values_and_proposes_status_and_tags(db: Database, desk: dict[str, Principal]) -> None:

    number = _open(db, desk["lina"], "Where is my order?")
    before = tickets.get_ticket(db, number, desk["agent1"])
    macro = next(m for m in macros.listed(db) if m["key"] == "ask_photos")
    fill = macros.fill(db, number, macro["id"], desk["agent1"], "zh-CN")
    assert "李娜" in fill.body and "SO-1" in fill.body and "{{" not in fill.body
    assert (fill.status, fill.tags) == ("pending", ["evidence.requested"])
    after = tickets.get_ticket(db, number, desk["agent1"])  # proposing writes nothing
    assert (after.status, len(after.messages), after.tags) == (before.status, len(before.messages), before.tags)
    with pytest.raises(Forbidden):
        macros.fill(db, number, macro["id"], desk["lina"], "zh-CN")


def test_a_case_started_from_the_ticket_goes_through_the_cases_policies(
    db: Database, desk: dict[str, Principal]
) -> None:
    from aftersales.cases.domain import CaseKind, CaseReason
    from aftersales.cases.schemas import CaseDraft, CaseLineIn

    number = _open(db, desk["lina"], "耳机坏了，要退货")
    draft = CaseDraft(
        order_number="-",
        kind=CaseKind.RETURN_REFUND,
        reason=CaseReason.DEFECT,
        lines=[CaseLineIn(line_no=1, quantity=1)],
    )
    case_number = tickets.start_case(db, number, draft, desk["agent1"])
    assert case_number.startswith("AS")
    assert tickets.start_case(db, number, draft, desk["agent1"]) == case_number  # one click twice: one case
    ticket = tickets.get_ticket(db, number, desk["agent1"])
    assert ticket.case_number == case_number
    assert any(case_number in m.body for m in ticket.messages if m.kind is MessageKind.NOTE)


def test_a_breach_raises_the_priority_and_escalates(db: Database, desk: dict[str, Principal]) -> None:
    start = clock.now()
    with clock.frozen_at(start):
        number = _open(db, desk["lina"], "请问发票怎么开")
    before = tickets.get_ticket(db, number, desk["agent1"])
    with clock.frozen_at(start + timedelta(days=30)):
        result = sla.sweep(db)
        wiring.register_handlers()
        outbox.drain(db)
    assert result.breached >= 1
    after = tickets.get_ticket(db, number, desk["agent1"])
    ranks = {"low": 0, "medium": 1, "high": 2, "urgent": 3}
    assert ranks[after.priority.value] == min(ranks[before.priority.value] + 1, 3)
    assert after.escalated
    assert "ticket.sla_breached" in [row["action"] for row in timeline_rows(db, "ticket")]


def test_a_breach_in_a_tier_two_queue_stays_there_and_is_recorded(db: Database, desk: dict[str, Principal]) -> None:
    start = clock.now()
    with clock.frozen_at(start):
        number = _open(db, desk["lina"], "商家拒绝退款，我们协商不成，请平台介入")
        tickets.act(
            db,
            number,
            ActionIn(action=TicketAction.ASSIGN, group_key="tier2-disputes", reason="a dispute for specialists"),
            desk["agent1"],
        )
    with clock.frozen_at(start + timedelta(days=30)):
        sla.sweep(db)
        wiring.register_handlers()
        outbox.drain(db)
    after = tickets.get_ticket(db, number, desk["agent1"])
    assert after.group_key == "tier2-disputes"
    assert "ticket.sla_breached" in [row["action"] for row in timeline_rows(db, "ticket")]


def test_the_at_risk_queue_lists_warned_and_breached_tickets_first_due_first(
    db: Database, desk: dict[str, Principal]
) -> None:
    tuesday_morning = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, a working day
    with clock.frozen_at(tuesday_morning):
        complaint = _open(db, desk["lina"], "耳机坏了，没有声音，客服也不回")
        question = _open(db, desk["lina"], "请问怎么开发票")
        untouched = _open(db, desk["lina"], "请问可以改地址吗")
        tickets.post_message(db, untouched, MessageIn(body="可以的"), desk["agent1"])
    with clock.frozen_at(tuesday_morning + timedelta(minutes=50)):
        sla.sweep(db)
        listed = [t.number for t in tickets.list_tickets(db, desk["boss"], scope="at_risk").items]
    kinds = {n: tickets.get_ticket(db, n, desk["boss"]).ticket_type.value for n in (complaint, question)}
    assert kinds == {complaint: "complaint", question: "consultation"}
    assert listed[:2] == [complaint, question]  # breached at 30 min, warned at 48 of 60 min
    assert untouched not in listed


def test_a_low_priority_question_gets_help_articles_at_once_and_the_clock_keeps_running(
    db: Database, desk: dict[str, Principal]
) -> None:
    from aftersales.knowledge import service as knowledge

    knowledge.load_articles(db)
    number = _open(db, desk["lina"], "请问怎么开发票？电子发票什么时候能开", subject="怎么开发票")
    ticket = tickets.get_ticket(db, number, desk["lina"])
    assert ticket.priority.value == "low"
    suggestion = ticket.messages[-1]
    assert suggestion.kind is MessageKind.SYSTEM and "/help/" in suggestion.body
    assert ticket.first_response_at is None
    assert {c.metric: c.status for c in ticket.clocks}["first_response"] == "running"
