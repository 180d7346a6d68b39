"""An SLA clock reads as people say a time, in the reader's language: a breached first response
on the desk says "超时 2 小时 43 分" / "overdue 2 h 43 m", never "首响 -163m"."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.routing import service as routing
from aftersales.rules import service as rules
from aftersales.sla import service as sla

from ..factories import Factory, Role
from ..integration.helpers import delivered_order
from ._support import sign_in

SH = ZoneInfo("Asia/Shanghai")
MONDAY_10 = datetime(2025, 6, 9, 10, 0, tzinfo=SH)


@pytest.fixture
def shop(db: Database, factory: Factory) -> Factory:
    factory.catalogue()
    delivered_order(factory, db, "SO-1", customer="C1")
    factory.customer_user("lina", "C1")
    factory.user("agent1", Role.AGENT_T1)
    rules.load_defaults(db)
    sla.load_defaults(db)
    routing.ensure_defaults(db)
    return factory


def _first_response_deadline(db: Database) -> datetime:
    with db.read() as uow:
        views = sla.clocks_for(uow.session, [1])
    return next(v.target_at for v in views[1] if v.metric == "first_response")


def _clock_text(page: str) -> str:
    found = re.search(r'data-metric="first_response".*?<span class="sla-left">(.*?)</span>', page, re.DOTALL)
    assert found, page[:800]
    return found.group(1).strip()


def test_a_breached_clock_says_how_long_it_is_overdue_in_the_readers_language(
    client: TestClient, db: Database, shop: Factory
) -> None:
    with clock.frozen_at(MONDAY_10):
        token = sign_in(client, "lina")
        answer = client.post(
            "/support", data={"csrf_token": token, "subject": "耳机没声音", "body": "耳机收到就没有声音"}
        )
        assert answer.status_code == 200
    deadline = _first_response_deadline(db)
    with clock.frozen_at(deadline + timedelta(hours=2, minutes=43)):
        sla.sweep(db)
        token = sign_in(client, "agent1")
        queue = client.get("/desk?scope=all").text
        assert _clock_text(queue) == "超时 2 小时 43 分"
        assert "sla-breached" in queue and "-163m" not in queue
        client.post("/language", data={"lang": "en", "next": "/", "csrf_token": token})
        assert _clock_text(client.get("/desk?scope=all").text) == "overdue 2 h 43 m"
    with clock.frozen_at(deadline - timedelta(minutes=12, seconds=5)):
        assert _clock_text(client.get("/desk?scope=all").text) == "12 m 05 s left"
