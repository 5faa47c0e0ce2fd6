"""The page's sections of the newer report tables, from hand-written rows in a real lakehouse.

The rows are written with PyIceberg into the embedded SQLite catalog
(`tests/report/report_tables.py`); the page reads them back through the same code as
`lakehouse report-page` and every expected figure below is worked out by hand.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from report_page.data import PageData, gather_reports
from report_page.render import LATENCY_SECTIONS, SECTIONS, render_page
from tests.report.page_reader import PageReader, read_page
from tests.report.report_tables import write_lakehouse

SUN, MON, TUE = date(2024, 10, 6), date(2024, 10, 7), date(2024, 10, 8)
LAST_WEEK, WEEK = date(2024, 9, 30), MON


def _status(s2: int, s3: int, s4: int, s499: int, s5: int) -> dict[str, int]:
    return {
        "status_2xx": s2,
        "status_3xx": s3,
        "status_4xx": s4,
        "status_499": s499,
        "status_5xx": s5,
    }


def _traffic(period: str, day: date, requests: int, size: int, status: tuple, visitors: int):
    row = {period: day, "requests": requests, "bytes": size, **_status(*status)}
    return row | {"visitors": visitors, "human_visitors": visitors // 2}


def _path(day: date, rank: int, path: str, requests: int, status: tuple, segment: str = "all"):
    return {
        "day": day,
        "segment": segment,
        "rank": rank,
        "path": path,
        "requests": requests,
        "bytes": requests * 2000,
        **_status(*status),
    }


def _ip(day: date, rank: int, ip: str, requests: int) -> dict[str, Any]:
    return {
        "day": day,
        "segment": "all",
        "rank": rank,
        "client_ip": ip,
        "requests": requests,
        "bytes": requests * 10,
    }


def _latency(period: str, day: date, rank: int, path: str | None, p95: int, upstream: bool):
    return {
        period: day,
        "rank": rank,
        "path": path,
        "requests": 1000 // (rank + 1),
        "p50_ms": p95 // 10,
        "p95_ms": p95,
        "p99_ms": p95 * 3,
        "max_ms": p95 * 20,
        "slow_requests": 10 // (rank + 1),
        "upstream_p95_ms": p95 - 30 if upstream else None,
        "upstream_share": 0.8 if upstream else None,
    }


TABLES: dict[str, list[dict[str, Any]]] = {
    "daily_traffic": [
        _traffic("day", SUN, 1000, 2_000_000, (900, 50, 30, 10, 10), 100),
        _traffic("day", MON, 1500, 3_000_000, (1300, 50, 60, 30, 60), 120),  # 10% errors
        _traffic("day", TUE, 1200, 3_000_000, (1140, 0, 60, 0, 0), 120),  # 5% errors
    ],
    "weekly_traffic": [
        _traffic("week_start", LAST_WEEK, 1000, 2_000_000, (900, 50, 30, 10, 10), 100),
        # Visitors are distinct over the week: fewer than the days' sum (240).
        _traffic("week_start", WEEK, 2700, 6_000_000, (2440, 50, 120, 30, 60), 150),
    ],
    "daily_top_paths": [
        _path(MON, 1, "/index.html", 500, (500, 0, 0, 0, 0)),
        _path(MON, 2, "/api", 300, (300, 0, 0, 0, 0)),
        _path(MON, 3, "/old", 100, (100, 0, 0, 0, 0)),
        # 20 of /api's 600 requests are 1xx: in requests only, drawn as "other".
        _path(TUE, 1, "/api", 600, (500, 0, 40, 10, 30)),
        _path(TUE, 2, "/index.html", 400, (380, 20, 0, 0, 0)),
        _path(TUE, 3, "/new", 150, (0, 0, 150, 0, 0)),
        _path(TUE, 1, "/index.html", 300, (300, 0, 0, 0, 0), segment="human"),
    ],
    "weekly_top_paths": [_path(WEEK, 1, "/api", 900, (800, 0, 40, 10, 30)) | {"week_start": WEEK}],
    "daily_top_ips": [
        _ip(MON, 1, "198.51.100.1", 300),
        _ip(MON, 2, "198.51.100.2", 200),
        _ip(TUE, 1, "198.51.100.2", 400),
        _ip(TUE, 2, "198.51.100.3", 100),
    ],
    "daily_top_not_found": [
        {"day": TUE, "segment": "all", "rank": 1, "path": "/wp-login.php", "requests": 40},
        {"day": TUE, "segment": "bot", "rank": 1, "path": "/wp-login.php", "requests": 38},
    ],
    "weekly_top_not_found": [
        {"week_start": WEEK, "segment": "all", "rank": 1, "path": "/wp-login.php", "requests": 70}
    ],
    "daily_top_referrers": [
        {
            "day": TUE,
            "segment": "all",
            "rank": 1,
            "referrer_domain": "www.google.com",
            "requests": 300,
            "bytes": 1_500_000,
        }
    ],
    "weekly_top_referrers": [],
    "daily_top_software": [
        {
            "day": TUE,
            "kind": "browser",
            "rank": 1,
            "family": "Chrome",
            "requests": 50,
            "share": 0.625,
        },
        {
            "day": TUE,
            "kind": "browser",
            "rank": 2,
            "family": "Firefox",
            "requests": 30,
            "share": 0.375,
        },
        {"day": TUE, "kind": "os", "rank": 1, "family": "Windows", "requests": 80, "share": 1.0},
    ],
    "weekly_top_software": [],
    "daily_latency": [
        _latency("day", MON, 0, None, 180, upstream=True),
        _latency("day", MON, 1, "/api", 220, upstream=True),
        _latency("day", TUE, 0, None, 200, upstream=True),
        _latency("day", TUE, 1, "/api", 250, upstream=True),
        _latency("day", TUE, 2, "/index.html", 40, upstream=False),
    ],
    "weekly_latency": [_latency("week_start", WEEK, 0, None, 190, upstream=True)],
}


def page_data(settings: Any) -> PageData:
    data = PageData(
        generated_at=datetime(2024, 10, 9, tzinfo=UTC), runtime="embedded", warehouse="file:/wh"
    )
    gather_reports(settings, data)
    return data


def render(root: Path, tables: dict[str, list[dict[str, Any]]]) -> str:
    return render_page(page_data(write_lakehouse(root, tables)))


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> PageReader:
    return read_page(render(tmp_path_factory.mktemp("sections"), TABLES))


def test_every_section_is_on_the_page(page: PageReader) -> None:
    assert list(page.sections) == [*SECTIONS[:-1], "latency", *LATENCY_SECTIONS]


def test_each_day_is_compared_with_the_day_before(page: PageReader) -> None:
    section = page.sections["daily-changes"]
    assert section.rows[(str(TUE), "all")] == [
        ["requests", "1,200", "1,500", "-300", "-20.0%"],
        ["visitors", "120", "120", "±0", "+0.0%"],
        ["human visitors", "60", "60", "±0", "+0.0%"],
        ["error rate", "5.0%", "10.0%", "-5.0 pp", "-50.0%"],  # (4xx + 499 + 5xx) / requests
        ["bytes", "3.0 MB", "3.0 MB", "±0", "+0.0%"],
    ]
    assert section.rows[(str(MON), "all")][3] == [
        "error rate",
        "10.0%",
        "5.0%",
        "+5.0 pp",
        "+100.0%",
    ]
    # Nothing is known before the first day: no previous value, no change.
    assert section.rows[(str(SUN), "all")][0] == ["requests", "1,000", "—", "—", "—"]
    assert section.hidden == {(str(MON), "all"), (str(SUN), "all")}


def test_each_week_is_compared_with_the_week_before(page: PageReader) -> None:
    rows = page.sections["weekly-changes"].rows[(str(WEEK), "all")]
    assert rows[0] == ["requests", "2,700", "1,000", "+1,700", "+170.0%"]
    assert rows[1] == ["visitors", "150", "100", "+50", "+50.0%"]
    assert rows[2] == ["human visitors", "75", "50", "+25", "+50.0%"]
    assert rows[4] == ["bytes", "6.0 MB", "2.0 MB", "+4.0 MB", "+200.0%"]


def test_movers_list_new_entries_then_the_biggest_changes(page: PageReader) -> None:
    paths = page.sections["path-movers"].rows[("", "")]
    assert paths == [
        ["/new", "150", "—", "—", "—", "— → 3", "new"],
        ["/api", "600", "300", "+300", "+100.0%", "2 → 1", "up 1"],
        ["/index.html", "400", "500", "-100", "-20.0%", "1 → 2", "down 1"],
        ["/old", "—", "100", "—", "—", "3 → —", "dropped out"],
    ]
    ips = page.sections["ip-movers"].rows[("", "")]
    assert [(r[0], r[-1]) for r in ips] == [
        ("198.51.100.3", "new"),
        ("198.51.100.2", "up 1"),
        ("198.51.100.1", "dropped out"),
    ]


def test_top_paths_show_requests_bytes_and_the_status_mix(page: PageReader) -> None:
    section = page.sections["daily-top-paths"]
    latest = section.texts[(str(TUE), "all")]
    assert latest["label"] == ["/api", "/index.html", "/new"]
    # 40 + 10 + 30 errors of 600 requests; bytes = requests * 2000.
    assert latest["value"][0] == "600 · 1.2 MB · 13% errors"
    assert latest["value"][2] == "150 · 300.0 KB · 100% errors"
    for part in ("2xx: 500 of 600", "4xx: 40 of 600", "499: 10 of 600", "5xx: 30 of 600"):
        assert f"/api — {part}" in section.tooltips
    assert "/api — other: 20" in section.tooltips
    assert section.texts[(str(TUE), "human")]["label"] == ["/index.html"]
    assert page.sections["weekly-top-paths"].texts[(str(WEEK), "all")]["label"] == ["/api"]


def test_not_found_referrers_and_software(page: PageReader) -> None:
    not_found = page.sections["daily-not-found"].texts
    assert not_found[(str(TUE), "all")]["value"] == ["40"]
    assert not_found[(str(TUE), "bot")]["value"] == ["38"]
    assert page.sections["weekly-not-found"].texts[(str(WEEK), "all")]["value"] == ["70"]
    referrers = page.sections["daily-top-referrers"].texts[(str(TUE), "all")]
    assert (referrers["label"], referrers["value"]) == (["www.google.com"], ["300 · 1.5 MB"])
    assert page.sections["weekly-top-referrers"].notes == ["no data yet"]
    software = page.sections["daily-software"]
    assert software.texts[(str(TUE), "browser")]["value"] == ["50 · 62.5%", "30 · 37.5%"]
    assert software.texts[(str(TUE), "os")]["label"] == ["Windows"]
    assert software.hidden == {(str(TUE), "os")}  # browsers first


def test_latency_per_day_per_week_and_per_path(page: PageReader) -> None:
    latency = page.sections["latency"]
    assert latency.rows[("", "")] == [  # newest first
        [str(TUE), "1,000", "20", "200", "600", "4,000", "10 (1.00%)", "170", "80%"],
        [str(MON), "1,000", "18", "180", "540", "3,600", "10 (1.00%)", "150", "80%"],
    ]
    assert f"{MON:%b %d} p95: 180 ms" in latency.tooltips
    weekly = page.sections["weekly-latency"].rows[("", "")]
    assert weekly == [[str(WEEK), "1,000", "19", "190", "570", "3,800", "10 (1.00%)", "160", "80%"]]
    per_path = page.sections["latency-per-path"].texts[(str(TUE), "all")]
    assert per_path["label"] == ["/api", "/index.html"]
    assert per_path["value"][1] == "p50 4 · p95 40 · p99 120 · max 800 ms"


def test_a_log_without_request_time_gets_a_note_not_empty_charts(tmp_path: Path) -> None:
    tables = TABLES | {"daily_latency": [], "weekly_latency": []}
    page = read_page(render(tmp_path, tables))
    assert not set(LATENCY_SECTIONS) & set(page.sections)
    latency = page.sections["latency"]
    assert latency.svgs == 0 and latency.rows == {}
    assert len(latency.notes) == 1 and "$request_time" in latency.notes[0]


def test_a_lakehouse_without_the_new_tables_says_so_in_each_section(tmp_path: Path) -> None:
    page = read_page(render(tmp_path, {"daily_top_ips": TABLES["daily_top_ips"]}))
    assert list(page.sections) == list(SECTIONS)
    for name in set(SECTIONS) - {"ip-movers", "latency"}:
        assert page.sections[name].notes == ["no data yet"], name
    assert page.sections["ip-movers"].rows[("", "")][0][0] == "198.51.100.3"


HOSTILE = (
    "/<script>alert(1)</script>",
    "/x?<img src=x onerror=alert(2)>",
    "javascript:alert(3)",
    "/</svg><svg onload=alert(4)>",
)


@pytest.mark.browser
def test_the_sections_work_in_a_browser_and_hostile_text_stays_text(tmp_path: Path) -> None:
    from tests.report.browser import chromium_path, open_page
    from tests.tools import require_tool

    require_tool(
        chromium_path() is not None,
        "Chromium missing: apt-get install -y --no-install-recommends chromium",
    )
    hostile = {
        "daily_top_paths": TABLES["daily_top_paths"]
        + [_path(TUE, i + 1, p, 10, (10, 0, 0, 0, 0), "bot") for i, p in enumerate(HOSTILE)],
        "daily_top_referrers": TABLES["daily_top_referrers"]
        + [
            {
                "day": TUE,
                "segment": "bot",
                "rank": i + 1,
                "referrer_domain": p,
                "requests": 5,
                "bytes": 50,
            }
            for i, p in enumerate(HOSTILE)
        ],
    }
    html = tmp_path / "report.html"
    html.write_text(render(tmp_path / "lakehouse", TABLES | hostile), encoding="utf-8")
    with open_page(html, tmp_path / "profile") as visit:
        page = visit.page
        for name in [*SECTIONS, *LATENCY_SECTIONS]:
            card = page.locator(f'[data-section="{name}"]')
            assert card.is_visible(), name
            shown = card.locator("svg.chart:visible, table.data:visible, p.empty:visible")
            assert shown.count() >= 1, name
        # The pickers switch variants (the page's own script runs under its CSP hash).
        paths = page.locator('[data-section="daily-top-paths"]')
        paths.locator('select[name="segment"]').select_option("bot")
        labels = paths.locator(".variant:visible text.label").all_text_contents()
        assert labels == list(HOSTILE)
        changes = page.locator('[data-section="daily-changes"]')
        changes.locator('select[name="period"]').select_option(str(MON))
        first = changes.locator(".variant:visible tbody tr").first.locator("td").all_text_contents()
        assert first == ["requests", "1,500", "1,000", "+500", "+50.0%"]
        referrers = page.locator('[data-section="daily-top-referrers"]')
        referrers.locator('select[name="segment"]').select_option("bot")
        shown = referrers.locator(".variant:visible text.label").all_text_contents()
        assert shown == list(HOSTILE)
        handlers = page.evaluate(
            "[...document.querySelectorAll('*')].flatMap(e => [...e.attributes])"
            ".filter(a => a.name.startsWith('on') || /^\\s*javascript:/i.test(a.value))"
            ".map(a => a.name + '=' + a.value)"
        )
        assert handlers == []
        page.screenshot(path=str(tmp_path / "sections.png"), full_page=True)
    assert visit.dialogs == []
    assert visit.console_errors == []  # a CSP violation is reported here too
    assert visit.requests == [html.resolve().as_uri()]


def test_a_week_under_way_says_how_many_days_it_holds(tmp_path: Path) -> None:
    html = render(tmp_path, TABLES)
    # The latest day with traffic is Tuesday: the week of Monday 10-07 holds two days.
    assert f'<th class="n">week {WEEK} (2 of 7 days)</th>' in html
    assert f'<th class="n">week {LAST_WEEK}</th>' in html  # a whole week: no remark
    assert "etl.slow_request_seconds (1 s in these settings)" in html
