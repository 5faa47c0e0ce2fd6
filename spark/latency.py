"""Latency per day from `access_logs.request_time`: a pure DataFrame function, no I/O.

Only rows whose format logged `$request_time` (e.g. `etl.log_format = "timed"`) count; a day
without any has no row. Percentiles are Spark's `percentile_approx` (nearest rank, exact
below its accuracy's 10,000 distinct values per group). Kept apart from spark/reports.py
(the top-N tables) until the report tables it would feed are decided; see docs/log-formats.md.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from core.log_format import SECONDS_TYPE

PERCENTILES = (0.5, 0.95, 0.99)
DEFAULT_SLOW_SECONDS = 1.0


def daily_latency(logs: DataFrame, slow_seconds: float = DEFAULT_SLOW_SECONDS) -> DataFrame:
    """(day, requests, p50_s, p95_s, p99_s, max_s, slow_requests, upstream_share).

    `slow_requests` counts requests over `slow_seconds`; `upstream_share` is the upstream
    time (its total per request) over the request time, summed over the day's requests that
    logged both: how much of the time the backends took.
    """
    seconds = F.col("request_time")
    upstream = F.col("upstream_response_time")
    both = seconds.isNotNull() & upstream.isNotNull()
    by_day = (
        logs.where(seconds.isNotNull())
        .groupBy(F.to_date("event_time").alias("day"))
        .agg(
            F.count(F.lit(1)).alias("requests"),
            F.percentile_approx(seconds, list(PERCENTILES)).alias("_percentiles"),
            F.max(seconds).alias("max_s"),
            F.count_if(seconds > F.lit(slow_seconds)).alias("slow_requests"),
            F.sum(F.when(both, upstream)).alias("_upstream"),
            F.sum(F.when(both, seconds)).alias("_total"),
        )
    )
    return by_day.select(
        "day",
        "requests",
        *[
            F.get("_percentiles", F.lit(i)).cast(SECONDS_TYPE).alias(name)
            for i, name in enumerate(("p50_s", "p95_s", "p99_s"))
        ],
        "max_s",
        "slow_requests",
        F.when(F.col("_total") > 0, F.col("_upstream") / F.col("_total"))
        .cast("double")
        .alias("upstream_share"),
    )
