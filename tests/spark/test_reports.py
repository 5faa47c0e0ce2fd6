"""Report functions on hand-made rows; expected tables are written out by hand.

The rows cover: IP ties broken by bytes, then by IP; an IP seen both as human and bot;
a Sunday that belongs to the week of the previous Monday; a Monday that starts a new week.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from pyspark.testing import assertDataFrameEqual

from spark import reports, tables

pytestmark = pytest.mark.spark

WIN, BOT, PHONE, CURL = (
    ("desktop", "Windows desktop"),
    ("bot", "Googlebot"),
    ("mobile", "iPhone"),
    ("bot", "curl"),
)


def _access_logs(spark: Any, rows: list[tuple]) -> Any:
    """access_logs-shaped rows: the columns these tests vary, the others filled alike."""
    hits = spark.createDataFrame(
        rows,
        "event_time timestamp, client_ip string, device_type string, device string, "
        "body_bytes bigint",
    )
    return hits.selectExpr(
        "*",
        "CAST(NULL AS STRING) AS browser",
        "CAST(NULL AS STRING) AS os",
        "'/' AS path",
        "200 AS status",
        "CAST(NULL AS STRING) AS referrer",
        "CAST(NULL AS STRING) AS host",
        "CAST(NULL AS DECIMAL(10,3)) AS request_time",
        "CAST(NULL AS DECIMAL(10,3)) AS upstream_response_time",
        "'file:/a.log' AS source_file",
    )


def _hits(day: str, ip: str, device: tuple[str, str], count: int, each_bytes: int) -> list[tuple]:
    at = datetime.fromisoformat(f"{day}T12:00:00")
    return [(at, ip, device[0], device[1], each_bytes)] * count


@pytest.fixture(scope="module")
def built(spark: Any) -> dict[str, Any]:
    rows = [
        *_hits("2024-01-01", "A", WIN, 3, 10),
        *_hits("2024-01-01", "B", BOT, 3, 100),
        *_hits("2024-01-01", "C", PHONE, 1, 5),
        *_hits("2024-01-01", "C", CURL, 1, 5),
        *_hits("2024-01-01", "D", WIN, 2, 5),
        *_hits("2024-01-07", "D", PHONE, 5, 1),  # Sunday: still the week of 2024-01-01
        *_hits("2024-01-08", "A", WIN, 1, 1),  # Monday: a new week
    ]
    return reports.build_reports(reports.DailyCounts.of(_access_logs(spark, rows)), n=3)


def _expect(spark: Any, frame: Any, rows: list[tuple]) -> None:
    expected = spark.createDataFrame(rows, frame.schema)
    assertDataFrameEqual(frame, expected, checkRowOrder=False)


def test_daily_top_ips(spark: Any, built: dict[str, Any]) -> None:
    d1, d7, d8 = date(2024, 1, 1), date(2024, 1, 7), date(2024, 1, 8)
    _expect(spark, built[tables.DAILY_TOP_IPS], [
        (d1, "all", 1, "B", 3, 300), (d1, "all", 2, "A", 3, 30), (d1, "all", 3, "C", 2, 10),
        (d1, "human", 1, "A", 3, 30), (d1, "human", 2, "D", 2, 10), (d1, "human", 3, "C", 1, 5),
        (d1, "bot", 1, "B", 3, 300), (d1, "bot", 2, "C", 1, 5),
        (d7, "all", 1, "D", 5, 5), (d7, "human", 1, "D", 5, 5),
        (d8, "all", 1, "A", 1, 1), (d8, "human", 1, "A", 1, 1),
    ])  # fmt: skip


def test_weekly_top_ips_sum_the_days_of_the_iso_week(spark: Any, built: dict[str, Any]) -> None:
    w1, w2 = date(2024, 1, 1), date(2024, 1, 8)
    _expect(spark, built[tables.WEEKLY_TOP_IPS], [
        (w1, "all", 1, "D", 7, 15), (w1, "all", 2, "B", 3, 300), (w1, "all", 3, "A", 3, 30),
        (w1, "human", 1, "D", 7, 15), (w1, "human", 2, "A", 3, 30), (w1, "human", 3, "C", 1, 5),
        (w1, "bot", 1, "B", 3, 300), (w1, "bot", 2, "C", 1, 5),
        (w2, "all", 1, "A", 1, 1), (w2, "human", 1, "A", 1, 1),
    ])  # fmt: skip


def test_daily_top_devices_with_share(spark: Any, built: dict[str, Any]) -> None:
    d1, d7, d8 = date(2024, 1, 1), date(2024, 1, 7), date(2024, 1, 8)
    _expect(spark, built[tables.DAILY_TOP_DEVICES], [
        (d1, 1, *WIN, 5, 0.5), (d1, 2, *BOT, 3, 0.3), (d1, 3, *CURL, 1, 0.1),
        (d7, 1, *PHONE, 5, 1.0),
        (d8, 1, *WIN, 1, 1.0),
    ])  # fmt: skip


def test_weekly_top_devices(spark: Any, built: dict[str, Any]) -> None:
    w1, w2 = date(2024, 1, 1), date(2024, 1, 8)
    _expect(spark, built[tables.WEEKLY_TOP_DEVICES], [
        (w1, 1, *PHONE, 6, 0.4), (w1, 2, *WIN, 5, 5 / 15), (w1, 3, *BOT, 3, 0.2),
        (w2, 1, *WIN, 1, 1.0),
    ])  # fmt: skip


def test_clients_that_are_not_a_recognised_browser_are_in_the_bot_segment(spark: Any) -> None:
    # No User-Agent ("other", "Unknown") and an unidentified one sit with the bots.
    day = date(2024, 1, 1)
    logs = _access_logs(
        spark,
        [
            *_hits("2024-01-01", "A", WIN, 1, 1),
            *_hits("2024-01-01", "E", ("other", "Unknown"), 3, 1),
            *_hits("2024-01-01", "F", ("other", "UniversalFeedParser"), 2, 1),
            *_hits("2024-01-01", "G", ("tablet", "iPad"), 1, 2),
        ],
    )
    ranked = reports.top_ips(reports.DailyCounts.of(logs).ips, "day", n=5)
    _expect(spark, ranked, [
        (day, "all", 1, "E", 3, 3), (day, "all", 2, "F", 2, 2), (day, "all", 3, "G", 1, 2),
        (day, "all", 4, "A", 1, 1),
        (day, "human", 1, "G", 1, 2), (day, "human", 2, "A", 1, 1),
        (day, "bot", 1, "E", 3, 3), (day, "bot", 2, "F", 2, 2),
    ])  # fmt: skip
