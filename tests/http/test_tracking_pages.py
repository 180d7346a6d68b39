"""Imported carrier scans as people see them: the order page names the exception's reason and the
returned parcel in Chinese and English, and the order API carries the carrier's own code."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from aftersales.db.uow import Database
from aftersales.integrations.tracking_import import import_payload
from aftersales.kit.access import Role

from ..factories import Factory
from ._support import bearer, sign_in

DATA = Path(__file__).resolve().parents[1] / "data" / "carriers"


def _imported(factory: Factory, db: Database) -> None:
    factory.catalogue()
    factory.put_order(number="SO-AS-1", shipments=[{"carrier": "YUN", "tracking_number": "YT2611020000001"}])
    payload = json.loads((DATA / "aftership_webhook.json").read_text(encoding="utf-8"))
    [result] = import_payload(db, "aftership", payload)
    assert (result.status, result.new_events) == ("returned", 7)


def test_the_order_page_tells_why_and_that_it_went_back(client: TestClient, factory: Factory, db: Database) -> None:
    _imported(factory, db)
    factory.user("agent", Role.AGENT_T1)
    token = sign_in(client, "agent")
    page = client.get("/orders/SO-AS-1").text
    assert 'data-testid="exception-reason">收件人拒收<' in page
    assert "退回寄件人" in page and "承运商已收到运单信息" in page
    client.post("/language", data={"csrf_token": token, "lang": "en", "next": "/orders/SO-AS-1"})
    english = client.get("/orders/SO-AS-1").text
    assert 'data-testid="exception-reason">refused by the recipient<' in english
    assert "Returned to sender" in english


def test_the_order_api_carries_the_carriers_code_and_the_reason(
    client: TestClient, factory: Factory, db: Database
) -> None:
    _imported(factory, db)
    factory.user("feed", Role.INTEGRATION)
    order = client.get("/api/v1/orders/SO-AS-1", headers=bearer(factory, "feed")).json()
    [parcel] = order["shipments"]
    assert parcel["status"] == "returned" and order["status"] == "shipped"
    codes = [(e["node"], e["carrier_code"], e["exception_reason"]) for e in parcel["events"]]
    assert codes == [
        ("info_received", "InfoReceived_001", None),
        ("picked_up", "InTransit_002", None),
        ("departed_hub", "InTransit_007", None),
        ("arrived_hub", "InTransit_003", None),
        ("out_for_delivery", "OutForDelivery_001", None),
        ("exception", "Exception_003", "refused"),
        ("returned", "Exception_010", None),
    ]
    assert all(e["event_id"].startswith("scan-") for e in parcel["events"])
