"""SLA clocks on a real database: start, pause/resume, retarget, met, stop, the sweep (warn and breach
once, only due rows), and the admin settings that feed them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import Conflict, Forbidden, Invalid
from aftersales.messaging.models import OutboxMessage
from aftersales.sla import admin, service
from aftersales.sla.models import SlaClock
from aftersales.sla.schemas import PolicyIn

from .helpers import ADMIN

SH = ZoneInfo("Asia/Shanghai")
SUPERVISOR = Principal(user_id=0, username="boss", role=Role.SUPERVISOR, display_name="boss")
MONDAY_9 = datetime(2025, 6, 9, 9, 0, tzinfo=SH)  # an ordinary Monday (2 June was Dragon Boat Festival)


@pytest.fixture
def sla_db(db: Database, no_outbox_kick: None) -> Database:
    admin.load_defaults(db)
    return db


def in_tx(db: Database, fn: Callable[[Session], Any]) -> Any:
    with db.write() as uow:
        result = fn(uow.session)
        uow.commit()
        return result


def clocks(db: Database, subject_id: int) -> dict[str, SlaClock]:
    with db.read() as uow:
        rows = uow.session.scalars(select(SlaClock).where(SlaClock.subject_id == subject_id))
        return {row.metric: row for row in rows}


def events(db: Database, subject_id: int) -> list[tuple[str, str, bool]]:
    return [(e.metric, e.kind, e.late) for e in service.events_of(db, subject_id)]


def outbox(db: Database) -> list[tuple[str, str, dict[str, Any]]]:
    with db.read() as uow:
        rows = uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return [(m.topic, m.idempotency_key, dict(m.payload)) for m in rows]


def start(db: Database, subject_id: int, ticket_type: str = "complaint", priority: str = "medium", **kw: Any) -> None:
    at = kw.pop("at", MONDAY_9)
    in_tx(db, lambda s: service.start(s, subject_id, ticket_type, priority, kw.get("team"), at))


def test_defaults_load_once_and_cover_every_cell(db: Database) -> None:
    assert admin.load_defaults(db) == 2 + 3 * 4 * 2
    assert admin.load_defaults(db) == 0
    policies = admin.list_policies(db)
    cell = {(p.ticket_type, p.priority, p.metric): p.target_minutes for p in policies}
    assert cell["consultation", "medium", "first_response"] == 60
    assert cell["complaint", "low", "first_response"] == 30
    assert cell["dispute", "medium", "first_response"] == 24 * 60
    assert cell["dispute", "high", "first_response"] == 4 * 60
    assert cell["complaint", "medium", "resolution"] == 24 * 60
    assert {c.key for c in admin.list_calendars(db)} == {"platform", "chat"}


def test_start_sets_deadlines_in_business_time_and_is_idempotent(sla_db: Database) -> None:
    start(sla_db, 1)
    start(sla_db, 1)  # a retried intake does not start a second set
    rows = clocks(sla_db, 1)
    assert set(rows) == {"first_response", "resolution"}
    first = rows["first_response"]
    assert first.status == "running" and first.calendar_key == "platform"
    assert first.target_at == MONDAY_9 + timedelta(minutes=30)
    assert first.warn_at == MONDAY_9 + timedelta(minutes=24)
    assert first.next_check_at == first.warn_at
    # 24 business hours from Monday 09:00: Mon 7.5 h, Tue 7.5 h, Wed 7.5 h, then 1.5 h on Thursday.
    assert rows["resolution"].target_at == datetime(2025, 6, 12, 10, 30, tzinfo=SH)
    assert events(sla_db, 1) == [("first_response", "started", False), ("resolution", "started", False)]


def test_a_team_with_its_own_calendar_and_wall_clock_urgent_tickets(sla_db: Database) -> None:
    saturday_night = datetime(2025, 6, 14, 22, 0, tzinfo=SH)
    start(sla_db, 2, "consultation", "medium", team="chat", at=saturday_night)
    assert clocks(sla_db, 2)["first_response"].target_at == saturday_night + timedelta(hours=1)
    start(sla_db, 3, "complaint", "urgent", at=saturday_night)
    row = clocks(sla_db, 3)["first_response"]
    assert (row.calendar_key, row.target_at) == ("24x7", saturday_night + timedelta(minutes=15))
    start(sla_db, 4, "consultation", "medium", team="no-such-team", at=saturday_night)
    # The platform calendar: Sunday is closed, so Monday 09:00 + 1 h.
    assert clocks(sla_db, 4)["first_response"].target_at == datetime(2025, 6, 16, 10, 0, tzinfo=SH)


def test_pause_keeps_the_time_left_and_resume_recomputes(sla_db: Database) -> None:
    start(sla_db, 5)
    in_tx(sla_db, lambda s: service.pause(s, 5, MONDAY_9 + timedelta(minutes=10)))
    paused = clocks(sla_db, 5)["first_response"]
    assert (paused.status, paused.used_seconds, paused.next_check_at) == ("paused", 600, None)
    in_tx(sla_db, lambda s: service.pause(s, 5, MONDAY_9 + timedelta(minutes=20)))  # twice changes nothing
    tuesday = datetime(2025, 6, 10, 17, 50, tzinfo=SH)
    in_tx(sla_db, lambda s: service.resume(s, 5, tuesday))
    row = clocks(sla_db, 5)["first_response"]
    # 20 minutes were left: 10 before Tuesday's close, 10 on Wednesday morning.
    assert row.status == "running"
    assert row.target_at == datetime(2025, 6, 11, 9, 10, tzinfo=SH)
    assert row.warn_at == datetime(2025, 6, 11, 9, 4, tzinfo=SH)
    kinds = [k for m, k, _ in events(sla_db, 5) if m == "first_response"]
    assert kinds == ["started", "paused", "resumed"]


def test_sweep_warns_then_breaches_once_and_publishes_each_once(sla_db: Database) -> None:
    start(sla_db, 6)
    assert service.sweep(sla_db, MONDAY_9 + timedelta(minutes=5)).checked == 0
    warned = service.sweep(sla_db, MONDAY_9 + timedelta(minutes=25))
    assert (warned.checked, warned.warned, warned.breached) == (1, 1, 0)
    assert service.sweep(sla_db, MONDAY_9 + timedelta(minutes=26)).checked == 0
    breached = service.sweep(sla_db, MONDAY_9 + timedelta(minutes=31))
    assert (breached.warned, breached.breached) == (0, 1)
    again = service.sweep(sla_db, MONDAY_9 + timedelta(minutes=45))
    assert (again.checked, again.warned, again.breached) == (0, 0, 0)
    row = clocks(sla_db, 6)["first_response"]
    assert (row.status, row.breached_at, row.next_check_at) == ("breached", row.target_at, None)
    messages = outbox(sla_db)
    assert [(t, k) for t, k, _ in messages] == [
        ("sla.warning", f"sla.warning:{row.id}"),
        ("sla.breached", f"sla.breached:{row.id}"),
    ]
    assert messages[1][2] == {
        "subject_id": 6,
        "metric": "first_response",
        "target_at": row.target_at.astimezone(UTC).isoformat(),
        "clock_id": row.id,
    }
    assert ("first_response", "breached", True) in events(sla_db, 6)
    # Met late afterwards: recorded as late, no second breach.
    assert in_tx(sla_db, lambda s: service.met(s, 6, "first_response", MONDAY_9 + timedelta(hours=1))) is False
    assert [k for m, k, _ in events(sla_db, 6) if m == "first_response"].count("breached") == 1


def test_a_failing_clock_is_backed_off_and_holds_up_no_other(sla_db: Database) -> None:
    from prometheus_client import REGISTRY

    start(sla_db, 20)
    start(sla_db, 21)
    with sla_db.write() as uow:  # a row no code path can handle (its status is unknown)
        uow.session.execute(
            update(SlaClock)
            .where(SlaClock.subject_id == 20, SlaClock.metric == "first_response")
            .values(status="bogus")
        )
        uow.commit()

    def failures() -> float:
        return REGISTRY.get_sample_value("aftersales_scan_item_failures_total", {"scan": "sla_clocks"}) or 0.0

    before = failures()
    at = MONDAY_9 + timedelta(minutes=31)
    result = service.sweep(sla_db, at)
    assert result.breached == 1 and clocks(sla_db, 21)["first_response"].status == "breached"
    assert failures() == before + 1
    bad = clocks(sla_db, 20)["first_response"]
    assert (bad.sweep_failures, bad.next_check_at) == (1, at + timedelta(minutes=1))
    # Not tried again before its delay; then tried again and put back for longer.
    assert service.sweep(sla_db, at + timedelta(seconds=30)).checked == 0
    service.sweep(sla_db, at + timedelta(minutes=1))
    bad = clocks(sla_db, 20)["first_response"]
    assert (bad.sweep_failures, bad.next_check_at) == (2, at + timedelta(minutes=3))
    assert failures() == before + 2


def test_a_clock_past_both_deadlines_breaches_without_a_separate_warning(sla_db: Database) -> None:
    start(sla_db, 7)
    result = service.sweep(sla_db, MONDAY_9 + timedelta(hours=2))
    assert (result.warned, result.breached) == (0, 1)


def test_sweep_reads_only_due_rows(sla_db: Database) -> None:
    # 300 tickets started far in the future of the sweep and 7 whose warning is due.
    for subject_id in range(100, 400):
        start(sla_db, subject_id, at=MONDAY_9 + timedelta(days=7))
    for subject_id in range(1000, 1007):
        start(sla_db, subject_id)
    result = service.sweep(sla_db, MONDAY_9 + timedelta(minutes=25), batch=3)
    assert (result.checked, result.warned, result.batches) == (7, 7, 3)
    if sla_db.is_sqlite:
        with sla_db.read() as uow:
            plan = uow.session.execute(
                text(
                    "EXPLAIN QUERY PLAN SELECT id FROM sla_clocks WHERE next_check_at IS NOT NULL "
                    "AND next_check_at <= :now ORDER BY next_check_at LIMIT 500"
                ),
                {"now": "2025-06-09 01:25:00"},
            ).all()
        assert any("ix_sla_clocks_next_check_at" in str(row) for row in plan), plan


def test_met_on_time_late_and_resolution_closes_the_first_response(sla_db: Database) -> None:
    start(sla_db, 8)
    assert in_tx(sla_db, lambda s: service.met(s, 8, "first_response", MONDAY_9 + timedelta(minutes=20))) is True
    assert in_tx(sla_db, lambda s: service.met(s, 8, "first_response", MONDAY_9 + timedelta(minutes=25))) is None
    start(sla_db, 9)
    # Late before any sweep saw it: the breach is still recorded (and no breach alert is published;
    # reports hear the late outcome from sla.met).
    assert in_tx(sla_db, lambda s: service.met(s, 9, "first_response", MONDAY_9 + timedelta(minutes=40))) is False
    assert ("first_response", "breached", True) in events(sla_db, 9)
    published = outbox(sla_db)
    assert [topic for topic, _key, _payload in published] == ["sla.met", "sla.met"]
    assert [(p["subject_id"], p["late"], p["elapsed_seconds"]) for _t, _k, p in published] == [
        (8, False, 1200),
        (9, True, 2400),
    ]
    start(sla_db, 10)
    assert in_tx(sla_db, lambda s: service.met(s, 10, "resolution", MONDAY_9 + timedelta(minutes=10))) is True
    rows = clocks(sla_db, 10)
    assert {r.status for r in rows.values()} == {"met"}
    assert rows["resolution"].used_seconds == 600
    with pytest.raises(Invalid, match="metric"):
        in_tx(sla_db, lambda s: service.met(s, 10, "lunch", MONDAY_9))


def test_retarget_counts_from_the_start_and_stop_all_stops(sla_db: Database) -> None:
    start(sla_db, 11, "dispute", "medium")
    assert clocks(sla_db, 11)["first_response"].target_at == datetime(2025, 6, 12, 10, 30, tzinfo=SH)
    in_tx(sla_db, lambda s: service.retarget(s, 11, "dispute", "high", MONDAY_9 + timedelta(hours=1)))
    row = clocks(sla_db, 11)["first_response"]
    # 4 business hours from Monday 09:00: 3 h before lunch, 1 h after 13:30.
    assert (row.priority, row.target_at) == ("high", datetime(2025, 6, 9, 14, 30, tzinfo=SH))
    # Lowered to a target already spent: the next sweep breaches it.
    in_tx(sla_db, lambda s: service.retarget(s, 11, "complaint", "low", MONDAY_9 + timedelta(hours=2)))
    assert service.sweep(sla_db, MONDAY_9 + timedelta(hours=2)).breached == 1
    in_tx(sla_db, lambda s: service.stop_all(s, 11, MONDAY_9 + timedelta(hours=3)))
    assert {r.status for r in clocks(sla_db, 11).values()} == {"stopped"}
    assert service.sweep(sla_db, MONDAY_9 + timedelta(days=30)).checked == 0
    with pytest.raises(Invalid, match="ticket type"):
        in_tx(sla_db, lambda s: service.retarget(s, 11, "praise", "low", MONDAY_9))


def test_pausing_a_clock_past_its_deadline_records_the_breach(sla_db: Database) -> None:
    start(sla_db, 12)
    in_tx(sla_db, lambda s: service.pause(s, 12, MONDAY_9 + timedelta(hours=1)))
    row = clocks(sla_db, 12)["first_response"]
    assert (row.status, row.breached_at) == ("paused", row.target_at)
    assert [t for t, _, _ in outbox(sla_db)] == ["sla.breached"]
    in_tx(sla_db, lambda s: service.resume(s, 12, MONDAY_9 + timedelta(hours=2)))
    assert clocks(sla_db, 12)["first_response"].status == "breached"
    assert service.sweep(sla_db, MONDAY_9 + timedelta(hours=3)).breached == 0


def test_clocks_for_shows_time_left_and_overdue(sla_db: Database) -> None:
    start(sla_db, 13)
    with clock.frozen_at(MONDAY_9 + timedelta(minutes=40)), sla_db.read() as uow:
        views = service.clocks_for(uow.session, [13, 14])
    assert views[14] == []
    first = next(v for v in views[13] if v.metric == "first_response")
    assert first.remaining_seconds == -600 and first.overdue
    resolution = next(v for v in views[13] if v.metric == "resolution")
    assert resolution.remaining_seconds == 24 * 3600 - 40 * 60


def test_unknown_type_or_priority_is_refused(sla_db: Database) -> None:
    with pytest.raises(Invalid, match="priority"):
        start(sla_db, 15, "complaint", "critical")
    with pytest.raises(Invalid, match="timezone-aware"):
        in_tx(sla_db, lambda s: service.start(s, 15, "complaint", "low", None, datetime(2025, 6, 2, 9)))


# --- admin settings -----------------------------------------------------------------------------
def test_policy_edits_are_validated_and_versioned(sla_db: Database) -> None:
    policy = next(
        p
        for p in admin.list_policies(sla_db)
        if (p.ticket_type, p.priority, p.metric) == ("complaint", "medium", "first_response")
    )
    saved = admin.update_policy(sla_db, policy.id, PolicyIn(target_minutes=45, version=policy.version), ADMIN)
    assert (saved.target_minutes, saved.version) == (45, policy.version + 1)
    with pytest.raises(Conflict, match="Reload"):
        admin.update_policy(sla_db, policy.id, PolicyIn(target_minutes=50, version=policy.version), ADMIN)
    with pytest.raises(Forbidden):
        admin.update_policy(sla_db, policy.id, PolicyIn(target_minutes=50), SUPERVISOR)
    with pytest.raises(Invalid, match="calendar"):
        admin.update_policy(sla_db, policy.id, PolicyIn(target_minutes=50, calendar_key="mars"), ADMIN)
    with pytest.raises(Invalid, match="target"):
        admin.update_policy(sla_db, policy.id, PolicyIn(target_minutes=10**7), ADMIN)
    start(sla_db, 20)
    assert clocks(sla_db, 20)["first_response"].target_at == MONDAY_9 + timedelta(minutes=45)


def test_entered_days_carry_2027_and_calendars_refuse_bad_periods(sla_db: Database) -> None:
    years = admin.coverage(sla_db, today=date(2026, 11, 23))
    assert [(y.year, y.covered) for y in years] == [(2026, True), (2027, False)]
    eve = datetime(2026, 12, 31, 17, 0, tzinfo=SH)
    start(sla_db, 21, at=eve)
    assert clocks(sla_db, 21)["first_response"].target_at == datetime(2026, 12, 31, 17, 30, tzinfo=SH)
    admin.set_public_day(sla_db, date(2027, 1, 1), "holiday", "元旦", ADMIN)
    # 90 minutes from Thursday 31 Dec 17:00: an hour that day, and with 1 Jan entered as a holiday
    # the last 30 minutes on Saturday 2 Jan from 10:00 (weekday rules past the package's data).
    assert admin.preview_deadline(sla_db, "platform", eve, 90) == datetime(2027, 1, 2, 10, 30, tzinfo=SH)
    assert admin.coverage(sla_db, today=date(2026, 11, 23))[1].entered_holidays == 1
    admin.remove_public_day(sla_db, date(2027, 1, 1), ADMIN)
    assert admin.preview_deadline(sla_db, "platform", eve, 90) == datetime(2027, 1, 1, 9, 30, tzinfo=SH)
    calendar = admin.list_calendars(sla_db)[1]
    assert calendar.key == "platform"
    with pytest.raises(Invalid, match="not a period"):
        admin.update_calendar(
            sla_db,
            "platform",
            periods={"mon": "nine to five"},
            time_zone="Asia/Shanghai",
            chinese_holidays=True,
            always_open=False,
            version=calendar.version,
            by=ADMIN,
        )
    with pytest.raises(Invalid, match="time zone"):
        admin.update_calendar(
            sla_db,
            "platform",
            periods={"mon": "09:00-17:00"},
            time_zone="Mars/Base",
            chinese_holidays=True,
            always_open=False,
            version=calendar.version,
            by=ADMIN,
        )
    with pytest.raises(Invalid, match="no open period"):
        admin.update_calendar(
            sla_db,
            "platform",
            periods={},
            time_zone="Asia/Shanghai",
            chinese_holidays=True,
            always_open=False,
            version=calendar.version,
            by=ADMIN,
        )
    saved = admin.add_closure(
        sla_db,
        "platform",
        datetime(2027, 1, 4, 9, tzinfo=SH),
        datetime(2027, 1, 4, 12, tzinfo=SH),
        "office move",
        calendar.version,
        ADMIN,
    )
    assert len(saved.closures) == 1
    assert admin.preview_deadline(sla_db, "platform", datetime(2027, 1, 4, 9, tzinfo=SH), 60) == datetime(
        2027, 1, 4, 14, 30, tzinfo=SH
    )
    with pytest.raises(Conflict):
        admin.remove_closure(sla_db, "platform", 0, calendar.version, ADMIN)
    assert admin.remove_closure(sla_db, "platform", 0, saved.version, ADMIN).closures == []


def test_a_reopened_ticket_starts_a_new_resolution_run(sla_db: Database) -> None:
    start(sla_db, 30)
    in_tx(sla_db, lambda s: service.met(s, 30, "resolution", MONDAY_9 + timedelta(minutes=20)))
    later = MONDAY_9 + timedelta(days=1)
    start(sla_db, 30, at=later)
    rows = clocks(sla_db, 30)
    assert rows["first_response"].status == "met"  # the customer was answered; that stays
    assert (rows["resolution"].status, rows["resolution"].started_at, rows["resolution"].used_seconds) == (
        "running",
        later,
        0,
    )
    assert [k for m, k, _ in events(sla_db, 30) if m == "resolution"] == ["started", "met", "started"]


def test_the_worker_task_sweeps_at_the_clocks_now(sla_db: Database) -> None:
    from aftersales.sla.tasks import sweep_sla_clocks

    start(sla_db, 40)
    with clock.frozen_at(MONDAY_9 + timedelta(minutes=25)):
        assert sweep_sla_clocks.call_local() == 1
    with clock.frozen_at(MONDAY_9 + timedelta(minutes=26)):
        assert sweep_sla_clocks.call_local() == 0
