"""Reference data read once per process (aftersales.db.refcache): the SLA policy matrix and the
calendars are cached, and every change an administrator makes shows at once, whether it was made
in this process or in another one (which only the version row in the database tells us)."""

from __future__ import annotations

from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from aftersales.db.uow import Database
from aftersales.identity import service as identity
from aftersales.kit import clock
from aftersales.kit.access import Role
from aftersales.routing import service as routing
from aftersales.routing.repository import RoutingRepository
from aftersales.routing.views import group_snapshots
from aftersales.rules import service as rules
from aftersales.rules.domain import Purpose
from aftersales.sla import admin
from aftersales.sla import service as sla
from aftersales.sla.models import SlaCalendar, SlaPolicy
from aftersales.sla.reference import Calendars
from aftersales.sla.repository import SlaRepository
from aftersales.sla.schemas import PolicyIn

from .helpers import ADMIN


def _first_response(db: Database) -> int | None:
    with db.read() as uow:
        return sla.promise(uow.session, "complaint", "medium").first_response_minutes


def _cell(db: Database) -> SlaPolicy:
    with db.read() as uow:
        return uow.session.execute(
            text(
                "SELECT id, version, calendar_key, target_minutes FROM sla_policies "
                "WHERE ticket_type = 'complaint' AND priority = 'medium' AND metric = 'first_response'"
            )
        ).one()  # type: ignore[return-value]


class _Statements:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, _conn: object, _cursor: object, statement: str, *_: object) -> None:
        self.seen.append(statement)

    def touching(self, table: str) -> int:
        return sum(1 for s in self.seen if f"FROM {table}" in s)


def test_policies_and_calendars_are_read_once_then_served_from_memory(db: Database) -> None:
    sla.load_defaults(db)
    assert _first_response(db) is not None
    statements = _Statements()
    event.listen(Engine, "before_cursor_execute", statements)
    try:
        for _ in range(3):
            with db.read() as uow:
                sla.promise(uow.session, "complaint", "medium")
                sla.clocks_for(uow.session, [1])
    finally:
        event.remove(Engine, "before_cursor_execute", statements)
    assert statements.touching("sla_policies") == 0
    assert statements.touching("sla_calendars") == 0
    assert statements.touching("sla_public_days") == 0
    assert statements.touching("reference_versions") == 3  # one small read per unit of work


def test_an_administrators_edit_shows_at_once(db: Database) -> None:
    sla.load_defaults(db)
    cell = _cell(db)
    assert _first_response(db) == cell.target_minutes  # cached now
    admin.update_policy(
        db, cell.id, PolicyIn(target_minutes=cell.target_minutes + 7, calendar_key=cell.calendar_key), ADMIN
    )
    assert _first_response(db) == cell.target_minutes + 7


def test_a_change_made_by_another_process_shows_once_its_version_changes(db: Database) -> None:
    sla.load_defaults(db)
    cell = _cell(db)
    assert _first_response(db) == cell.target_minutes
    # Another process's admin edit: the row and the area's version change in one transaction,
    # neither through this process's sessions (so nothing here was told).
    with db.write() as uow:
        uow.session.execute(text("UPDATE sla_policies SET target_minutes = 99 WHERE id = :id"), {"id": cell.id})
        uow.session.execute(text("UPDATE reference_versions SET version = 12345 WHERE area = 'sla'"))
        uow.commit()
    assert _first_response(db) == 99


def test_a_change_rolled_back_is_never_served(db: Database) -> None:
    sla.load_defaults(db)
    cell = _cell(db)
    assert _first_response(db) == cell.target_minutes
    with db.write() as uow:
        row = uow.session.get(SlaPolicy, cell.id)
        assert row is not None
        row.target_minutes = 5
        uow.session.flush()
        # Inside the writing transaction the change is visible to its own reads, around the cache.
        assert sla.promise(uow.session, "complaint", "medium").first_response_minutes == 5
        # leaving without commit rolls back
    assert _first_response(db) == cell.target_minutes


def test_a_new_calendar_is_known_to_the_clocks_at_once(db: Database) -> None:
    sla.load_defaults(db)
    with db.read() as uow:
        assert not Calendars(SlaRepository(uow.session)).exists("night-shift")
    with db.write() as uow:
        uow.session.add(
            SlaCalendar(
                key="night-shift",
                name_zh="夜班",
                name_en="Night shift",
                time_zone="Asia/Shanghai",
                always_open=True,
                chinese_holidays=False,
                weekly={},
                closures=[],
                updated_at=clock.now(),
                updated_by="test",
            )
        )
        uow.commit()
    with db.read() as uow:
        assert Calendars(SlaRepository(uow.session)).exists("night-shift")


def test_a_priority_policy_switched_off_stops_deciding_at_once(db: Database) -> None:
    rules.load_defaults(db)
    with db.read() as uow:
        before = rules.active_rules(uow.session, Purpose.TICKET_PRIORITY.value)
    assert before
    first = rules.get_policy(db, before[0].key)
    rules.update_policy(db, first.key, first.definition, False, first.priority, ADMIN, first.version)
    with db.read() as uow:
        after = rules.active_rules(uow.session, Purpose.TICKET_PRIORITY.value)
    assert first.key not in {r.key for r in after}


def test_a_new_member_of_a_routing_group_counts_at_once(db: Database) -> None:
    identity.create_user(db, username="amy", password="amy-password-123", role=Role.AGENT_T1)
    routing.ensure_defaults(db)
    with db.read() as uow:
        before = {g.key: g.members for g in group_snapshots(RoutingRepository(uow.session))}
    identity.create_user(db, username="bob", password="bob-password-123", role=Role.AGENT_T1)
    routing.ensure_defaults(db)  # bob gets a profile and the tier's groups
    with db.read() as uow:
        after = {g.key: g.members for g in group_snapshots(RoutingRepository(uow.session))}
    assert sum(after.values()) > sum(before.values())
