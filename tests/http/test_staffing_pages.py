"""The supervisors' staffing page over HTTP on the real database: the forecast from orders placed
and tickets opened (read through their services), the chart's data against the roster, the roster
form and its refusals, who may open it, both languages."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from aftersales.db.uow import Database
from aftersales.kit import clock
from aftersales.kit.access import Principal, Role
from aftersales.orders import service as orders
from aftersales.orders.schemas import OrderIn
from aftersales.routing import service as routing
from aftersales.tickets import service as tickets
from aftersales.tickets.schemas import TicketIn

from ..factories import Factory
from ._support import csrf_token, sign_in

ZONE = ZoneInfo("Asia/Shanghai")
# Monday 2026-12-07 08:00 in Shanghai: "today" for every request below
NOW = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)
FEED = Principal(user_id=0, username="feed", role=Role.ADMIN, display_name="feed")


@pytest.fixture
def shop(db: Database, factory: Factory, client: TestClient) -> None:
    factory.catalogue()
    factory.user("boss", Role.SUPERVISOR)
    factory.user("agent-one", Role.AGENT_T1)
    routing.ensure_defaults(db)
    yesterday = datetime(2026, 12, 6, 10, 0, tzinfo=ZONE)
    for i in range(25):
        payload = factory.order_payload(f"SO-{i}")
        payload["placed_at"] = (yesterday + timedelta(minutes=i)).isoformat()
        orders.upsert_order(db, OrderIn.model_validate(payload), FEED)
    # two phone calls logged yesterday morning: yesterday's actual contacts
    for minute in (0, 40):
        with clock.frozen_at(yesterday + timedelta(minutes=minute)):
            tickets.open_ticket(db, TicketIn(body="我的快递到哪了", channel="phone", order_number="SO-1"), FEED)


def _sign_in(client: TestClient, username: str, lang: str = "en") -> None:
    token = sign_in(client, username)
    client.post("/language", data={"lang": lang, "csrf_token": token, "next": "/"}, follow_redirects=False)


def _charts(html: str) -> dict[str, dict[str, list[object]]]:
    found = re.findall(r"data-group=\"([^\"]+)\".*?data-staffing='([^']+)'", html, flags=re.S)
    return {group: json.loads(data.replace("&#34;", '"')) for group, data in found}


def test_supervisor_sees_the_forecast_against_the_roster_and_fills_the_gap(client: TestClient, shop: None) -> None:
    _sign_in(client, "boss")
    with clock.frozen_at(NOW):
        page = client.get("/supervisor/staffing")
        assert page.status_code == 200, page.text
        assert 'src="/static/js/staffing.js"' in page.text and "<script>" not in page.text
        # 25 orders yesterday, no 8 weeks of history: the 0.08 fallback stands in and says so
        assert 'data-testid="rate-basis"' in page.text and "0.08" in page.text
        charts = _charts(page.text)
        assert charts, page.text
        group, chart = next(iter(charts.items()))
        assert len(chart["labels"]) == 3 * 48 and len(chart["required"]) == 3 * 48
        assert any(chart["required"]) and not any(chart["rostered"])
        assert chart["short"] == [r > 0 for r in chart["required"]]  # type: ignore[operator]

        token = csrf_token(client)
        form = {"csrf_token": token, "group_key": group, "day": "2026-12-07", "start": "00:00", "end": "24:00"}
        saved = client.post("/supervisor/staffing/roster", data=form | {"agents": "40"}, follow_redirects=False)
        assert saved.status_code == 303 and saved.headers["location"] == "/supervisor/staffing?saved=48"
        again = client.post("/supervisor/staffing/roster", data=form | {"agents": "40"}, follow_redirects=False)
        assert again.status_code == 303  # the same shift twice changes nothing

        after = _charts(client.get("/supervisor/staffing").text)[group]
        today = slice(0, 48)
        assert after["rostered"][today] == [40] * 48
        assert not any(after["short"][today]) and any(after["short"][48:])


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("agents", "-3", "Enter the number of agents"),
        ("agents", "lots", "Enter the number of agents"),
        ("start", "09:15", "on the half hour"),
        ("end", "08:00", "must end after it starts"),
        ("day", "2027-06-01", "up to 28 days ahead"),
        ("day", "someday", "Choose the day"),
        ("group_key", "no-such-group", "Choose one of the skill groups"),
    ],
)
def test_a_wrong_roster_is_refused_with_a_sentence(
    client: TestClient, shop: None, db: Database, field: str, value: str, words: str
) -> None:
    _sign_in(client, "boss")
    with clock.frozen_at(NOW):
        form = {"csrf_token": csrf_token(client), "group_key": "*", "day": "2026-12-07", "start": "09:00",
                "end": "12:00", "agents": "3"}  # fmt: skip
        answer = client.post("/supervisor/staffing/roster", data=form | {field: value})
    assert answer.status_code == 422
    assert words in answer.text and 'data-testid="staffing-error"' in answer.text


def test_the_page_speaks_chinese_and_refusals_too(client: TestClient, shop: None) -> None:
    _sign_in(client, "boss", "zh-CN")
    with clock.frozen_at(NOW):
        page = client.get("/supervisor/staffing")
        assert "人力预测与排班" in page.text and "scheduling." not in page.text
        form = {"csrf_token": csrf_token(client), "group_key": "*", "day": "2026-12-07", "start": "09:15",
                "end": "12:00", "agents": "3"}  # fmt: skip
        refused = client.post("/supervisor/staffing/roster", data=form)
    assert refused.status_code == 422 and "请填写整点或半点时间" in refused.text


def test_only_supervisors_and_admins_open_it(client: TestClient, shop: None) -> None:
    assert client.get("/supervisor/staffing", follow_redirects=False).status_code in (303, 401)
    _sign_in(client, "agent-one")
    assert client.get("/supervisor/staffing").status_code == 403
    board = client.get("/supervisor/staffing?days=9")
    assert board.status_code == 403


def test_the_nav_and_the_board_link_to_it_and_days_are_checked(client: TestClient, shop: None) -> None:
    _sign_in(client, "boss")
    with clock.frozen_at(NOW):
        board = client.get("/supervisor")
        assert 'href="/supervisor/staffing"' in board.text
        assert client.get("/supervisor/staffing?days=7").status_code == 200
        wrong = client.get("/supervisor/staffing?days=99")
    assert wrong.status_code == 422 and "Forecast 1 to 7 days ahead" in wrong.text


def test_history_is_counted_per_interval_by_the_database(db: Database, shop: None) -> None:
    since = datetime(2026, 12, 6, 0, 0, tzinfo=ZONE)  # 16:00 UTC the day before: on the half hour
    until = since + timedelta(days=1)
    placed = orders.placed_per_interval(db, since, until, 1800)
    assert placed == {datetime(2026, 12, 6, 10, 0, tzinfo=ZONE): 25}
    came = tickets.arrivals_per_interval(db, since, until, 1800)
    assert sorted((at, channel, n) for at, _group, channel, n in came) == [
        (datetime(2026, 12, 6, 10, 0, tzinfo=ZONE), "phone", 1),
        (datetime(2026, 12, 6, 10, 30, tzinfo=ZONE), "phone", 1),
    ]
    assert orders.placed_per_interval(db, until, until + timedelta(days=1), 1800) == {}
