"""The service KPIs page in a real Chromium under its Content-Security-Policy: the demo's history
reached the rollups, the daily chart is drawn from the vendored chart.js by a static script, and a
number drills down to the tickets behind it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from .test_case_journey import sign_in
from .test_csp_pages import Watched, watched  # noqa: F401 - the fixture is used by name

pytestmark = pytest.mark.browser


def test_supervisor_reads_the_kpis_and_drills_down(watched: Callable[[str], Watched]) -> None:  # noqa: F811
    boss = watched("en")
    sign_in(boss.page, "supervisor")
    boss.page.get_by_test_id("nav-analytics").click()
    boss.page.wait_for_load_state("networkidle")
    expect(boss.page.get_by_test_id("daily-chart")).to_have_attribute("data-drawn", "1")
    assert boss.page.evaluate("typeof Chart") == "function"
    total = boss.page.get_by_test_id("total-contacts")
    assert int(total.inner_text()) > 0, "the demo's tickets did not reach the rollups"
    boss.collect()

    boss.page.get_by_test_id("total-resolved").locator("a").click()
    boss.page.wait_for_load_state("networkidle")
    rows = boss.page.get_by_test_id("drill-row")
    expect(rows.first).to_be_visible()
    first_ticket = boss.page.get_by_test_id("drill-ticket").first
    number = first_ticket.inner_text()
    first_ticket.click()
    boss.page.wait_for_load_state("networkidle")
    assert number in boss.page.url
    boss.collect()
