"""The help center's service hours come from the desk's SLA calendar at request time: what the
page says is what the deadlines count, and an administrator's change shows at once."""

from __future__ import annotations

from fastapi.testclient import TestClient

from aftersales.db.uow import Database
from aftersales.kit.access import SYSTEM
from aftersales.knowledge import service as knowledge
from aftersales.sla import admin as sla_admin
from aftersales.sla import service as sla


def _row(page: str, day: str) -> str:
    start = page.index(f'data-testid="hours-{day}"')
    return page[start : page.index("</tr>", start)]


def test_the_hours_page_reads_the_calendar_and_follows_its_changes(client: TestClient, db: Database) -> None:
    sla.load_defaults(db)
    knowledge.load_articles(db)
    page = client.get("/service-hours", headers={"Accept-Language": "en"}).text
    assert "09:00–12:00, 13:30–18:00" in _row(page, "mon")
    assert "10:00–16:00" in _row(page, "sat")
    assert "closed" in _row(page, "sun")
    assert "22:00" not in page
    # Chat hand-offs count on the 7×24 chat calendar, and the page says so.
    assert 'data-testid="hours-chat"' in page and "around the clock" in page

    sla_admin.update_calendar(
        db,
        "platform",
        periods={d: "08:00-22:00" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
        time_zone="Asia/Shanghai",
        chinese_holidays=True,
        always_open=False,
        version=None,
        by=SYSTEM,
    )
    changed = client.get("/service-hours").text
    assert "08:00–22:00" in _row(changed, "sun")

    # The article people read links to this page instead of writing hours of its own.
    article = client.get("/help/contact-human", headers={"Accept-Language": "en"}).text
    assert 'href="/service-hours"' in article
    # Its complaint targets are the policy's, filled in when the page is read.
    assert "30 minutes" in article and "{{" not in article


def test_without_the_calendar_the_page_says_nothing_untrue(client: TestClient, db: Database) -> None:
    page = client.get("/service-hours")
    assert page.status_code == 200 and 'data-testid="hours-mon"' not in page.text
