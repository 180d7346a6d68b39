"""The staffing page in a real Chromium under its Content-Security-Policy: the charts are drawn from
the vendored chart.js by a static script, and a roster saved through the form shows on the page."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from .test_case_journey import sign_in
from .test_csp_pages import Watched, watched  # noqa: F401 - the fixture is used by name

pytestmark = pytest.mark.browser


def test_supervisor_reads_the_chart_and_enters_a_shift(watched: Callable[[str], Watched]) -> None:  # noqa: F811
    boss = watched("en")
    sign_in(boss.page, "supervisor")
    boss.page.get_by_test_id("nav-staffing").click()
    boss.page.wait_for_load_state("networkidle")
    charts = boss.page.locator("canvas[data-staffing]")
    expect(charts.first).to_have_attribute("data-drawn", "1")
    assert boss.page.evaluate("typeof Chart") == "function"
    boss.collect()

    form = boss.page.get_by_test_id("roster-form")
    form.locator("input[name=start]").fill("00:00")
    form.locator("input[name=end]").fill("24:00")
    form.locator("input[name=agents]").fill("7")
    form.get_by_test_id("roster-save").click()
    expect(boss.page.get_by_test_id("roster-saved")).to_contain_text("48")
    group = form.locator("select[name=group_key]").input_value()
    section = boss.page.locator(f'[data-testid="staffing-group"][data-group="{group}"]')
    expect(section.locator('[data-testid="rostered"]').first).to_have_text("7")
    expect(section.locator("canvas")).to_have_attribute("data-drawn", "1")
    boss.collect()
