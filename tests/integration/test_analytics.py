"""Analytics hears the tickets', SLA's and orders' events through the outbox and files them as
metric events once each; the daily rollups kept live equal the rollups rebuilt from the events;
the dashboard reads the rollups and drills down to the tickets behind a number."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from aftersales.analytics import service as analytics
from aftersales.analytics.domain import DimType, Metric
from aftersales.analytics.models import MetricEvent
from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.kit.access import Principal
from aftersales.kit.errors import Invalid
from aftersales.messaging import outbox
from aftersales.messaging.models import OutboxMessage
from aftersales.tickets import service as tickets
from aftersales.tickets.domain import TicketAction, TicketStatus
from aftersales.tickets.schemas import ActionIn, MessageIn
from aftersales.worker import wiring

from .test_tickets import _open, desk  # noqa: F401 - the desk fixture: agents on shift and a supervisor


def _drain(db: Database) -> None:
    wiring.register_handlers()
    while outbox.drain(db):
        pass


def _counts(db: Database) -> dict[str, int]:
    with db.read() as uow:
        rows = uow.session.execute(select(MetricEvent.name, func.count()).group_by(MetricEvent.name)).all()
    return {name: n for name, n in rows}


def _journey(db: Database, desk: dict[str, Principal]) -> tuple[str, str]:  # noqa: F811
    one = _open(db, desk["lina"], "收到的耳机是坏的，完全没有声音")
    two = _open(db, desk["lina"], "请问发票什么时候开？", order="SO-POP")
    agent = desk["agent1"]
    tickets.post_message(db, one, MessageIn(body="很抱歉，我们马上处理。", then=TicketStatus.SOLVED), agent)
    tickets.post_message(db, two, MessageIn(body="发票已开。"), agent)
    tickets.post_message(db, two, MessageIn(body="请查收邮件。", then=TicketStatus.SOLVED), agent)
    tickets.act(db, two, ActionIn(action=TicketAction.REOPEN), agent)
    _drain(db)
    return one, two


def test_ticket_events_become_metric_events_once_each(db: Database, desk: dict[str, Principal]) -> None:  # noqa: F811
    _journey(db, desk)
    counts = _counts(db)
    assert counts[Metric.TICKET_CREATED] == 2
    assert counts[Metric.REPLY] == 3
    assert counts[Metric.FIRST_REPLY] == 2
    assert counts[Metric.RESOLVED] == 2
    assert counts[Metric.ONE_TOUCH] == 1  # the second ticket took two replies
    assert counts[Metric.REOPENED] == 1
    assert counts[Metric.SLA_MET] >= 2
    with db.read() as uow:
        first = uow.session.scalars(select(MetricEvent).where(MetricEvent.name == "first_reply")).all()
    # Credited to the ticket's assignee (replies to their author), filed by channel and team.
    assignees = {tickets.get_ticket(db, e.ticket_number, desk["boss"]).assignee_user_id for e in first}
    assert {e.agent_id for e in first} == assignees and all(e.channel == "web" and e.team for e in first)
    with db.read() as uow:
        replies = uow.session.scalars(select(MetricEvent).where(MetricEvent.name == "reply")).all()
    assert {e.agent_id for e in replies} == {desk["agent1"].user_id}
    assert all(e.value_s >= 0 and e.value_business_s >= 0 for e in first)

    # Every message delivered again (a retry) adds nothing.
    before = analytics.rollup_snapshot(db)
    with db.write() as uow:
        for message in uow.session.scalars(select(OutboxMessage)):
            message.delivered_at = None
            message.available_at = clock.now() - timedelta(seconds=1)
        uow.commit()
    _drain(db)
    assert _counts(db) == counts
    assert analytics.rollup_snapshot(db) == before


def test_rebuilt_rollups_equal_the_live_ones(db: Database, desk: dict[str, Principal]) -> None:  # noqa: F811
    _journey(db, desk)
    live = analytics.rollup_snapshot(db)
    assert live, "the journey left no rollups"
    assert analytics.rebuild(db)[0] == sum(_counts(db).values())
    assert analytics.rollup_snapshot(db) == live
    today = analytics.local_date(clock.now())
    analytics.rebuild(db, since=today)
    assert analytics.rollup_snapshot(db) == live


def test_the_dashboard_reads_the_rollups_and_drills_down(db: Database, desk: dict[str, Principal]) -> None:  # noqa: F811
    one, two = _journey(db, desk)
    today = analytics.local_date(clock.now())
    board = analytics.dashboard(db, today - timedelta(days=6), today, DimType.AGENT)
    assert board.total.tickets == 2 and board.total.resolved == 2
    assert board.total.one_touch_percent == pytest.approx(0.5)
    assert board.total.reopen_percent == pytest.approx(0.5)
    assert board.total.fcr_percent == pytest.approx(0.5)
    assert board.total.frt_p50_s is not None
    assert len(board.days) == 7 and board.days[-1].tickets == 2
    assert sum(r.resolved for r in board.rows) == 2 and all(r.label for r in board.rows)
    row = board.rows[0]
    behind = analytics.drill(db, "resolved", today, today, DimType.AGENT, row.key)
    assert len(behind) == row.resolved and {r.ticket_number for r in behind} <= {one, two}
    everything = analytics.drill(db, "resolved", today, today, DimType.ALL, None)
    assert {r.ticket_number for r in everything} == {one, two}
    with pytest.raises(Invalid):
        analytics.drill(db, "nonsense", today, today, DimType.ALL, None)
    with pytest.raises(Invalid):
        analytics.drill(db, "resolved", today, today, DimType.AGENT, "robert'); drop table x")
    with pytest.raises(Invalid):
        analytics.dashboard(db, today, today - timedelta(days=1), DimType.ALL)
