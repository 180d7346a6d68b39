"""Satisfaction surveys over time, through the outbox and the sweep, on the real database: a chat
is surveyed as it is solved, any other channel a day later; a survey lapses after 7 days; one per
ticket however often it is reopened; answered once; low scores alert the supervisors; the
supervisors' numbers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from sqlalchemy import select, text

from aftersales.cases.events import CaseStatusChanged
from aftersales.db.uow import Database
from aftersales.identity import service as identity
from aftersales.kit import clock
from aftersales.kit.access import Principal
from aftersales.kit.errors import Conflict, Invalid, NotFound
from aftersales.messaging import outbox
from aftersales.notifications import service as notifications
from aftersales.notifications.models import EmailMessage
from aftersales.routing import service as routing
from aftersales.sla import service as sla
from aftersales.surveys import handlers as survey_handlers
from aftersales.surveys import service as surveys
from aftersales.surveys.models import Survey
from aftersales.tickets import service as tickets
from aftersales.tickets.domain import Channel, TicketStatus
from aftersales.tickets.schemas import MessageIn, TicketIn
from aftersales.worker import wiring

from ..factories import Factory, Role
from .helpers import delivered_order, outbox_rows

T0 = datetime(2026, 11, 16, 2, 0, tzinfo=UTC)  # a Monday, 10:00 in Shanghai


def _principal(db: Database, username: str) -> Principal:
    found = identity.principal_for_username(db, username)
    assert found is not None
    return found


@pytest.fixture
def desk(db: Database, factory: Factory, no_outbox_kick: None) -> Iterator[dict[str, Principal]]:
    from aftersales.rules import service as rules

    wiring.register_handlers()
    with clock.frozen_at(T0):
        factory.catalogue()
        delivered_order(factory, db, "SO-1", customer="C1")
        factory.customer_user("lina", "C1")
        factory.user("agent1", Role.AGENT_T1)
        factory.user("agent2", Role.AGENT_T2)
        factory.user("boss", Role.SUPERVISOR)
        rules.load_defaults(db)
        sla.load_defaults(db)
        routing.ensure_defaults(db)
        with db.write() as uow:  # the customer has an address for the emailed survey
            uow.session.execute(text("UPDATE customers SET email = 'li.na@example.com', locale = 'zh-CN'"))
            uow.commit()
        people = {name: _principal(db, name) for name in ("lina", "agent1", "agent2", "boss")}
        for name in ("agent1", "agent2"):
            routing.change_status(db, people[name], routing.AgentStatus.ONLINE)
        _drain(db)
        yield people


_conversations = iter(range(100, 10_000))


def _ticket(db: Database, desk: dict[str, Principal], channel: Channel) -> str:
    """A web-form ticket, or a chat handed over by the bot (chat tickets arrive only that way)."""
    if channel is not Channel.CHAT:
        data = TicketIn(body="耳机没有声音，怎么办？", channel=channel, order_number="SO-1")
        return tickets.open_ticket(db, data, desk["lina"]).number
    with db.write() as uow:
        number = tickets.open_from_chat(
            uow.session,
            desk["lina"],
            conversation_id=next(_conversations),
            transcript=[{"role": "customer", "text": "耳机没有声音"}],
            intent=None,
            entities={},
            order_number="SO-1",
            summary="转人工：耳机没有声音",
        )
        uow.commit()
    return number


def _drain(db: Database) -> None:
    """Deliver until nothing is left: a handler's own events (the survey sent on a solve) follow."""
    for _ in range(5):
        if outbox.drain(db) == 0:
            return


def _solve(db: Database, number: str, agent: Principal, body: str = "已为您补发，请查收。") -> None:
    tickets.post_message(db, number, MessageIn(body=body, then=TicketStatus.SOLVED), agent)
    _drain(db)


def _survey(db: Database, number: str) -> Survey:
    with db.read() as uow:
        rows = list(uow.session.scalars(select(Survey).where(Survey.subject_ref == number)))
    assert len(rows) == 1, rows
    return rows[0]


def _survey_links(db: Database, number: str) -> list[str]:
    survey = _survey(db, number)
    items = notifications.inbox(db, survey.customer_id).items
    mine = f"/surveys/{survey.id}."
    return [item.link for item in items if item.topic == "survey.sent" and item.link.startswith(mine)]


def _token(db: Database, number: str) -> str:
    [link] = _survey_links(db, number)
    assert link.startswith("/surveys/")
    return link.removeprefix("/surveys/")


def test_a_chat_is_surveyed_as_it_is_solved_by_inbox_and_email(db: Database, desk: dict[str, Principal]) -> None:
    with clock.frozen_at(T0):
        number = _ticket(db, desk, Channel.CHAT)
        _solve(db, number, desk["agent1"])
        survey = _survey(db, number)
        assert survey.status == "sent"
        assert clock.ensure_utc(survey.sent_at) == T0  # type: ignore[arg-type]
        assert clock.ensure_utc(survey.expires_at) == T0 + timedelta(days=7)  # type: ignore[arg-type]
        assert survey.agent_ids == [desk["agent1"].user_id]
        assert len(_survey_links(db, number)) == 1
        with db.read() as uow:
            emails = list(uow.session.scalars(select(EmailMessage)))
        invites = [e for e in emails if "/surveys/" in e.body_text]
        assert len(invites) == 1 and "满意" in invites[0].subject  # the customer reads zh-CN


def test_a_web_ticket_is_surveyed_a_day_after_it_is_solved_and_lapses_after_7_days(
    db: Database, desk: dict[str, Principal]
) -> None:
    with clock.frozen_at(T0):
        number = _ticket(db, desk, Channel.WEB)
        _solve(db, number, desk["agent1"])
        assert _survey(db, number).status == "scheduled"
        clock.advance(timedelta(hours=23, minutes=59))
        surveys.sweep(db)
        _drain(db)
        assert _survey(db, number).status == "scheduled" and _survey_links(db, number) == []
        clock.advance(timedelta(minutes=1))
        assert surveys.sweep(db) == 1
        _drain(db)
        assert _survey(db, number).status == "sent"
        token = _token(db, number)
        clock.advance(timedelta(days=7))
        assert surveys.sweep(db) == 1
        assert _survey(db, number).status == "expired" and _survey(db, number).next_check_at is None
        assert surveys.sweep(db) == 0  # nothing left to look at
        with pytest.raises(surveys.LinkGone):
            surveys.answer(db, token, ["5", "5", "5"], [], "")


def test_one_survey_per_ticket_however_often_it_is_reopened_and_solved(
    db: Database, desk: dict[str, Principal]
) -> None:
    with clock.frozen_at(T0):
        web = _ticket(db, desk, Channel.WEB)
        chat = _ticket(db, desk, Channel.CHAT)
        _solve(db, web, desk["agent1"])
        _solve(db, chat, desk["agent1"])
        clock.advance(timedelta(hours=3))
        for number in (web, chat):  # the customer writes again: both reopen
            tickets.post_message(db, number, MessageIn(body="还是不行", kind="customer"), desk["lina"])
            _solve(db, number, desk["agent2"], "换了一副新的，请再试试。")
        # The web ticket's survey waits a day from the second solve and credits both agents.
        survey = _survey(db, web)
        assert survey.status == "scheduled"
        assert clock.ensure_utc(survey.due_at) == T0 + timedelta(hours=27)
        assert survey.agent_ids == [desk["agent1"].user_id, desk["agent2"].user_id]
        # The chat's went out at the first solve and is not sent again.
        assert _survey(db, chat).status == "sent" and len(_survey_links(db, chat)) == 1
        clock.advance(timedelta(hours=24))
        surveys.sweep(db)
        _drain(db)
        assert len(_survey_links(db, web)) == 1
        assert [r["payload"]["subject_ref"] for r in outbox_rows(db, "survey.sent")].count(web) == 1


def test_a_survey_is_answered_once_and_a_low_score_alerts_the_supervisors(
    db: Database, desk: dict[str, Principal]
) -> None:
    with clock.frozen_at(T0):
        number = _ticket(db, desk, Channel.CHAT)
        _solve(db, number, desk["agent1"])
        token = _token(db, number)
        with pytest.raises(Invalid):
            surveys.answer(db, token, ["5", "9", "5"], [], "")
        with pytest.raises(Invalid):
            surveys.answer(db, token, ["2", "4", "5"], ["not-a-tag"], "")
        done = surveys.answer(db, token, ["2", "4", "5"], ["not_solved", "slow_reply"], "  耳机还是没声音 ")
        assert (done.result, done.speed, done.attitude) == (2, 4, 5)
        assert done.reason_tags == ["not_solved", "slow_reply"] and done.comment == "耳机还是没声音"
        with pytest.raises(Conflict):
            surveys.answer(db, token, ["5", "5", "5"], [], "")
        with pytest.raises(Conflict):
            surveys.open_survey(db, token)
        [event] = outbox_rows(db, "csat.submitted")
        payload = event["payload"]
        assert payload["ticket_number"] == number and payload["agent_ids"] == [desk["agent1"].user_id]
        assert (payload["result"], payload["speed"], payload["attitude"]) == (2, 4, 5)
        assert payload["channel"] == "chat" and payload["order_number"] == "SO-1"
        _drain(db)
        alerts = notifications.staff_inbox(db, desk["boss"].user_id).items
        assert [a.topic for a in alerts].count("staff.csat_low") == 1
        assert alerts[0].link == f"/desk/tickets/{number}"
        for forged in ("", "1.2.3", token[:-2] + "xy", token.replace(".", "x", 1)):
            with pytest.raises(NotFound):
                surveys.open_survey(db, forged)


def test_the_supervisors_numbers(db: Database, desk: dict[str, Principal]) -> None:
    """Three chats answered (5,5,5) by agent1, (4,3,4) by agent1+agent2, (2,2,3) by agent2, and one
    sent and unanswered by agent2: result 2/3, speed 1/3, attitude 2/3, headline 1/3, rate 3/4."""
    with clock.frozen_at(T0):
        answers = [
            (["5", "5", "5"], ["agent1"]),
            (["4", "3", "4"], ["agent1", "agent2"]),
            (["2", "2", "3"], ["agent2"]),
        ]
        for scores, agents in answers:
            number = _ticket(db, desk, Channel.CHAT)
            for name in agents[:-1]:
                tickets.post_message(db, number, MessageIn(body="正在处理。"), desk[name])
            _solve(db, number, desk[agents[-1]])
            surveys.answer(db, _token(db, number), scores, [], "")
        _solve(db, _ticket(db, desk, Channel.CHAT), desk["agent2"])
        report = surveys.report(db, T0 - timedelta(days=1), T0 + timedelta(days=1))
        total = report.total
        assert (total.responses, total.sent) == (3, 4)
        assert (total.result, total.speed, total.attitude) == (Fraction(2, 3), Fraction(1, 3), Fraction(2, 3))
        assert total.headline == Fraction(1, 3) and total.response_rate == Fraction(3, 4)
        agents = {line.name: line.summary for line in report.agents}
        assert agents[desk["agent1"].display_name].responses == 2
        assert agents[desk["agent1"].display_name].headline == Fraction(1, 2)
        assert agents[desk["agent2"].display_name].response_rate == Fraction(2, 3)
        assert [s.result for s in report.recent] == [2, 4, 5]
        empty = surveys.report(db, T0 + timedelta(days=1), T0 + timedelta(days=2))
        assert empty.total.responses == 0 and empty.total.headline is None


def _case_event(db: Database, number: str, to: str) -> CaseStatusChanged:
    customer_id = _principal(db, "lina").customer_id
    return CaseStatusChanged(
        case_id=1, case_number=number, customer_id=customer_id, merchant_id=None, order_number="SO-1",
        kind="return_refund", from_status="refunding", to_status=to, occurred_at=clock.now().isoformat(),
    )  # fmt: skip


def test_a_case_is_surveyed_a_day_after_its_outcome_once(db: Database, desk: dict[str, Principal]) -> None:
    with clock.frozen_at(T0):
        survey_handlers._case_closed(_case_event(db, "AS-DONE", "completed"), "k1")
        survey_handlers._case_closed(_case_event(db, "AS-NO", "rejected"), "k2")
        survey_handlers._case_closed(_case_event(db, "AS-GONE", "cancelled"), "k3")
        survey_handlers._case_closed(_case_event(db, "AS-DONE", "completed"), "k4")  # delivered twice
        with db.read() as uow:
            rows = {s.subject_ref: s for s in uow.session.scalars(select(Survey).where(Survey.subject_type == "case"))}
        assert set(rows) == {"AS-DONE", "AS-NO"}
        assert {s.status for s in rows.values()} == {"scheduled"}
        assert {clock.ensure_utc(s.due_at) for s in rows.values()} == {T0 + timedelta(hours=24)}
        clock.advance(timedelta(hours=24))
        assert surveys.sweep(db) == 2
        _drain(db)
        token = _token(db, "AS-DONE")
        surveys.answer(db, token, ["1", "2", "2"], ["not_solved"], "")
        _drain(db)
        alerts = notifications.staff_inbox(db, desk["boss"].user_id).items
        assert [a.link for a in alerts if a.topic == "staff.csat_low_case"] == ["/cases/AS-DONE"]
