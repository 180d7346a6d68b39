"""The clocks, the help center and the priority reasons state the same facts, read from one source:
the SLA policy (its cells' targets and the calendar each channel counts on)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from aftersales.db.uow import Database
from aftersales.identity import service as identity
from aftersales.kit import clock
from aftersales.kit.access import Principal
from aftersales.knowledge import service as knowledge
from aftersales.routing import service as routing
from aftersales.rules import service as rules
from aftersales.sla import admin
from aftersales.sla import service as sla
from aftersales.sla.schemas import PolicyIn
from aftersales.tickets import service as tickets
from aftersales.tickets.domain import Channel
from aftersales.tickets.schemas import TicketIn
from aftersales.worker import wiring

from ..factories import Factory, Role
from .helpers import ADMIN, delivered_order

SH = ZoneInfo("Asia/Shanghai")
# A Saturday evening, after the desk's Saturday hours (10:00–16:00) and before a closed Sunday.
SATURDAY_EVENING = datetime(2025, 6, 14, 19, 0, tzinfo=SH)
ANGRY = "耳机坏了，客服也不理人，再不处理我就去12315投诉，还要发微博曝光！"


@pytest.fixture
def desk(db: Database, factory: Factory) -> dict[str, Principal]:
    factory.catalogue()
    delivered_order(factory, db, "SO-1", customer="C1")
    factory.customer_user("lina", "C1")
    factory.user("agent1", Role.AGENT_T1)
    rules.load_defaults(db)
    sla.load_defaults(db)
    knowledge.load_articles(db)
    knowledge.clear_cache()
    routing.ensure_defaults(db)
    wiring.register_handlers()  # as the web app and the worker do: help quotes the SLA's targets
    people = {}
    for name in ("lina", "agent1"):
        found = identity.principal_for_username(db, name)
        assert found is not None
        people[name] = found
    return people


def _first_response_due(db: Database, number: str, agent: Principal) -> datetime:
    ticket = tickets.get_ticket(db, number, agent)
    (clock_view,) = [c for c in ticket.clocks if c.metric == "first_response"]
    return clock_view.target_at


def _promised_minutes(db: Database, ticket_type: str, priority: str, metric: str) -> int:
    cells = {(p.ticket_type, p.priority, p.metric): p.target_minutes for p in admin.list_policies(db)}
    return cells[ticket_type, priority, metric]


def test_a_high_priority_complaint_handed_off_from_the_chat_on_saturday_is_due_when_promised(
    db: Database, desk: dict[str, Principal]
) -> None:
    with clock.frozen_at(SATURDAY_EVENING), db.write() as uow:
        number = tickets.open_from_chat(
            uow.session,
            desk["lina"],
            conversation_id=5,
            transcript=[{"role": "customer", "text": ANGRY}],
            intent="complaint",
            entities={"order_number": "SO-1"},
            order_number="SO-1",
            summary=ANGRY,
        )
        uow.commit()
    ticket = tickets.get_ticket(db, number, desk["agent1"])
    assert ticket.ticket_type.value == "complaint" and ticket.priority.value == "high"
    promised = _promised_minutes(db, "complaint", "high", "first_response")
    due = _first_response_due(db, number, desk["agent1"])
    # The chat is answered around the clock: 30 minutes means 30 minutes, not Monday morning.
    assert due == SATURDAY_EVENING + timedelta(minutes=promised)


def test_a_web_complaint_on_saturday_counts_the_promised_minutes_in_desk_hours(
    db: Database, desk: dict[str, Principal]
) -> None:
    with clock.frozen_at(SATURDAY_EVENING):
        number = tickets.open_ticket(
            db, TicketIn(body=ANGRY, channel=Channel.WEB, order_number="SO-1"), desk["lina"]
        ).number
    promised = _promised_minutes(db, "complaint", "high", "first_response")
    monday_opening = datetime(2025, 6, 16, 9, 0, tzinfo=SH)
    assert _first_response_due(db, number, desk["agent1"]) == monday_opening + timedelta(minutes=promised)


def test_the_priority_reasons_name_the_targets_the_clocks_count(db: Database, desk: dict[str, Principal]) -> None:
    with clock.frozen_at(SATURDAY_EVENING):
        number = tickets.open_ticket(
            db,
            TicketIn(body="快递一直没到，说好的三天，现在一周了", channel=Channel.WEB, order_number="SO-1"),
            desk["lina"],
        ).number
    ticket = tickets.get_ticket(db, number, desk["agent1"])
    kind, level = ticket.ticket_type.value, ticket.priority.value
    first = _promised_minutes(db, kind, level, "first_response")
    resolution = _promised_minutes(db, kind, level, "resolution")
    said = " ".join(r["en"] for r in ticket.priority_reasons)
    stated = {
        int(n) * (60 if unit.startswith("hour") else 1) for n, unit in re.findall(r"(\d+) (hours?|minutes?)", said)
    }
    assert stated == {first, resolution}, said
    said_zh = " ".join(r["zh"] for r in ticket.priority_reasons)
    assert "24小时内处理完毕" not in said_zh.replace(" ", "") or resolution == 1440


def test_no_priority_policy_states_a_duration_of_its_own(db: Database, desk: dict[str, Principal]) -> None:
    reasons = [
        text
        for p in rules.list_policies(db)
        if p.purpose == "ticket_priority"
        for text in (str(p.definition["then"].get("reason_zh", "")), str(p.definition["then"].get("reason_en", "")))
    ]
    assert reasons
    durations = re.compile(r"\d+\s*(小时|分钟|hours?|minutes?)|an hour")  # 30 天 is a condition, not a promise
    assert [r for r in reasons if durations.search(r)] == []


def test_help_states_the_complaint_targets_of_the_policy(db: Database, desk: dict[str, Principal]) -> None:
    article = knowledge.get(db, "contact-human")
    first = _promised_minutes(db, "complaint", "medium", "first_response")
    resolution = _promised_minutes(db, "complaint", "medium", "resolution")
    assert f"{first} 分钟" in article.body_zh and f"{first} minutes" in article.body_en
    assert f"{resolution // 60} 小时" in article.body_zh and f"{resolution // 60} hours" in article.body_en
    assert "{{" not in article.body_zh + article.body_en
    # An edited target shows in help at once: the article never wrote the number down.
    cell = next(
        p
        for p in admin.list_policies(db)
        if (p.ticket_type, p.priority, p.metric) == ("complaint", "medium", "first_response")
    )
    admin.update_policy(
        db, cell.id, PolicyIn(target_minutes=45, calendar_key=cell.calendar_key, version=cell.version), ADMIN
    )
    assert "45 分钟" in knowledge.get(db, "contact-human").body_zh
    hits = knowledge.search(db, "投诉多久响应", "en", 3)
    contact = [h for h in hits if h.slug == "contact-human"]
    assert not contact or "{{" not in contact[0].snippet


def test_the_service_hours_page_says_the_chat_is_answered_around_the_clock(
    db: Database, desk: dict[str, Principal]
) -> None:
    assert sla.channel_calendars()["chat"] == "chat"
    hours = sla.desk_hours(db, "chat")
    assert hours is not None and hours.always_open
