"""`lakehouse runs` and `lakehouse report` in an 80-column terminal or a pipe: every row's key
fields, no line wider than the console, no field cut short. Rows are written by hand (no ETL
run)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from rich.console import Console

from readers import report_view
from readers.history import as_rich_table

MISSING = "file:///var/lakehouse/input/a/rather/long/path/that/does/not/exist/on/this/machine"


def _run(
    run_id: str, outcome: str, seconds: float | None, counts: tuple[int, int, int, int, int]
) -> dict[str, Any]:
    files, size, lines, accepted, rejected = counts
    return {
        "started_at": datetime.strptime(run_id[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC),
        "run_id": run_id,
        "outcome": outcome,
        "seconds": seconds,
        "input_files": files,
        "input_bytes": size,
        "lines_read": lines,
        "accepted": accepted,
        "rejected": rejected,
        "error": f"InputError: input location {MISSING} does not exist"
        if outcome == "failed"
        else None,
    }


RUNS = [
    _run("20241009T101500Z-0badf00d", "failed", 0.4, (0, 0, 0, 0, 0)),
    _run("20241009T100000Z-1c2d3e4f", "nothing-to-do", 3.2, (0, 0, 0, 0, 0)),
    _run(
        "20241008T235959Z-9f8e7d6c",
        "partial",
        118.5,
        (71, 1_234_567_890, 12_345_678, 12_345_000, 678),
    ),
    _run("20241008T120000Z-a1b2c3d4", "succeeded", 42.0, (72, 15_300_000, 200_000, 199_870, 130)),
]

# What each run must show, as the user reads it (written out, not computed by the view).
KEY_FIELDS = {
    "20241009T101500Z-0badf00d": ["failed", "0.4 s", MISSING],
    "20241009T100000Z-1c2d3e4f": ["nothing-to-do", "3.2 s"],
    "20241008T235959Z-9f8e7d6c": [
        "partial",
        "118.5 s",
        "12,345,678",
        "12,345,000",
        "678",
        "1.2 GB",
    ],
    "20241008T120000Z-a1b2c3d4": ["succeeded", "42.0 s", "200,000", "199,870", "130", "15.3 MB"],
}


def _render(width: int) -> list[str]:
    # As the CLI's console (soft wrap on), at a fixed width; not a terminal, as in a pipe.
    console = Console(width=width, record=True, soft_wrap=True, force_terminal=False)
    console.print(as_rich_table(RUNS))
    return console.export_text().splitlines()


@pytest.mark.parametrize("width", [80, 60])
def test_narrow_console_shows_every_run_whole_within_the_width(width: int) -> None:
    lines = _render(width)
    assert max(len(line) for line in lines) <= width
    # Lines joined without their indent and padding: a path folded over two lines reads whole.
    text = "".join(line.strip() for line in lines)
    for run_id, fields in KEY_FIELDS.items():
        assert run_id in text
        for value in fields:
            assert value in text, (run_id, value)
    # One block per run, in the given (newest first) order.
    order = [next(i for i, line in enumerate(lines) if run_id in line) for run_id in KEY_FIELDS]
    assert order == sorted(order)


def test_wide_console_shows_one_row_per_run() -> None:
    lines = _render(300)
    assert max(len(line) for line in lines) <= 300
    for run_id, fields in KEY_FIELDS.items():
        (row,) = [line for line in lines if run_id in line]
        for value in fields:
            assert value in row, (run_id, value)


def test_no_runs_yet_says_how_to_make_one() -> None:
    console = Console(width=80, record=True, force_terminal=False)
    console.print(as_rich_table([]))
    assert "no runs yet: `lakehouse etl` records one per run" in console.export_text()


# The widest IP there is (39 characters), and one IPv4, in a one-day report.
IPV6 = "2001:0db8:85a3:0000:0000:8a2e:0370:7334"
TOP_IPS = [
    {
        "day": date(2024, 10, 9),
        "segment": "all",
        "rank": rank,
        "client_ip": ip,
        "requests": requests,
        "bytes": size,
    }
    for rank, ip, requests, size in (
        (1, IPV6, 12_345, 987_654_321),
        (2, "203.0.113.77", 411, 27_019_398),
    )
]


def test_a_report_shows_whole_addresses_in_80_columns() -> None:
    console = Console(width=80, record=True, soft_wrap=True, force_terminal=False)
    console.print(report_view.as_rich_table("daily_top_ips", TOP_IPS))
    lines = console.export_text().splitlines()
    assert max(len(line) for line in lines) <= 80
    assert lines[0] == "daily_top_ips — 2024-10-09 (all)"  # the shared day and segment
    (first,) = [line for line in lines if IPV6 in line]  # whole, on its rank's line
    for expected in ("1", "12,345", "987,654,321"):
        assert expected in first.split()
    (second,) = [line for line in lines if "203.0.113.77" in line]
    for expected in ("2", "411", "27,019,398"):
        assert expected in second.split()


def test_a_report_over_several_days_keeps_the_day_column() -> None:
    rows = [TOP_IPS[0], {**TOP_IPS[1], "day": date(2024, 10, 8)}]
    console = Console(width=80, record=True, soft_wrap=True, force_terminal=False)
    console.print(report_view.as_rich_table("daily_top_ips", rows))
    lines = console.export_text().splitlines()
    assert max(len(line) for line in lines) <= 80
    assert lines[0] == "daily_top_ips — 2024-10-08, 2024-10-09 (all)"
    assert "day" in lines[2].split()  # the header row
    # Folded, not cut: the address reads whole once the table's borders are taken out.
    cells = "".join(line.split("│")[3].strip() for line in lines[4:-1])
    assert IPV6 in cells


# The widest rows of the other reports: long paths and domains, big numbers.
D = date(2024, 10, 9)
LONG_PATH = "/api/v1/products/search/autocomplete/with/a/path/longer/than/the/terminal/is/wide"
WIDE_REPORTS: dict[str, list[dict[str, Any]]] = {
    "daily_top_paths": [
        {"day": D, "segment": "all", "rank": 10, "path": LONG_PATH, "requests": 1_234_567,
         "bytes": 98_765_432_100, "status_2xx": 1_200_000, "status_3xx": 20_000,
         "status_4xx": 14_000, "status_499": 567, "status_5xx": 12},
    ],
    "daily_top_not_found": [
        {"day": D, "segment": "all", "rank": 1, "path": LONG_PATH, "requests": 7_654_321},
    ],
    "daily_top_referrers": [
        {"day": D, "segment": "human", "rank": 1,
         "referrer_domain": "a-very-long-subdomain.of-a-rather-long-domain-name.example.co.uk",
         "requests": 7_654_321, "bytes": 987_654_321_000},
    ],
    "weekly_traffic": [
        {"week_start": date(2024, 10, 7), "requests": 123_456_789, "bytes": 9_876_543_210_000,
         "status_2xx": 120_000_000, "status_3xx": 3_000_000, "status_4xx": 450_000,
         "status_499": 6_789, "status_5xx": 1_000, "visitors": 1_234_567,
         "human_visitors": 987_654},
    ],
    "daily_top_software": [
        {"day": D, "kind": "browser", "rank": 1, "family": "Chrome Mobile WebView",
         "requests": 7_654_321, "share": 0.4567},
        {"day": D, "kind": "os", "rank": 1, "family": "Android", "requests": 6_543_210,
         "share": 0.3},
    ],
    "daily_latency": [
        {"day": D, "rank": 0, "path": None, "requests": 12_345_678, "p50_ms": 12,
         "p95_ms": 480, "p99_ms": 2_950, "max_ms": 612_345, "slow_requests": 123_456,
         "upstream_p95_ms": 455, "upstream_share": 0.871},
        {"day": D, "rank": 1, "path": LONG_PATH, "requests": 345_678, "p50_ms": 8,
         "p95_ms": 120, "p99_ms": 900, "max_ms": 5_001, "slow_requests": 45,
         "upstream_p95_ms": None, "upstream_share": None},
    ],
}  # fmt: skip


@pytest.mark.parametrize("name", list(WIDE_REPORTS))
def test_each_report_fits_80_columns_with_every_value_whole(name: str) -> None:
    rows = WIDE_REPORTS[name]
    console = Console(width=80, record=True, soft_wrap=True, force_terminal=False)
    console.print(report_view.as_rich_table(name, rows))
    lines = console.export_text().splitlines()
    assert max(len(line) for line in lines) <= 80
    # Numbers on one line each; text folded over lines reads whole down its column.
    split = [line.split("│") for line in lines]
    cells = [cell.strip() for row in split for cell in row]
    width = max(len(row) for row in split)
    text = "\n".join("".join(row[j].strip() for row in split if len(row) > j) for j in range(width))
    for row in rows:
        for key, value in row.items():
            if isinstance(value, int) and not isinstance(value, bool):
                assert f"{value:,}" in cells, (name, key)
            elif isinstance(value, str):
                assert value in text, (name, key)
    if name == "daily_latency":
        assert "(whole site)" in text and "87.1%" in cells and "–" in cells
