"""The path, 404, referrer, traffic, software and latency reports on hand-made rows.

The rows go through the same aggregates the job stores (spark/aggregates.py) and are merged
per day and per ISO week, as the job does; every expected row is worked out by hand. They
cover: a 404 on two paths, a 499 counted apart from the 4xx, a self-referral (the line's own
host) and a listed site host left out, a percent-encoded path merged with its decoded form,
a `+` and an undecodable path kept as written, a query string removed, a visitor seen on two
days counted once in the week, and percentiles on a handful of request times (KLL sketches
are exact below 200 values: nearest rank, the smallest value with rank >= q * n).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from core.names import Table
from core.settings import EtlSettings
from spark import aggregates, reports

pytestmark = pytest.mark.spark

SCHEMA = (
    "event_time timestamp, client_ip string, device_type string, device string, "
    "browser string, os string, path string, status int, body_bytes bigint, referrer string, "
    "host string, request_time decimal(10,3), upstream_response_time decimal(10,3), "
    "source_file string"
)
# (device_type, device, browser, os)
WINDOWS_CHROME = ("desktop", "Windows desktop", "Chrome", "Windows")
IPHONE = ("mobile", "iPhone", "Mobile Safari", "iOS")
LINUX_FIREFOX = ("desktop", "Linux desktop", "Firefox", "Linux")
CRAWLER = ("bot", "Googlebot", None, None)
AGENTS = {"A": WINDOWS_CHROME, "B": CRAWLER, "C": IPHONE, "D": LINUX_FIREFOX}
D1, D2, D8 = date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 8)  # Mon, Tue, next Mon


def _line(
    day: date,
    ip: str,
    path: str | None,
    status: int,
    size: int,
    referrer: str | None = None,
    host: str | None = None,
    seconds: str | None = None,
    upstream: str | None = None,
    source: str = "f1",
) -> tuple:
    return (
        datetime(day.year, day.month, day.day, 12),
        ip,
        *AGENTS[ip],
        path,
        status,
        size,
        referrer,
        host,
        None if seconds is None else Decimal(seconds),
        None if upstream is None else Decimal(upstream),
        source,
    )


TRAFFIC = [
    _line(D1, "A", "/a?x=1", 200, 100, referrer="https://www.Google.com/search?q=1"),
    _line(D1, "A", "/a", 404, 10),
    _line(D1, "B", "/b", 404, 10, referrer="http://www.google.com:8080/"),
    _line(D1, "B", "/b", 404, 10),
    # Self-referral: the referrer's host is the line's own $host.
    _line(D1, "A", "/caf%C3%A9", 200, 50, "https://www.example.com/", host="www.example.com"),
    # Its decoded form, a client that closed the connection (499), and a listed site host.
    _line(D1, "C", "/café", 499, 0, referrer="https://shop.example.com/x", source="f2"),
    # Not decodable: kept as written.
    _line(D1, "C", "/x%zz", 500, 5, referrer="android-app://com.google.android.gm/"),
    _line(D1, "B", "/a+b", 301, 1),
    _line(D2, "A", "/a", 200, 100, source="f3"),
    _line(D2, "D", "/a", 200, 100, source="f3"),
    _line(D8, "A", "/a", 200, 1, source="f4"),
]


@pytest.fixture(scope="module")
def built(spark: Any) -> dict[Table, Any]:
    counts = reports.DailyCounts.of(spark.createDataFrame(TRAFFIC, SCHEMA))
    return reports.build_reports(counts, n=3, site_hosts=("shop.example.com",))


def _expect(spark: Any, frame: Any, rows: list[tuple]) -> None:
    assertDataFrameEqual(frame, spark.createDataFrame(rows, frame.schema), checkRowOrder=False)


def test_daily_top_paths_with_status_mix(spark: Any, built: dict[Table, Any]) -> None:
    # (day, segment, rank, path, requests, bytes, 2xx, 3xx, 4xx, 499, 5xx)
    _expect(spark, built[Table.DAILY_TOP_PATHS], [
        (D1, "all", 1, "/a", 2, 110, 1, 0, 1, 0, 0),
        (D1, "all", 2, "/café", 2, 50, 1, 0, 0, 1, 0),
        (D1, "all", 3, "/b", 2, 20, 0, 0, 2, 0, 0),
        (D1, "human", 1, "/a", 2, 110, 1, 0, 1, 0, 0),
        (D1, "human", 2, "/café", 2, 50, 1, 0, 0, 1, 0),
        (D1, "human", 3, "/x%zz", 1, 5, 0, 0, 0, 0, 1),
        (D1, "bot", 1, "/b", 2, 20, 0, 0, 2, 0, 0),
        (D1, "bot", 2, "/a+b", 1, 1, 0, 1, 0, 0, 0),
        (D2, "all", 1, "/a", 2, 200, 2, 0, 0, 0, 0),
        (D2, "human", 1, "/a", 2, 200, 2, 0, 0, 0, 0),
        (D8, "all", 1, "/a", 1, 1, 1, 0, 0, 0, 0),
        (D8, "human", 1, "/a", 1, 1, 1, 0, 0, 0, 0),
    ])  # fmt: skip


def test_weekly_top_paths_sum_the_days(spark: Any, built: dict[Table, Any]) -> None:
    _expect(spark, built[Table.WEEKLY_TOP_PATHS], [
        (D1, "all", 1, "/a", 4, 310, 3, 0, 1, 0, 0),
        (D1, "all", 2, "/café", 2, 50, 1, 0, 0, 1, 0),
        (D1, "all", 3, "/b", 2, 20, 0, 0, 2, 0, 0),
        (D1, "human", 1, "/a", 4, 310, 3, 0, 1, 0, 0),
        (D1, "human", 2, "/café", 2, 50, 1, 0, 0, 1, 0),
        (D1, "human", 3, "/x%zz", 1, 5, 0, 0, 0, 0, 1),
        (D1, "bot", 1, "/b", 2, 20, 0, 0, 2, 0, 0),
        (D1, "bot", 2, "/a+b", 1, 1, 0, 1, 0, 0, 0),
        (D8, "all", 1, "/a", 1, 1, 1, 0, 0, 0, 0),
        (D8, "human", 1, "/a", 1, 1, 1, 0, 0, 0, 0),
    ])  # fmt: skip


def test_top_not_found_counts_404s_only(spark: Any, built: dict[Table, Any]) -> None:
    expected = [
        (D1, "all", 1, "/b", 2), (D1, "all", 2, "/a", 1),
        (D1, "human", 1, "/a", 1), (D1, "bot", 1, "/b", 2),
    ]  # fmt: skip
    _expect(spark, built[Table.DAILY_TOP_NOT_FOUND], expected)
    _expect(spark, built[Table.WEEKLY_TOP_NOT_FOUND], expected)  # the same week


def test_top_referrers_leave_out_self_referrals_and_site_hosts(
    spark: Any, built: dict[Table, Any]
) -> None:
    expected = [
        (D1, "all", 1, "www.google.com", 2, 110),
        (D1, "all", 2, "com.google.android.gm", 1, 5),
        (D1, "human", 1, "www.google.com", 1, 100),
        (D1, "human", 2, "com.google.android.gm", 1, 5),
        (D1, "bot", 1, "www.google.com", 1, 10),
    ]
    _expect(spark, built[Table.DAILY_TOP_REFERRERS], expected)
    _expect(spark, built[Table.WEEKLY_TOP_REFERRERS], expected)


def test_traffic_counts_visitors_distinct_over_the_period(
    spark: Any, built: dict[Table, Any]
) -> None:
    # (period, requests, bytes, 2xx, 3xx, 4xx, 499, 5xx, visitors, human_visitors)
    _expect(spark, built[Table.DAILY_TRAFFIC], [
        (D1, 8, 186, 2, 1, 3, 1, 1, 3, 2),  # A, B, C; humans A, C
        (D2, 2, 200, 2, 0, 0, 0, 0, 2, 2),  # A, D
        (D8, 1, 1, 1, 0, 0, 0, 0, 1, 1),
    ])  # fmt: skip
    # A visited on both days: 4 visitors (A, B, C, D), not 3 + 2; humans A, C, D.
    _expect(spark, built[Table.WEEKLY_TRAFFIC], [
        (D1, 10, 386, 4, 1, 3, 1, 1, 4, 3),
        (D8, 1, 1, 1, 0, 0, 0, 0, 1, 1),
    ])  # fmt: skip


def test_top_software_families_of_human_requests(spark: Any, built: dict[Table, Any]) -> None:
    _expect(spark, built[Table.DAILY_TOP_SOFTWARE], [
        (D1, "browser", 1, "Chrome", 3, 0.6), (D1, "browser", 2, "Mobile Safari", 2, 0.4),
        (D1, "os", 1, "Windows", 3, 0.6), (D1, "os", 2, "iOS", 2, 0.4),
        # A tie on requests and bytes: by name.
        (D2, "browser", 1, "Chrome", 1, 0.5), (D2, "browser", 2, "Firefox", 1, 0.5),
        (D2, "os", 1, "Linux", 1, 0.5), (D2, "os", 2, "Windows", 1, 0.5),
        (D8, "browser", 1, "Chrome", 1, 1.0), (D8, "os", 1, "Windows", 1, 1.0),
    ])  # fmt: skip
    _expect(spark, built[Table.WEEKLY_TOP_SOFTWARE], [
        (D1, "browser", 1, "Chrome", 4, 4 / 7), (D1, "browser", 2, "Mobile Safari", 2, 2 / 7),
        (D1, "browser", 3, "Firefox", 1, 1 / 7),
        (D1, "os", 1, "Windows", 4, 4 / 7), (D1, "os", 2, "iOS", 2, 2 / 7),
        (D1, "os", 3, "Linux", 1, 1 / 7),
        (D8, "browser", 1, "Chrome", 1, 1.0), (D8, "os", 1, "Windows", 1, 1.0),
    ])  # fmt: skip


def test_no_latency_rows_without_request_time(built: dict[Table, Any]) -> None:
    assert built[Table.DAILY_LATENCY].count() == 0
    assert built[Table.WEEKLY_LATENCY].count() == 0


# /t: 10..100 ms over two files, half of the first five upstream; /u: 500 and 1500 ms with
# upstream times, then 2000 ms the next day without; /n logged no request_time.
TIMED = [
    *[
        _line(D1, "A", "/t", 200, 1, seconds=f"0.{10 * k:03d}",
              upstream=f"0.{5 * k:03d}" if k <= 5 else None, source=f"f{k % 2}")
        for k in range(1, 11)
    ],
    _line(D1, "B", "/u?id=1", 200, 1, seconds="0.500", upstream="0.250"),
    _line(D1, "A", "/u", 200, 1, seconds="1.500", upstream="1.000"),
    _line(D1, "A", "/n", 200, 1),
    _line(D2, "A", "/u", 200, 1, seconds="2.000"),
]  # fmt: skip


def test_latency_percentiles_from_merged_sketches(spark: Any) -> None:
    etl = EtlSettings(slow_request_seconds=1.0)
    counts = reports.DailyCounts.of(spark.createDataFrame(TIMED, SCHEMA), etl)
    built = reports.build_reports(counts, n=3)
    # (period, rank, path, requests, p50, p95, p99, max, slow, upstream p95, upstream share)
    # Day 1, site: 10..100, 500, 1500: the 6th, 12th (ceil 11.4) and 12th values; upstream
    # 5, 10, 15, 20, 25, 250, 1000: the 7th (ceil 6.65); share 1325 / 2150 ms.
    _expect(spark, built[Table.DAILY_LATENCY], [
        (D1, 0, None, 12, 60, 1500, 1500, 1500, 1, 1000, 1325 / 2150),
        (D1, 1, "/t", 10, 50, 100, 100, 100, 0, 25, 0.5),
        (D1, 2, "/u", 2, 500, 1500, 1500, 1500, 1, 1000, 0.625),
        (D2, 0, None, 1, 2000, 2000, 2000, 2000, 1, None, None),
        (D2, 1, "/u", 1, 2000, 2000, 2000, 2000, 1, None, None),
    ])  # fmt: skip
    # The week: 13 values, the 7th and 13th; /u: 500, 1500, 2000, the 2nd and 3rd.
    _expect(spark, built[Table.WEEKLY_LATENCY], [
        (D1, 0, None, 13, 70, 2000, 2000, 2000, 2, 1000, 1325 / 2150),
        (D1, 1, "/t", 10, 50, 100, 100, 100, 0, 25, 0.5),
        (D1, 2, "/u", 3, 1500, 2000, 2000, 2000, 2, 1000, 0.625),
    ])  # fmt: skip


def test_a_format_without_upstream_times_stores_no_sketch_of_them(spark: Any) -> None:
    # As a batch of a format with $request_time only: stored upstream sketches are null
    # (not empty), and the latency report is the one above without its upstream columns.
    etl = EtlSettings(slow_request_seconds=1.0)
    logs = spark.createDataFrame(TIMED, SCHEMA).withColumn(
        "upstream_response_time", F.lit(None).cast("decimal(10,3)")
    )
    stored = aggregates.PATHS.of_rows(logs, etl, filled={"request_time"})
    assert stored.where("upstream_ms IS NOT NULL").count() == 0
    assert stored.where("request_ms IS NULL").count() == 0
    paths = aggregates.PATHS.merged(stored, "day", *aggregates.PATHS.keys)
    _expect(spark, reports.latency(paths, "day", 3), [
        (D1, 0, None, 12, 60, 1500, 1500, 1500, 1, None, None),
        (D1, 1, "/t", 10, 50, 100, 100, 100, 0, None, None),
        (D1, 2, "/u", 2, 500, 1500, 1500, 1500, 1, None, None),
        (D2, 0, None, 1, 2000, 2000, 2000, 2000, 1, None, None),
        (D2, 1, "/u", 1, 2000, 2000, 2000, 2000, 1, None, None),
    ])  # fmt: skip


def test_slow_threshold_is_the_setting(spark: Any) -> None:
    etl = EtlSettings(slow_request_seconds=0.09)  # 0.100, 0.500, 1.500 on day 1
    counts = reports.DailyCounts.of(spark.createDataFrame(TIMED, SCHEMA), etl)
    site = reports.latency(counts.paths, "day", 3).where("rank = 0 AND day = '2024-01-01'")
    assert [r.slow_requests for r in site.collect()] == [3]
