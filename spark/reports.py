"""Daily and weekly top-N reports: pure DataFrame -> DataFrame functions, no I/O.

One aggregation per (day, key) feeds both the daily and the weekly tables (a week is the
sum of its days). Ties are broken deterministically: requests desc, bytes desc, key asc.
Weeks are ISO weeks (Monday), UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from spark import enrich, tables

# human: a recognised browser on a recognised OS; bot: everything else, automated or
# unidentified (spark/enrich.py says why there is no third segment).
SEGMENT_ALL, SEGMENT_HUMAN, SEGMENT_BOT = "all", "human", "bot"


def week_start(day: Column) -> Column:
    """Monday of the ISO week of `day` (Spark's date_trunc('week') truncates to Monday)."""
    return F.to_date(F.date_trunc("week", day))


def _ranked(df: DataFrame, period: str, partition: list[str], keys: list[str], n: int) -> DataFrame:
    order = [F.col("requests").desc(), F.col("bytes").desc(), *[F.col(k).asc() for k in keys]]
    window = Window.partitionBy(period, *partition).orderBy(*order)
    return df.withColumn("rank", F.row_number().over(window)).where(F.col("rank") <= n)


def ip_counts_by_day(logs: DataFrame) -> DataFrame:
    """(day, client_ip, is_bot, requests, bytes) from access_logs rows."""
    return logs.groupBy(
        F.to_date("event_time").alias("day"),
        "client_ip",
        (~F.col("device_type").isin(*enrich.HUMAN_DEVICE_TYPES)).alias("is_bot"),
    ).agg(F.count(F.lit(1)).alias("requests"), F.sum("body_bytes").alias("bytes"))


def device_counts_by_day(logs: DataFrame) -> DataFrame:
    """(day, device_type, device, requests, bytes) from access_logs rows."""
    return logs.groupBy(F.to_date("event_time").alias("day"), "device_type", "device").agg(
        F.count(F.lit(1)).alias("requests"), F.sum("body_bytes").alias("bytes")
    )


def _by_week(counts: DataFrame, keys: list[str]) -> DataFrame:
    return counts.groupBy(week_start(F.col("day")).alias("week_start"), *keys).agg(
        F.sum("requests").alias("requests"), F.sum("bytes").alias("bytes")
    )


def top_ips(ip_counts: DataFrame, period: str, n: int) -> DataFrame:
    """Top-n client IPs per (period, segment) from (period, client_ip, is_bot, requests, bytes)."""
    segmented = ip_counts.withColumn(
        "segment", F.when(F.col("is_bot"), SEGMENT_BOT).otherwise(SEGMENT_HUMAN)
    ).drop("is_bot")
    everyone = (
        ip_counts.groupBy(period, "client_ip")
        .agg(F.sum("requests").alias("requests"), F.sum("bytes").alias("bytes"))
        .withColumn("segment", F.lit(SEGMENT_ALL))
    )
    ranked = _ranked(segmented.unionByName(everyone), period, ["segment"], ["client_ip"], n)
    return ranked.select(period, "segment", "rank", "client_ip", "requests", "bytes")


def top_devices(device_counts: DataFrame, period: str, n: int) -> DataFrame:
    """Top-n (device_type, device) per period with their share of the period's requests."""
    total = F.sum("requests").over(Window.partitionBy(period))
    with_share = device_counts.withColumn("share", F.col("requests") / total)
    ranked = _ranked(with_share, period, [], ["device_type", "device"], n)
    return ranked.select(period, "rank", "device_type", "device", "requests", "share")


@dataclass(frozen=True)
class DailyCounts:
    """The two per-day aggregates every report table is derived from."""

    ips: DataFrame  # (day, client_ip, is_bot, requests, bytes)
    devices: DataFrame  # (day, device_type, device, requests, bytes)

    @classmethod
    def of(cls, logs: DataFrame) -> DailyCounts:
        return cls(ip_counts_by_day(logs), device_counts_by_day(logs))


def build_reports(counts: DailyCounts, n: int) -> dict[str, DataFrame]:
    """All four report tables for the days in `counts` (aggregate whole weeks of logs)."""
    ips, devices = counts.ips, counts.devices
    return {
        tables.DAILY_TOP_IPS: top_ips(ips, "day", n),
        tables.WEEKLY_TOP_IPS: top_ips(_by_week(ips, ["client_ip", "is_bot"]), "week_start", n),
        tables.DAILY_TOP_DEVICES: top_devices(devices, "day", n),
        tables.WEEKLY_TOP_DEVICES: top_devices(
            _by_week(devices, ["device_type", "device"]), "week_start", n
        ),
    }


def only_periods_of(report: DataFrame, days: list[date]) -> DataFrame:
    """A report's rows for `days` (daily reports); weekly reports are kept whole.

    The weekly tables need every day of their weeks, the daily ones only the days a batch
    changed: the other days' rows would be rewritten unchanged.
    """
    if "day" in report.columns:
        return report.where(F.col("day").isin(days))
    return report
