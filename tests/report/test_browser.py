"""The page in a real browser: charts render, nothing errors, nothing is fetched."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from report_page import CHARTS
from report_page.render import SECTIONS
from tests.report import logs
from tests.report.browser import chromium_path, open_page
from tests.tools import require_tool

pytestmark = [pytest.mark.browser, pytest.mark.spark]


@pytest.fixture(autouse=True)
def _needs_chromium() -> None:
    require_tool(
        chromium_path() is not None,
        "Chromium missing: apt-get install -y --no-install-recommends chromium",
    )


def test_the_page_renders_every_chart_without_errors_or_fetches(
    scenario: Any, tmp_path: Path
) -> None:
    with open_page(scenario.page, tmp_path / "profile") as visit:
        page = visit.page
        for chart in CHARTS:
            card = page.locator(f'[data-chart="{chart}"]')
            assert card.is_visible(), chart
            drawn = card.locator("svg.chart:visible")
            assert drawn.count() == 1, chart
            box = drawn.bounding_box()
            assert box and box["width"] > 300 and box["height"] > 80, (chart, box)
            shapes = card.locator("svg.chart:visible rect.bar, svg.chart:visible circle")
            assert shapes.count() >= 1, chart
            assert shapes.first.bounding_box()["width"] > 0, chart
        screenshot = tmp_path / "report-page.png"
        page.screenshot(path=str(screenshot), full_page=True)
    print(f"\nscreenshot: {screenshot}")
    assert visit.console_errors == []
    assert visit.requests == [scenario.page.resolve().as_uri()]
    assert screenshot.stat().st_size > 50_000


def test_picking_another_day_shows_that_days_top_ips(scenario: Any, tmp_path: Path) -> None:
    days = sorted(logs.requests_per_day(scenario.requests))
    earlier = days[0]
    with open_page(scenario.page, tmp_path / "profile") as visit:
        card = visit.page.locator('[data-chart="daily-top-ips"]')
        first_label = card.locator(".variant:visible text.label").first
        assert first_label.text_content() == logs.top_ip(scenario.requests, days[-1])[0]

        card.locator('select[name="period"]').select_option(str(earlier))
        assert card.locator(".variant:visible").count() == 1
        assert first_label.text_content() == logs.top_ip(scenario.requests, earlier)[0]

        card.locator('select[name="segment"]').select_option("bot")
        visible = card.locator(".variant:visible")
        assert visible.get_attribute("data-period") == str(earlier)
        assert visible.get_attribute("data-segment") == "bot"
    assert visit.console_errors == []


def test_the_report_sections_render_and_switch_without_errors(
    scenario: Any, tmp_path: Path
) -> None:
    days = sorted(logs.requests_per_day(scenario.requests))
    with open_page(scenario.page, tmp_path / "profile") as visit:
        page = visit.page
        for name in SECTIONS:
            card = page.locator(f'[data-section="{name}"]')
            assert card.is_visible(), name
            assert card.locator("svg.chart:visible, table.data:visible").count() >= 1 or (
                name in ("latency", "daily-top-referrers", "weekly-top-referrers")
            ), name  # a combined log has no latency; these logs carry no referrers
        changes = page.locator('[data-section="daily-changes"]')
        changes.locator('select[name="period"]').select_option(str(days[1]))
        cells = changes.locator(".variant:visible tbody tr").first.locator("td")
        expected = logs.requests_per_day(scenario.requests)
        assert cells.all_text_contents()[:3] == [
            "requests",
            f"{expected[days[1]]:,}",
            f"{expected[days[0]]:,}",
        ]
        paths = page.locator('[data-section="daily-top-paths"]')
        paths.locator('select[name="segment"]').select_option("bot")
        assert paths.locator(".variant:visible").get_attribute("data-segment") == "bot"
    assert visit.console_errors == []
    assert visit.requests == [scenario.page.resolve().as_uri()]
