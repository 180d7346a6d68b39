"""The service dashboard over HTTP: supervisors only, numbers that drill down to their tickets,
CSV and Excel export, and hostile input answered with a 4xx and a sentence, never a 500."""

from __future__ import annotations

import io
import zipfile

from fastapi.testclient import TestClient

from aftersales.db.uow import Database
from aftersales.kit.access import Principal

from ..factories import login
from .test_analytics import _journey
from .test_tickets import desk  # noqa: F401 - the desk fixture: agents on shift and a supervisor


def test_the_dashboard_shows_numbers_that_drill_down(
    client: TestClient,
    db: Database,
    desk: dict[str, Principal],  # noqa: F811
) -> None:
    one, two = _journey(db, desk)
    login(client, "boss")
    page = client.get("/supervisor/analytics?by=agent")
    assert page.status_code == 200
    assert 'data-testid="daily-chart"' in page.text and "chart.umd.min.js" in page.text
    assert 'data-testid="kpi-row"' in page.text
    drill = client.get("/supervisor/analytics/drill?metric=resolved&by=all")
    assert drill.status_code == 200
    assert one in drill.text and two in drill.text
    zh = client.get("/supervisor/analytics?by=team", headers={"Accept-Language": "zh-CN"})
    assert zh.status_code == 200

    csv = client.get("/supervisor/analytics/export.csv?by=channel")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("key,label,contacts,tickets,resolved")
    assert lines[1].startswith("total,total,2,2,2") and any(line.startswith("web,web,2,2,2") for line in lines)
    xlsx = client.get("/supervisor/analytics/export.xlsx?by=channel")
    assert xlsx.status_code == 200
    with zipfile.ZipFile(io.BytesIO(xlsx.content)) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert '<t xml:space="preserve">total</t>' in sheet and "<v>2</v>" in sheet


def test_hostile_input_gets_a_sentence_not_a_500(client: TestClient, db: Database, desk: dict[str, Principal]) -> None:  # noqa: F811
    login(client, "boss")
    for url in (
        "/supervisor/analytics?from=yesterday",
        "/supervisor/analytics?from=2026-12-01&to=2026-01-01",
        "/supervisor/analytics?from=2020-01-01&to=2026-01-01",
        "/supervisor/analytics?by=carrier%27%3B",
        "/supervisor/analytics/drill?metric=%3Cscript%3E",
        "/supervisor/analytics/drill?metric=resolved&by=agent&id=x%27or%201=1",
        "/supervisor/analytics/export.csv?from=2026-13-40",
    ):
        answer = client.get(url)
        assert 400 <= answer.status_code < 500, url
        assert "<script>" not in answer.text
    assert client.get("/supervisor/analytics/export.exe").status_code == 422
    assert client.get("/supervisor/analytics/drill").status_code == 422  # no metric named


def test_agents_and_customers_do_not_see_the_dashboard(
    client: TestClient,
    db: Database,
    desk: dict[str, Principal],  # noqa: F811
) -> None:
    for who in ("agent1", "lina"):
        client.cookies.clear()
        login(client, who)
        assert client.get("/supervisor/analytics", follow_redirects=False).status_code in (302, 303, 403)
        assert client.get("/supervisor/analytics/export.csv", follow_redirects=False).status_code in (302, 303, 403)
