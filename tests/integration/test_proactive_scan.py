"""The proactive scan on a real database: incidents from due orders only, once per episode however
often it runs (also by two workers at once), the customer's notice with its answer, a ticket when a
person must act (on the order's open ticket if there is one), resolution, and the CLI."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from aftersales.cli import app as cli_app
from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.kit.access import Role
from aftersales.notifications import service as notifications
from aftersales.orders import service as orders
from aftersales.proactive import service as proactive
from aftersales.proactive.models import Incident, Watch
from aftersales.proactive.schemas import ScanResult
from aftersales.tickets import service as tickets
from aftersales.tickets.models import Ticket, TicketMessage
from aftersales.tickets.schemas import TicketIn

from ..factories import FEED, T0, Factory
from .helpers import ADMIN, scan, shipment

# T0 is Sunday 2026-11-01 10:00 in Shanghai; the pick-up scan comes Monday 10:00 local.
PICKED = 24 * 60  # minutes after T0
MONDAY = T0 + timedelta(minutes=PICKED)
# 48 business hours on working days after Monday 10:00 local: Wednesday 10:00 local.
STALL_DUE = MONDAY + timedelta(hours=48)


@pytest.fixture
def shop(factory: Factory) -> Factory:
    factory.catalogue()
    return factory


def parcel_on_its_way(shop: Factory, number: str = "SO-1", tracking: str = "SF1", customer: str = "C1") -> None:
    promised = (T0 + timedelta(days=6)).isoformat()
    shop.put_order(number=number, customer=customer, shipments=[{**shipment(tracking), "promised_at": promised}])
    orders.record_logistics_event(shop.db, scan(f"{tracking}-1", tracking, "picked_up", PICKED, "杭州仓"), FEED)


def scan_at(db: Database, at: datetime) -> ScanResult:
    """The scan as the worker runs it at `at`: the outreach governor reads the same clock."""
    with clock.frozen_at(at):
        return proactive.scan(db, at)


def incidents(db: Database) -> list[Incident]:
    with db.read() as uow:
        return list(uow.session.scalars(select(Incident).order_by(Incident.id)))


def test_a_stalled_parcel_becomes_one_incident_with_a_notice_that_carries_the_answer(
    shop: Factory, db: Database
) -> None:
    parcel_on_its_way(shop)
    early = scan_at(db, STALL_DUE - timedelta(minutes=1))
    assert early.incidents == [] and early.taken_in == 1
    result = scan_at(db, STALL_DUE)
    assert [(i.kind, i.order_number) for i in result.incidents] == [("stalled", "SO-1")]
    [incident] = incidents(db)
    assert (incident.state, incident.first_signal_at, incident.detected_at) == ("notified", MONDAY, STALL_DUE)
    assert incident.next_checkpoint == "departed_hub"
    assert incident.eta_at == STALL_DUE + timedelta(hours=60)  # from "picked up", counted from now
    assert incident.notified_at == STALL_DUE
    customer_id = orders.customer_id_for(db, "C1")
    assert customer_id is not None
    # Only the proactive notice: the order's own status notices arrive too when an earlier test wired the outbox.
    [message] = [m for m in notifications.inbox(db, customer_id).items if m.link.startswith("/notices/")]
    assert message.link == f"/notices/{incident.id}"
    assert "物流暂时没有更新" in message.subject
    assert "预计送达：11月06日 22:00" in message.body and "下一站：离开分拨中心" in message.body
    assert "取消订单并退款" in message.body and "修改地址" not in message.body  # shipped: the address is fixed


def test_a_rescan_creates_nothing_new_for_the_same_episode(shop: Factory, db: Database) -> None:
    parcel_on_its_way(shop)
    assert len(scan_at(db, STALL_DUE).incidents) == 1
    for hours in (0, 1, 5):
        assert scan_at(db, STALL_DUE + timedelta(hours=hours)).incidents == []
    assert [i.kind for i in incidents(db)] == ["stalled"]
    customer_id = orders.customer_id_for(db, "C1")
    assert customer_id is not None
    told = [m for m in notifications.inbox(db, customer_id).items if m.link.startswith("/notices/")]
    assert len(told) == 1  # status notices of the order itself may arrive too when the outbox is wired


def test_two_workers_scanning_at_once_store_each_episode_once(shop: Factory, db: Database) -> None:
    for n in range(6):
        parcel_on_its_way(shop, number=f"SO-{n}", tracking=f"SF{n}", customer=f"C{n}")
    errors: list[BaseException] = []

    def work() -> None:
        try:
            proactive.scan(db, STALL_DUE)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    with clock.frozen_at(STALL_DUE):  # one clock for both workers and the outreach governor
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    found = incidents(db)
    assert sorted(i.order_number for i in found) == [f"SO-{n}" for n in range(6)]
    assert {i.state for i in found} == {"notified"}


def test_the_scan_reads_only_what_is_due(shop: Factory, db: Database) -> None:
    for n in range(5):
        parcel_on_its_way(shop, number=f"SO-{n}", tracking=f"SF{n}", customer=f"C{n}")
    first = scan_at(db, MONDAY + timedelta(hours=1))
    assert (first.taken_in, first.checked) == (5, 5)
    quiet = scan_at(db, MONDAY + timedelta(hours=2))
    assert (quiet.taken_in, quiet.checked) == (0, 0)  # nothing changed, nothing due: nothing read
    with db.read() as uow:
        due_at = set(uow.session.scalars(select(Watch.next_check_at)))
    assert due_at == {STALL_DUE}


def test_a_new_scan_resolves_the_stall_and_a_later_stall_is_a_new_episode(shop: Factory, db: Database) -> None:
    parcel_on_its_way(shop)
    scan_at(db, STALL_DUE)
    moved = PICKED + 50 * 60
    orders.record_logistics_event(db, scan("SF1-2", "SF1", "arrived_hub", moved, "上海转运中心"), FEED)
    assert scan_at(db, T0 + timedelta(minutes=moved + 1)).incidents == []
    assert [i.state for i in incidents(db)] == ["resolved"]
    # Stalled again two business days later (Friday → Tuesday), and now past its promise too.
    again = scan_at(db, datetime(2026, 11, 9, 2, 0, tzinfo=UTC) + timedelta(hours=12))
    assert sorted(i.kind for i in again.incidents) == ["late_risk", "stalled"]


def test_a_damaged_parcel_opens_a_ticket_once(shop: Factory, db: Database) -> None:
    parcel_on_its_way(shop)
    broken = scan("SF1-x", "SF1", "exception", PICKED + 120, "上海转运中心")
    orders.record_logistics_event(db, broken.model_copy(update={"description": "包裹破损"}), FEED)
    result = scan_at(db, MONDAY + timedelta(hours=3))
    assert [(i.kind, i.detail.get("reason")) for i in result.incidents] == [("carrier_exception", "damaged")]
    [incident] = incidents(db)
    assert incident.ticket_number
    ticket = tickets.get_ticket(db, incident.ticket_number, ADMIN)
    assert ticket.order_number == "SO-1"
    scan_at(db, MONDAY + timedelta(hours=4))
    with db.read() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Ticket)) == 1


def test_a_person_is_asked_on_the_orders_open_ticket_when_there_is_one(shop: Factory, db: Database) -> None:
    parcel_on_its_way(shop)
    desk = shop.user("agent", Role.AGENT_T1)
    agent = ADMIN.__class__(user_id=desk.id, username="agent", role=Role.AGENT_T1, display_name="agent")
    open_one = tickets.open_ticket(db, TicketIn(body="客户来电询问物流", order_number="SO-1", channel="phone"), agent)
    returned = scan("SF1-r", "SF1", "exception", PICKED + 120, "上海转运中心")
    orders.record_logistics_event(db, returned.model_copy(update={"description": "快件已退回寄件人"}), FEED)
    scan_at(db, MONDAY + timedelta(hours=3))
    [incident] = incidents(db)
    assert incident.ticket_number == open_one.number
    with db.read() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Ticket)) == 1
        notes = uow.session.scalars(select(TicketMessage.body).where(TicketMessage.kind == "note")).all()
    assert any("退回" in body for body in notes)


def test_out_of_stock_and_not_shipped_offer_the_address_change(shop: Factory, db: Database) -> None:
    shop.put_order(number="SO-9", customer="C9")
    paid = T0 + timedelta(minutes=1)
    result = scan_at(db, paid + timedelta(hours=46))  # 08:01 in Shanghai: past the quiet hours
    assert [i.kind for i in result.incidents] == ["not_shipped"]
    customer_id = orders.customer_id_for(db, "C9")
    assert customer_id is not None
    [message] = notifications.inbox(db, customer_id).items
    assert "修改地址" in message.body and "取消订单并退款" in message.body


def test_the_cli_prints_one_json_line_per_new_incident(shop: Factory, db: Database) -> None:
    parcel_on_its_way(shop)
    runner = CliRunner()
    out = runner.invoke(cli_app, ["proactive", "scan", "--at", STALL_DUE.isoformat()])
    assert out.exit_code == 0, out.output
    [line] = [x for x in out.stdout.strip().splitlines() if x.startswith("{")]
    row = json.loads(line)
    assert (row["order"], row["kind"]) == ("SO-1", "stalled")
    again = runner.invoke(cli_app, ["proactive", "scan", "--at", STALL_DUE.isoformat()])
    assert [x for x in again.stdout.splitlines() if x.startswith("{")] == []
    bad = runner.invoke(cli_app, ["proactive", "scan", "--at", "next tuesday"])
    assert bad.exit_code == 2


def test_a_short_pick_from_the_order_feed_is_an_incident_at_once(shop: Factory, db: Database) -> None:
    shop.put_order(number="SO-7", customer="C7")
    scan_at(db, T0 + timedelta(hours=1))
    shop.put_order(
        number="SO-7",
        customer="C7",
        version=2,
        lines=[{"line_no": 1, "sku": "SKU-1", "quantity": 2, "unit_price": "199.00", "out_of_stock": True}],
    )
    result = scan_at(db, T0 + timedelta(hours=2))
    assert [(i.kind, i.detail) for i in result.incidents] == [("out_of_stock", {"line_no": "1"})]
    customer_id = orders.customer_id_for(db, "C7")
    assert customer_id is not None
    [message] = notifications.inbox(db, customer_id).items
    assert "缺货" in message.subject and "修改地址" in message.body


def test_a_notice_nobody_can_receive_expires_after_a_day(shop: Factory, db: Database) -> None:
    parcel_on_its_way(shop)
    proactive.intake(db, STALL_DUE)
    assert [i.kind for i in proactive.check_due(db, STALL_DUE).incidents] == ["stalled"]
    with db.write() as uow:  # a customer notify() does not know: nobody to tell
        uow.session.execute(Incident.__table__.update().values(customer_id=0))
        uow.commit()
    assert proactive.tell(db, STALL_DUE) == (0, 0)
    assert proactive.tell(db, STALL_DUE + timedelta(hours=1)) == (0, 0)
    assert [i.state for i in incidents(db)] == ["open"]
    proactive.tell(db, STALL_DUE + timedelta(hours=24))
    [incident] = incidents(db)
    assert (incident.state, incident.detail.get("notice")) == ("resolved", "expired")
