"""Daily and weekly reports: pure DataFrame -> DataFrame functions, no I/O.

Every table is derived from the per-day aggregates (spark/aggregates.py), never from
access_logs rows: a week is its days merged (counts summed, KLL sketches merged, client IPs
kept apart so that visitors stay distinct). Ranks are per (period, segment), ties broken
deterministically: requests desc, bytes desc, key asc. Weeks are ISO weeks (Monday), UTC.
What each table holds: docs/reports.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from core.log_format import OPTIONAL, parse_log_format
from core.names import STATUS_COLUMNS, Table
from core.settings import EtlSettings
from spark import aggregates, enrich
from spark.aggregates import AGENTS, IPS, PATHS, REFERRERS

# human: a recognised browser on a recognised OS; bot: everything else, automated or
# unidentified (spark/enrich.py says why there is no third segment).
SEGMENT_ALL, SEGMENT_HUMAN, SEGMENT_BOT = "all", "human", "bot"
PERCENTILES = {"p50_ms": 0.5, "p95_ms": 0.95, "p99_ms": 0.99}
LATENCY_TABLES = (Table.DAILY_LATENCY, Table.WEEKLY_LATENCY)


def timed(etl: EtlSettings) -> bool:
    """Whether lines of etl.log_format carry a request time, the latency tables' input."""
    return OPTIONAL["request_time"].column in parse_log_format(etl.log_format).columns()


def week_start(day: Column) -> Column:
    """Monday of the ISO week of `day` (Spark's date_trunc('week') truncates to Monday)."""
    return F.to_date(F.date_trunc("week", day))


def _ranked(
    df: DataFrame,
    period: str,
    partition: list[str],
    keys: list[str],
    n: int,
    by: Sequence[str] = ("requests", "bytes"),
) -> DataFrame:
    order = [*[F.col(c).desc() for c in by], *[F.col(k).asc() for k in keys]]
    window = Window.partitionBy(period, *partition).orderBy(*order)
    return df.withColumn("rank", F.row_number().over(window)).where(F.col("rank") <= n)


def _segmented(counts: DataFrame, period: str, keys: list[str], columns: list[str]) -> DataFrame:
    """Rows per (period, segment, keys) with `columns` summed: human and bot from is_bot,
    and `all`, which sums both. One aggregation with two grouping sets: one shuffle, where
    two group-bys and a union cost two."""
    sums = [F.sum(c).alias(c) for c in columns]
    grouped = counts.groupingSets(
        [[period, "is_bot", *keys], [period, *keys]], period, "is_bot", *keys
    ).agg(*sums, F.grouping("is_bot").alias("_everyone"))
    segment = (
        F.when(F.col("_everyone") == 1, SEGMENT_ALL)
        .when(F.col("is_bot"), SEGMENT_BOT)
        .otherwise(SEGMENT_HUMAN)
    )
    return grouped.select(period, segment.alias("segment"), *keys, *columns)


def top_ips(ip_counts: DataFrame, period: str, n: int) -> DataFrame:
    """Top-n client IPs per (period, segment) from (period, client_ip, is_bot, requests, bytes)."""
    segmented = _segmented(ip_counts, period, ["client_ip"], ["requests", "bytes"])
    ranked = _ranked(segmented, period, ["segment"], ["client_ip"], n)
    return ranked.select(period, "segment", "rank", "client_ip", "requests", "bytes")


def top_devices(agent_counts: DataFrame, period: str, n: int) -> DataFrame:
    """Top-n (device_type, device) per period with their share of the period's requests."""
    devices = agent_counts.groupBy(period, "device_type", "device").agg(
        F.sum("requests").alias("requests"), F.sum("bytes").alias("bytes")
    )
    total = F.sum("requests").over(Window.partitionBy(period))
    with_share = devices.withColumn("share", F.col("requests") / total)
    ranked = _ranked(with_share, period, [], ["device_type", "device"], n)
    return ranked.select(period, "rank", "device_type", "device", "requests", "share")


def top_paths(path_counts: DataFrame, period: str, n: int) -> DataFrame:
    """Top-n normalised paths per (period, segment) with bytes and status classes."""
    columns = ["requests", "bytes", *STATUS_COLUMNS]
    known = path_counts.where(F.col("path").isNotNull())  # a request line without a path
    ranked = _ranked(_segmented(known, period, ["path"], columns), period, ["segment"], ["path"], n)
    return ranked.select(period, "segment", "rank", "path", *columns)


def top_not_found(path_counts: DataFrame, period: str, n: int) -> DataFrame:
    """Top-n paths by 404 responses per (period, segment); 404s are all they count (their
    bytes are not kept, so ties go by path)."""
    missing = path_counts.where((F.col("not_found") > 0) & F.col("path").isNotNull())
    segmented = _segmented(missing, period, ["path"], ["not_found"])
    counted = segmented.withColumnRenamed("not_found", "requests")
    ranked = _ranked(counted, period, ["segment"], ["path"], n, by=("requests",))
    return ranked.select(period, "segment", "rank", "path", "requests")


def top_referrers(
    referrer_counts: DataFrame, period: str, n: int, site_hosts: Sequence[str] = ()
) -> DataFrame:
    """Top-n referrer domains per (period, segment); the site's own hosts left out."""
    external = referrer_counts
    if site_hosts:
        external = external.where(~F.col("referrer_domain").isin(*site_hosts))
    segmented = _segmented(external, period, ["referrer_domain"], ["requests", "bytes"])
    ranked = _ranked(segmented, period, ["segment"], ["referrer_domain"], n)
    return ranked.select(period, "segment", "rank", "referrer_domain", "requests", "bytes")


def traffic(path_counts: DataFrame, ip_counts: DataFrame, period: str) -> DataFrame:
    """One row per period: requests, bytes, status classes, and visitors, the distinct
    client IPs among the period's rows (all of them, and the human ones). `ip_counts` must
    hold one row per (period, client_ip, is_bot) or finer: a client seen on several days of
    a week is one weekly visitor."""
    columns = ["requests", "bytes", *STATUS_COLUMNS]
    totals = path_counts.groupBy(period).agg(*[F.sum(c).alias(c) for c in columns])
    human_ip = F.when(~F.col("is_bot"), F.col("client_ip"))
    visitors = ip_counts.groupBy(period).agg(
        F.count_distinct("client_ip").alias("visitors"),
        F.count_distinct(human_ip).alias("human_visitors"),
    )
    joined = totals.join(visitors, period, "left")
    return joined.select(
        period,
        *columns,
        *[F.coalesce(c, F.lit(0)).alias(c) for c in ("visitors", "human_visitors")],
    )


def top_software(agent_counts: DataFrame, period: str, n: int) -> DataFrame:
    """Top-n browser and OS families of the human segment per (period, kind), with their
    share of the period's human requests."""
    human = agent_counts.where(F.col("device_type").isin(*enrich.HUMAN_DEVICE_TYPES))
    sums = [F.sum("requests").alias("requests"), F.sum("bytes").alias("bytes")]
    families = [
        human.where(F.col(kind).isNotNull())
        .groupBy(period, F.col(kind).alias("family"))
        .agg(*sums)
        .withColumn("kind", F.lit(name))
        for kind, name in (("browser", "browser"), ("os", "os"))
    ]
    totals = human.groupBy(period).agg(F.sum("requests").alias("_total"))
    shares = (
        families[0]
        .unionByName(families[1])
        .join(totals, period)
        .withColumn("share", F.col("requests") / F.col("_total"))
    )
    ranked = _ranked(shares, period, ["kind"], ["family"], n)
    return ranked.select(period, "kind", "rank", "family", "requests", "share")


def latency(path_counts: DataFrame, period: str, n: int) -> DataFrame:
    """Per period with timed requests: the whole site (rank 0, path null) and the top-n
    paths by timed requests, with percentiles from the merged KLL sketches."""
    timed = path_counts.where(F.col("timed_requests") > 0)
    site = PATHS.merged(timed, period).withColumns(
        {"rank": F.lit(0), "path": F.lit(None).cast("string")}
    )
    by_path = PATHS.merged(timed.where(F.col("path").isNotNull()), period, "path")
    ranked = _ranked(by_path, period, [], ["path"], n, by=("timed_requests",))
    rows = site.unionByName(ranked)
    upstream_timed = F.expr("kll_sketch_get_n_bigint(upstream_ms)") > 0
    return rows.select(
        period,
        "rank",
        "path",
        F.col("timed_requests").alias("requests"),
        *[
            F.expr(f"kll_sketch_get_quantile_bigint(request_ms, {q})").alias(name)
            for name, q in PERCENTILES.items()
        ],
        "max_ms",
        "slow_requests",
        F.when(upstream_timed, F.expr("kll_sketch_get_quantile_bigint(upstream_ms, 0.95)")).alias(
            "upstream_p95_ms"
        ),
        F.when(
            F.col("both_request_ms") > 0, F.col("both_upstream_ms") / F.col("both_request_ms")
        ).alias("upstream_share"),
    )


@dataclass(frozen=True)
class DailyCounts:
    """The per-day aggregates every report table is derived from, merged per (day, keys)."""

    ips: DataFrame  # (day, client_ip, is_bot, requests, bytes)
    agents: DataFrame  # (day, device_type, device, browser, os, requests, bytes)
    paths: DataFrame  # (day, path, is_bot, *aggregates.PATHS measures)
    referrers: DataFrame  # (day, referrer_domain, is_bot, requests, bytes)

    @classmethod
    def of(cls, logs: DataFrame, etl: EtlSettings | None = None) -> DailyCounts:
        """From access_logs-shaped rows, through the same aggregates the job stores."""
        counts = aggregates.of_logs(logs, etl or EtlSettings())
        return cls(
            counts[Table.DAILY_IP_COUNTS],
            counts[Table.DAILY_AGENT_COUNTS],
            counts[Table.DAILY_PATH_COUNTS],
            counts[Table.DAILY_REFERRER_COUNTS],
        )

    def by_week(self) -> DailyCounts:
        """The same aggregates per (week_start, keys): each week's days merged."""

        def merged(aggregate: aggregates.Aggregate, frame: DataFrame) -> DataFrame:
            weekly = frame.withColumn("week_start", week_start(F.col("day")))
            return aggregate.merged(weekly, "week_start", *aggregate.keys)

        return DailyCounts(
            merged(IPS, self.ips),
            merged(AGENTS, self.agents),
            merged(PATHS, self.paths),
            merged(REFERRERS, self.referrers),
        )


def build_reports(
    counts: DailyCounts, n: int, site_hosts: Sequence[str] = ()
) -> dict[Table, DataFrame]:
    """Every report table for the days in `counts` (aggregate whole weeks of logs)."""
    weekly = counts.by_week()
    return {
        Table.DAILY_TOP_IPS: top_ips(counts.ips, "day", n),
        Table.WEEKLY_TOP_IPS: top_ips(weekly.ips, "week_start", n),
        Table.DAILY_TOP_DEVICES: top_devices(counts.agents, "day", n),
        Table.WEEKLY_TOP_DEVICES: top_devices(weekly.agents, "week_start", n),
        Table.DAILY_TOP_PATHS: top_paths(counts.paths, "day", n),
        Table.WEEKLY_TOP_PATHS: top_paths(weekly.paths, "week_start", n),
        Table.DAILY_TOP_NOT_FOUND: top_not_found(counts.paths, "day", n),
        Table.WEEKLY_TOP_NOT_FOUND: top_not_found(weekly.paths, "week_start", n),
        Table.DAILY_TOP_REFERRERS: top_referrers(counts.referrers, "day", n, site_hosts),
        Table.WEEKLY_TOP_REFERRERS: top_referrers(weekly.referrers, "week_start", n, site_hosts),
        Table.DAILY_TRAFFIC: traffic(counts.paths, counts.ips, "day"),
        Table.WEEKLY_TRAFFIC: traffic(weekly.paths, weekly.ips, "week_start"),
        Table.DAILY_TOP_SOFTWARE: top_software(counts.agents, "day", n),
        Table.WEEKLY_TOP_SOFTWARE: top_software(weekly.agents, "week_start", n),
        Table.DAILY_LATENCY: latency(counts.paths, "day", n),
        Table.WEEKLY_LATENCY: latency(weekly.paths, "week_start", n),
    }


def only_periods_of(report: DataFrame, days: list[date]) -> DataFrame:
    """A report's rows for `days` (daily reports); weekly reports are kept whole.

    The weekly tables need every day of their weeks, the daily ones only the days a batch
    changed: the other days' rows would be rewritten unchanged.
    """
    if "day" in report.columns:
        return report.where(F.col("day").isin(days))
    return report
