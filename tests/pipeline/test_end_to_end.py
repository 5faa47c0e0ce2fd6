"""The whole job on the embedded runtime, checked against an independent computation.

Tables are read back with PyIceberg (not Spark) and compared with `reference`, plain Python
over the same raw lines. The scenario spans two ISO weeks, includes a file of hostile lines,
a re-run on the same input, and a late file for an old day.
"""

from __future__ import annotations

import gzip
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from core.settings import ReportSettings
from generator import TrafficSpec, generate
from spark import tables
from spark.job import run_etl
from tests.pipeline.checks import assert_tables_match_input, input_dir, table_rows

pytestmark = [pytest.mark.spark, pytest.mark.slow]

TOP_N = 5
SITE_HOST = "www.example.com"  # generator/site.py
HOSTILE = [
    b"",
    b"\xff\xfe not utf-8 \xc3\x28",
    b'203.0.113.15 - - [10/Oct/2024:13:55:45 +0000] "GET / HTTP/1.1" 200 612 "-" "Mozil',
    b'203.0.113.17 - - [10/Foo/2024:13:55:36 +0000] "GET / HTTP/1.1" 200 1 "-" "-"',
    b'{"time":"2024-10-10T13:55:36Z","status":200}',
    b'198.51.100.7 - - [09/Oct/2024:23:30:00 -0100] "GET /late HTTP/1.1" 200 42 "-" "curl/8.5.0"',
]


@pytest.fixture
def settings(warehouse: Any) -> Any:
    etl = warehouse.etl.model_copy(update={"top_n": TOP_N})
    # The generated site's own pages refer to each other: self-referrals, left out.
    reports = ReportSettings(site_hosts=(SITE_HOST,))
    return warehouse.model_copy(update={"etl": etl, "reports": reports})


def test_pipeline_end_to_end(spark: Any, settings: Any, tmp_path: Path) -> None:
    raw = input_dir(settings)
    # Monday 2024-10-07 + 9 days: two ISO weeks.
    generate(TrafficSpec(start=date(2024, 10, 7), days=9, lines=20_000, seed=7), str(raw))
    with gzip.open(raw / "hostile.log.gz", "wb") as out:
        out.write(b"\n".join(HOSTILE) + b"\n")
    (raw / "empty.log").write_bytes(b"")

    first = run_etl(settings, spark=spark)
    counts = assert_tables_match_input(settings, TOP_N)
    assert (first.accepted, first.rejected) == (counts["accepted"], counts["rejected"])
    assert first.lines_read == first.accepted + first.rejected
    assert first.rows_written[tables.ACCESS_LOGS] == first.accepted
    # Every report table was written, and its rows counted in the run's record.
    assert set(tables.REPORT_TABLES) - {
        tables.Table.DAILY_LATENCY,
        tables.Table.WEEKLY_LATENCY,
    } <= {name for name, count in first.rows_written.items() if count}
    # `combined` logs no request_time: no latency rows.
    for name in (tables.Table.DAILY_LATENCY, tables.Table.WEEKLY_LATENCY):
        assert table_rows(settings, name) == [], name
    referrers = {
        r["referrer_domain"] for r in table_rows(settings, tables.Table.DAILY_TOP_REFERRERS)
    }
    assert "www.google.com" in referrers and SITE_HOST not in referrers

    # Idempotency: the same input again changes nothing.
    before = {
        name: table_rows(settings, name) for name in (tables.ACCESS_LOGS, *tables.REPORT_TABLES)
    }
    second = run_etl(settings, spark=spark)
    assert second.outcome == "nothing-to-do"
    for name, rows in before.items():
        assert table_rows(settings, name) == rows, name

    # A late file for an old day updates that day's and that week's reports.
    late_dir = tmp_path / "late"
    generate(
        TrafficSpec(start=date(2024, 10, 8), days=1, lines=3_000, seed=99, host="web-late"),
        str(late_dir),
    )
    for path in sorted(p for p in late_dir.rglob("*") if p.is_file()):
        target = raw / "late" / path.relative_to(late_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    third = run_etl(settings, spark=spark)
    assert third.days == [date(2024, 10, 8)]
    assert_tables_match_input(settings, TOP_N)
