"""The notice page is its customer's (staff may open any), offers only what works, and says a
missing or malformed notice in a 4xx; the supervisors' incident list; the API, scoped."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.kit.access import Role
from aftersales.orders import service as orders
from aftersales.proactive import service as proactive
from aftersales.proactive.models import Incident

from ..factories import FEED, T0, Factory
from ..integration.helpers import scan, shipment
from ._support import bearer, sign_in


def _stalled(factory: Factory, db: Database) -> int:
    factory.catalogue()
    factory.put_order(shipments=[shipment("SF1")])
    factory.put_order(number="SO-2", customer="C2")
    orders.record_logistics_event(db, scan("e1", "SF1", "picked_up", 24 * 60, "杭州仓"), FEED)
    moment = T0 + timedelta(days=3, hours=1)
    with clock.frozen_at(moment):  # the outreach governor reads the same clock
        proactive.scan(db, moment)
    with db.read() as uow:
        incident = uow.session.scalar(select(Incident).where(Incident.kind == "stalled"))
        assert incident is not None
        return incident.id


def test_the_customer_reads_her_notice_with_only_the_actions_that_work(
    client: TestClient, factory: Factory, db: Database
) -> None:
    incident_id = _stalled(factory, db)
    factory.customer_user("lina", "C1")
    sign_in(client, "lina")
    page = client.get(f"/notices/{incident_id}")
    assert page.status_code == 200
    assert 'data-testid="notice-eta"' in page.text and 'data-testid="notice-cancel"' in page.text
    assert "notice-change-address" not in page.text  # shipped: the address is fixed
    assert 'href="/support?order=SO-1"' in page.text


def test_another_customer_gets_a_404_and_a_malformed_id_a_4xx(
    client: TestClient, factory: Factory, db: Database
) -> None:
    incident_id = _stalled(factory, db)
    factory.customer_user("other", "C2")
    sign_in(client, "other")
    assert client.get(f"/notices/{incident_id}").status_code == 404
    assert client.get("/notices/99999999").status_code == 404
    for bad in ("abc", "-1", "1e9", "9" * 40):
        assert 400 <= client.get(f"/notices/{bad}").status_code < 500


def test_supervisors_see_open_incidents_with_time_to_notice(client: TestClient, factory: Factory, db: Database) -> None:
    _stalled(factory, db)
    factory.user("boss", Role.SUPERVISOR)
    sign_in(client, "boss")
    page = client.get("/supervisor/incidents")
    assert page.status_code == 200
    assert page.text.count('data-testid="incident-row"') == 2  # SO-1 stalled, SO-2 not shipped
    assert "物流停滞" in page.text and "未发货" in page.text and 'data-testid="median-time-to-notice"' in page.text


def test_the_api_lists_an_orders_incidents_only_to_who_may_see_the_order(
    client: TestClient, factory: Factory, db: Database
) -> None:
    _stalled(factory, db)
    factory.user("desk", Role.AGENT_T1)
    mine = client.get("/api/v1/orders/SO-1/incidents", headers=bearer(factory, "desk"))
    assert mine.status_code == 200 and [i["kind"] for i in mine.json()] == ["stalled"]
    factory.customer_user("other", "C2")
    assert client.get("/api/v1/orders/SO-1/incidents", headers=bearer(factory, "other")).status_code == 404
    assert client.get("/api/v1/proactive/incidents", headers=bearer(factory, "other")).status_code == 403


def test_a_notice_held_for_quiet_hours_is_not_shown_as_told(client: TestClient, factory: Factory, db: Database) -> None:
    """At 23:00 in Shanghai the governor defers the notice to 08:00: the list says it is queued,
    not that the customer was told."""
    factory.catalogue()
    factory.put_order(shipments=[shipment("SF1")])
    orders.record_logistics_event(db, scan("e1", "SF1", "picked_up", 24 * 60, "杭州仓"), FEED)
    night = T0 + timedelta(days=3, hours=13)  # 23:00 Asia/Shanghai
    with clock.frozen_at(night):
        proactive.scan(db, night)
    factory.user("boss", Role.SUPERVISOR)
    sign_in(client, "boss")
    page = client.get("/supervisor/incidents")
    assert page.status_code == 200 and 'data-testid="incident-row"' in page.text
    assert "通知排队中" in page.text and "已通知" not in page.text
