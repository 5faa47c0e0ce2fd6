"""The report page: every chart is there, and its numbers are the raw lines' numbers."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

import pytest

from report_page import CHARTS, write_report_page
from report_page.data import PageData, Ranked
from report_page.render import OUTCOME_COLORS as RUN_COLORS
from report_page.render import render_page
from tests.report import logs
from tests.report.page_reader import PageReader, read_page

pytestmark = pytest.mark.spark
NO_VARIANT = ("", "")


@pytest.fixture(scope="module")
def page(scenario: Any) -> PageReader:
    return read_page(scenario.page.read_text(encoding="utf-8"))


def test_the_page_is_one_file_that_loads_nothing(scenario: Any) -> None:
    html = scenario.page.read_text(encoding="utf-8")
    assert "default-src 'none'" in html  # CSP: the browser refuses any fetch
    for reference in ("<link", "src=", "@import", "url(", "http://", "https://"):
        if reference.startswith("http"):
            # Only the SVG namespace name, which is an identifier and never fetched.
            assert html.count(reference) == html.count(f'{reference}www.w3.org/2000/svg"'), (
                reference
            )
        else:
            assert reference not in html, reference


def test_every_chart_is_on_the_page_with_something_drawn(page: PageReader) -> None:
    assert list(page.charts) == list(CHARTS)
    for name, chart in page.charts.items():
        assert chart.svgs >= 1, name
        assert sum(chart.bars.values()) >= 1, name


def test_requests_per_day_are_the_raw_lines_per_utc_day(scenario: Any, page: PageReader) -> None:
    chart = page.charts["requests-per-day"]
    expected = logs.requests_per_day(scenario.requests)
    assert chart.texts[NO_VARIANT]["value"] == [f"{n:,}" for n in expected.values()]
    assert chart.tooltips == [f"{d} — {n:,} requests" for d, n in expected.items()]


def test_requests_per_hour_are_the_raw_lines_per_utc_hour(scenario: Any, page: PageReader) -> None:
    per_hour = logs.requests_per_hour(scenario.requests)
    first = min(per_hour).replace(hour=0)
    drawn = page.charts["requests-per-hour"].tooltips
    assert len(drawn) == 24 * len(logs.requests_per_day(scenario.requests))
    assert drawn[0].startswith(f"{first:%Y-%m-%d} 00:00 UTC")
    for hour, n in per_hour.items():
        assert f"{hour:%Y-%m-%d %H}:00 UTC — {n:,} requests" in drawn


def test_the_latest_days_top_ip_is_shown_first(scenario: Any, page: PageReader) -> None:
    chart = page.charts["daily-top-ips"]
    latest = (str(scenario.latest_day), "all")
    ip, count = logs.top_ip(scenario.requests, scenario.latest_day)
    assert chart.texts[latest]["label"][0] == ip
    assert chart.texts[latest]["value"][0].startswith(f"{count:,} · ")
    # The latest day, all segments, is what a reader sees first; other variants wait.
    assert latest not in chart.hidden
    assert all(key in chart.hidden for key in chart.bars if key != latest)
    # Every day and segment is available, each with its own top IP.
    for day in logs.requests_per_day(scenario.requests):
        assert chart.texts[(str(day), "all")]["label"][0] == logs.top_ip(scenario.requests, day)[0]
        assert {"human", "bot"} <= {seg for d, seg in chart.bars if d == str(day)}


def test_top_devices_and_weekly_tops_are_drawn_per_period(scenario: Any, page: PageReader) -> None:
    weeks = {monday(d) for d in logs.requests_per_day(scenario.requests)}
    assert {d for d, _ in page.charts["weekly-top-ips"].bars} == {str(w) for w in weeks}
    assert {d for d, _ in page.charts["weekly-top-devices"].bars} == {str(w) for w in weeks}
    latest = (str(scenario.latest_day), "all")
    devices = Counter(
        (r.device, r.device_type) for r in scenario.requests if r.day == scenario.latest_day
    )
    (device, kind), count = devices.most_common(1)[0]
    chart = page.charts["daily-top-devices"]
    assert chart.texts[latest]["label"][0] == f"{device} ({kind})"
    assert chart.texts[latest]["value"][0].startswith(f"{count:,} · ")


def monday(day: date) -> date:
    return date.fromordinal(day.toordinal() - day.weekday())


def test_device_share_status_mix_and_rejects_match_the_raw_lines(
    scenario: Any, page: PageReader
) -> None:
    total = len(scenario.requests)
    kinds = Counter(r.device_type for r in scenario.requests)
    share = page.charts["device-share"].texts[NO_VARIANT]
    assert share["label"] == [k for k, _ in kinds.most_common()]
    assert share["value"] == [f"{n:,} · {n / total:.1%}" for _, n in kinds.most_common()]

    statuses = sorted(Counter(r.status for r in scenario.requests).items())
    mix = page.charts["status-mix"].texts[NO_VARIANT]
    assert [label.split()[0] for label in mix["label"]] == [str(code) for code, _ in statuses]
    assert mix["value"] == [f"{n:,} · {n / total:.1%}" for _, n in statuses]

    reasons = Counter(reason for _, reason in scenario.rejected).most_common()
    rejected = page.charts["rejected-by-reason"].texts[NO_VARIANT]
    assert sorted(zip(rejected["label"], rejected["value"], strict=True)) == sorted(
        (reason, f"{n:,}") for reason, n in reasons
    )


def test_run_history_lists_each_run_with_its_outcome(scenario: Any, page: PageReader) -> None:
    chart = page.charts["run-history"]
    assert chart.row_outcomes == ["failed", "nothing-to-do", "succeeded"]
    assert chart.bars[NO_VARIANT] == 3
    assert page.kpis["last run"][1] == "failed"
    assert page.kpis["requests"][1] == f"{len(scenario.requests):,}"
    assert page.kpis["rejected lines"][1] == f"{len(scenario.rejected):,}"
    assert page.kpis["latest day"][1] == str(scenario.latest_day)


def test_a_warehouse_without_traffic_gives_a_page_that_says_so(
    spark: Any, warehouse: Any, tmp_path: Any
) -> None:
    from spark.tables import ensure_tables

    ensure_tables(spark, warehouse)
    html = write_report_page(warehouse, tmp_path / "empty.html").read_text(encoding="utf-8")
    reader = read_page(html)
    assert list(reader.charts) == list(CHARTS)
    assert "No traffic ingested yet" in html and "no data yet" in html


def test_labels_from_log_lines_are_escaped() -> None:
    """Device labels come from User-Agents, i.e. from whoever sends requests: never markup."""
    hostile = '<script>alert("ua")</script>'
    data = PageData(
        generated_at=datetime(2024, 10, 8, tzinfo=UTC),
        runtime="embedded",
        warehouse="file:/wh",
        latest_day=date(2024, 10, 8),
        window_start=date(2024, 10, 8),
        daily_top_devices={(date(2024, 10, 8), "all"): [Ranked(1, f"{hostile} (bot)", 5, "100%")]},
        rejected_by_reason=[(hostile, 1)],
    )
    html = render_page(data)
    assert hostile not in html
    assert "&lt;script&gt;alert(&quot;ua&quot;)&lt;/script&gt;" in html


def test_every_run_outcome_gets_its_own_colour_and_label() -> None:
    started = datetime(2024, 10, 8, 12, tzinfo=UTC)
    outcomes = ["succeeded", "partial", "failed", "nothing-to-do"]
    runs = [
        {
            "run_id": f"run-{i}",
            "started_at": started,
            "seconds": 1.5,
            "outcome": outcome,
            "input_files": 1,
            "input_bytes": 10,
            "lines_read": 100 * i,
            "accepted": 90 * i,
            "rejected": 10 * i,
            "error": "unreadable files skipped: file:/in/x.gz" if outcome == "partial" else None,
        }
        for i, outcome in enumerate(outcomes)
    ]
    data = PageData(generated_at=started, runtime="embedded", warehouse="file:/wh", runs=runs)
    html = render_page(data)
    assert read_page(html).charts["run-history"].row_outcomes == outcomes
    for outcome, color in RUN_COLORS.items():
        assert f'<span class="pill {outcome}">{outcome}</span>' in html
        assert f".pill.{outcome} {{" in html and f'fill="{color}"' in html


def test_what_changed_compares_the_latest_day_with_the_raw_lines_of_the_day_before(
    scenario: Any,
) -> None:
    page = read_page(scenario.page.read_text(encoding="utf-8"))
    latest = scenario.latest_day
    before = date.fromordinal(latest.toordinal() - 1)

    def figures(day: date) -> tuple[int, int, int, float]:
        lines = [r for r in scenario.requests if r.day == day]
        errors = sum(1 for r in lines if r.status >= 400)  # 404, 499 and 500 in these logs
        people = {r.ip for r in lines if r.device_type in ("desktop", "mobile", "tablet")}
        return len(lines), len({r.ip for r in lines}), len(people), errors / len(lines)

    requests, visitors, humans, rate = figures(latest)
    requests_0, visitors_0, humans_0, rate_0 = figures(before)
    rows = page.sections["daily-changes"].rows[(str(latest), "all")]
    assert rows[0][:3] == ["requests", f"{requests:,}", f"{requests_0:,}"]
    assert rows[0][3:] == [
        f"{requests - requests_0:+,}",
        f"{(requests - requests_0) / requests_0:+.1%}",
    ]
    assert rows[1][:3] == ["visitors", f"{visitors:,}", f"{visitors_0:,}"]
    assert rows[2][:3] == ["human visitors", f"{humans:,}", f"{humans_0:,}"]
    assert rows[3][:3] == ["error rate", f"{rate:.1%}", f"{rate_0:.1%}"]


def test_top_paths_and_404s_are_the_raw_lines_paths(scenario: Any) -> None:
    page = read_page(scenario.page.read_text(encoding="utf-8"))
    latest = scenario.latest_day
    by_path = Counter(f"/p/{r.status}" for r in scenario.requests if r.day == latest)
    paths = page.sections["daily-top-paths"]
    assert paths.texts[(str(latest), "all")]["label"] == [p for p, _ in by_path.most_common()]
    # Each path answers with one status, so its bar is one part: all 4xx for /p/404.
    assert f"/p/404 — 4xx: {by_path['/p/404']:,} of {by_path['/p/404']:,}" in paths.tooltips
    not_found = page.sections["daily-not-found"].texts[(str(latest), "all")]
    assert (not_found["label"], not_found["value"]) == (["/p/404"], [f"{by_path['/p/404']:,}"])
    # The same five paths every day: no path is new, each moved by its change in requests.
    movers = page.sections["path-movers"].rows[("", "")]
    assert {row[0] for row in movers} == set(by_path)
    assert "new" not in {row[-1] for row in movers}


def test_a_combined_log_has_a_latency_note_instead_of_charts(scenario: Any) -> None:
    page = read_page(scenario.page.read_text(encoding="utf-8"))
    latency = page.sections["latency"]
    assert latency.svgs == 0 and "$request_time" in latency.notes[0]
    assert "latency-per-path" not in page.sections
