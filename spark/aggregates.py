"""Per-day aggregates of access_logs, kept up to date from each batch; the reports read them.

A report for a day or an ISO week needs counts per (day, key), not the raw rows: a week at
10M lines a day is 70M rows, its aggregates a few hundred thousand. Each batch adds the
aggregates of its own rows, so no run rescans the days it touches.

Rows are per (day, source_file, key), not per (day, key). A count added to an existing row
could not be made idempotent (a run killed after that commit would add it again on its
re-run); a row per source file is inserted once, by the same insert-only MERGE that makes
access_logs idempotent, and a late file simply adds its rows to its day. Readers merge over
source files (`daily_counts`), and the weekly reports merge the days of a week.

An aggregate is a table name, its key columns (SQL over access_logs rows) and its measures.
A measure is SQL over a group of access_logs rows plus the SQL aggregate that merges its
stored values: counts and sums merge by `sum`, maxima by `max`, KLL quantile sketches of
request times (in ms, as BIGINT) by `kll_merge_agg_bigint`, so weekly percentiles come from
the daily sketches, not from the rows.

Each aggregate costs one MERGE commit per batch, so there are four, not one per report:
- `daily_ip_counts` (client_ip, is_bot): the top IPs, and the visitors of daily/weekly
  traffic. Visitors are counted exactly, as distinct client_ip over a period's rows here,
  not from HLL sketches: these rows exist anyway, so exact costs nothing more
  (docs/reports.md).
- `daily_agent_counts` (device_type, device, browser, os): the device reports and the
  browser/OS families. It replaces the former `daily_device_counts` (device_type, device)
  instead of adding a table beside it: the families split its rows a little further (a
  device label already names the OS), and one table costs one commit per batch where two
  would cost two. ensure_aggregates fills it from access_logs and drops the old one.
- `daily_path_counts` (normalised path, is_bot): top paths with status mix, top 404s,
  traffic per period (its measures summed over all paths), and latency.
- `daily_referrer_counts` (referrer_domain, is_bot): top referrers; only rows with an
  external referrer (a referrer host equal to the line's `$host` is a self-referral).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from core.log_format import parse_log_format
from core.names import STATUS_COLUMNS, Table
from core.settings import EtlSettings, Settings
from spark import enrich
from spark.commits import merge_new_rows

_DAY = "to_date(event_time)"  # the session time zone is UTC (core.properties)
# Same write behaviour as the other tables (spark/tables.py); aggregates are small, so one
# file per day and batch is what a write produces anyway.
_PROPS = (
    "'format-version'='2', 'write.parquet.compression-codec'='zstd', "
    "'write.distribution-mode'='none', 'write.merge.distribution-mode'='none', "
    "'write.merge.mode'='merge-on-read'"
)
# Aggregates an older version kept and a current one replaces (see the module docstring).
SUPERSEDED = ("daily_device_counts",)


@dataclass(frozen=True)
class Measure:
    """One stored column: its value over a group of rows, and how stored values merge."""

    of_rows: str  # SQL aggregate over access_logs rows; may use {slow_seconds}
    merge: str  # SQL aggregate function over the stored column: sum, max, ...
    # The optional access_logs column (core.log_format.OPTIONAL) a sketch is of: rows of a
    # log_format without it store null instead of an empty sketch per group.
    sketch_of: str | None = None


def count(condition: str | None = None) -> Measure:
    return Measure(f"count_if({condition})" if condition else "count(1)", "sum")


def total(sql: str) -> Measure:
    return Measure(f"sum({sql})", "sum")


def sketch(sql: str, of: str) -> Measure:
    """A KLL sketch of a BIGINT expression of column `of` (rows where it is null are left
    out)."""
    return Measure(f"kll_sketch_agg_bigint({sql})", "kll_merge_agg_bigint", sketch_of=of)


REQUESTS_AND_BYTES = {"requests": count(), "bytes": total("body_bytes")}


@dataclass(frozen=True)
class Aggregate:
    """Measures per (day, source_file, keys) of access_logs rows."""

    table: Table
    keys: dict[str, str]  # column -> SQL expression over access_logs rows
    measures: dict[str, Measure] = field(default_factory=lambda: dict(REQUESTS_AND_BYTES))
    where: str | None = None  # rows the aggregate counts (None: all)

    def _measure_sql(
        self, etl: EtlSettings, filled: Collection[str] | None = None
    ) -> dict[str, str]:
        slow = float(etl.slow_request_seconds)
        return {
            name: "CAST(NULL AS BINARY)"
            if filled is not None and m.sketch_of is not None and m.sketch_of not in filled
            else m.of_rows.format(slow_seconds=slow)
            for name, m in self.measures.items()
        }

    def of_rows(
        self, rows: DataFrame, etl: EtlSettings, filled: Collection[str] | None = None
    ) -> DataFrame:
        """(day, source_file, *keys, *measures) of access_logs-shaped rows.

        `filled`: the optional columns the rows can hold (their log_format's; None: any).
        A sketch of a column they never fill is stored as null, not as an empty sketch per
        group: that costs half of daily_path_counts (docs/benchmarks.md), and every reader
        of a sketch takes only groups with timed requests.
        """
        if self.where:
            rows = rows.where(self.where)
        keys = [F.expr(f"{_DAY} AS day"), F.col("source_file")]
        keys += [F.expr(sql).alias(name) for name, sql in self.keys.items()]
        measures = [F.expr(sql).alias(m) for m, sql in self._measure_sql(etl, filled).items()]
        return rows.groupBy(*keys).agg(*measures)

    def select_sql(self, access_logs: str, etl: EtlSettings) -> str:
        """The same aggregate over a whole table, for the backfill of a new aggregate."""
        keys = ", ".join(f"{sql} AS {name}" for name, sql in self.keys.items())
        measures = ", ".join(f"{sql} AS {m}" for m, sql in self._measure_sql(etl).items())
        where = f"WHERE {self.where} " if self.where else ""
        return (
            f"SELECT {_DAY} AS day, source_file, {keys}, {measures} FROM {access_logs} "
            f"{where}GROUP BY {_DAY}, source_file, {', '.join(self.keys.values())}"
        )

    def merged(self, stored: DataFrame, *by: str | Column) -> DataFrame:
        """Stored rows (any grouping finer than `by`) merged into one row per `by`."""
        merges = [F.expr(f"{m.merge}({name})").alias(name) for name, m in self.measures.items()]
        return stored.groupBy(*by).agg(*merges)


# The same human/bot split as the reports (spark/reports.py): human is a recognised browser.
IS_BOT = "device_type NOT IN ({})".format(", ".join(f"'{t}'" for t in enrich.HUMAN_DEVICE_TYPES))

# The path without query string or fragment, percent-decoded. `+` is a literal in a path
# (try_url_decode follows HTML forms, where it means a space), and a path that does not
# decode (a stray `%`, bytes that are not UTF-8, which decode to U+FFFD) stays as written.
_BARE_PATH = "regexp_replace(path, '[?#].*$', '')"
_DECODED = f"try_url_decode(replace({_BARE_PATH}, '+', '%2B'))"
NORMALISED_PATH = (
    f"CASE WHEN {_DECODED} IS NULL OR contains({_DECODED}, '\ufffd') THEN {_BARE_PATH} "
    f"ELSE {_DECODED} END"
)
# The lower-cased host of an absolute Referer URL (`scheme://[user@]host[:port]/...`); empty
# for `-`, empty or relative referrers. A regular expression rather than parse_url, whose
# java.net.URI rejects hosts real referrers carry (underscores, for one).
_REFERRER_HOST = (
    "regexp_extract(lower(referrer), "
    r"'^[a-z][a-z0-9+.-]*://(?:[^@/?#]*@)?(\\[[0-9a-f:.]*\\]|[^:/?#\\[]*)', 1)"
)
REFERRER_DOMAIN = f"nullif({_REFERRER_HOST}, '')"  # null when there is no host

# The condition of each of core.names.STATUS_CLASSES; 1xx and codes outside 100-599 count
# in requests only.
_STATUS = dict(
    zip(
        STATUS_COLUMNS,
        (
            "status BETWEEN 200 AND 299",
            "status BETWEEN 300 AND 399",
            "status BETWEEN 400 AND 499 AND status <> 499",
            "status = 499",
            "status BETWEEN 500 AND 599",
        ),
        strict=True,
    )
)
_MS = "CAST(request_time * 1000 AS BIGINT)"  # request_time is DECIMAL(10,3) seconds
_UPSTREAM_MS = "CAST(upstream_response_time * 1000 AS BIGINT)"
_BOTH = "request_time IS NOT NULL AND upstream_response_time IS NOT NULL"

IPS = Aggregate(Table.DAILY_IP_COUNTS, {"client_ip": "client_ip", "is_bot": IS_BOT})
AGENTS = Aggregate(
    Table.DAILY_AGENT_COUNTS,
    {"device_type": "device_type", "device": "device", "browser": "browser", "os": "os"},
)
PATHS = Aggregate(
    Table.DAILY_PATH_COUNTS,
    {"path": NORMALISED_PATH, "is_bot": IS_BOT},
    {
        **REQUESTS_AND_BYTES,
        **{column: count(condition) for column, condition in _STATUS.items()},
        "not_found": count("status = 404"),
        # Latency, from the lines whose format logged $request_time.
        "timed_requests": count("request_time IS NOT NULL"),
        "request_ms": sketch(_MS, of="request_time"),
        "max_ms": Measure(f"max({_MS})", "max"),
        "slow_requests": count("request_time > {slow_seconds}"),
        "upstream_ms": sketch(_UPSTREAM_MS, of="upstream_response_time"),
        # The share of the time spent upstream, over the lines that logged both times.
        "both_request_ms": total(f"CASE WHEN {_BOTH} THEN {_MS} END"),
        "both_upstream_ms": total(f"CASE WHEN {_BOTH} THEN {_UPSTREAM_MS} END"),
    },
)
REFERRERS = Aggregate(
    Table.DAILY_REFERRER_COUNTS,
    {"referrer_domain": REFERRER_DOMAIN, "is_bot": IS_BOT},
    # A referrer from the line's own $host is a self-referral (formats without $host: the
    # reports leave out reports.site_hosts instead). The same test as `REFERRER_DOMAIN IS
    # NOT NULL AND NOT (REFERRER_DOMAIN <=> lower(host))`, written to run the expression
    # once per line: Spark's filters share no subexpressions, and it expands each `nullif`
    # into two evaluations (this aggregate: 42 % less time at 10M lines; docs/benchmarks.md).
    where=f"{_REFERRER_HOST} NOT IN ('', coalesce(lower(host), ''))",
)
AGGREGATES = (IPS, AGENTS, PATHS, REFERRERS)


def ensure_aggregates(spark: SparkSession, settings: Settings) -> None:
    """Create each missing aggregate table, filled from the access_logs already there.

    Create-as-select commits the table and its rows at once: a lakehouse that predates an
    aggregate gets it complete, and a run killed meanwhile leaves no empty table behind.
    """
    access_logs = settings.table(Table.ACCESS_LOGS)
    for aggregate in AGGREGATES:
        name = settings.table(aggregate.table)
        if spark.catalog.tableExists(name):
            continue
        try:
            spark.sql(
                f"CREATE TABLE IF NOT EXISTS {name} USING iceberg PARTITIONED BY (day) "
                f"TBLPROPERTIES ({_PROPS}) AS {aggregate.select_sql(access_logs, settings.etl)}"
            )
        except Exception as exc:
            # Another run created it between the check and the commit: its rows are as good.
            if "already exists" not in str(exc).lower():
                raise
    for old in SUPERSEDED:
        # Derived data only (its replacement was just filled from access_logs).
        spark.sql(f"DROP TABLE IF EXISTS {settings.table(old)} PURGE")


def write_batch(
    spark: SparkSession,
    settings: Settings,
    aggregate: Aggregate,
    rows: DataFrame,
    files: Sequence[str],
) -> None:
    """Add one aggregate of a batch's access_logs rows (idempotent, one commit)."""
    quoted = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    # Null-safe: a path, browser or OS may be null, and a null key must match itself or a
    # re-run would insert its row again.
    same_key = " AND ".join(f"t.{c} <=> s.{c}" for c in ("day", "source_file", *aggregate.keys))
    # Data files hold one source file each: Iceberg prunes the target to this batch's.
    on = f"t.source_file IN ({quoted}) AND {same_key}"
    filled = parse_log_format(settings.etl.log_format).columns()
    counts = aggregate.of_rows(rows, settings.etl, filled)
    merge_new_rows(spark, settings.table(aggregate.table), counts, on)


def daily_counts(
    spark: SparkSession,
    settings: Settings,
    aggregate: Aggregate,
    snapshot: int,
    low: date | None,
    high: date | None,
) -> DataFrame:
    """(day, *keys, *measures) for days in [low, high) (None: all) at `snapshot`."""
    table = spark.read.option("versionAsOf", snapshot).table(settings.table(aggregate.table))
    if low is not None and high is not None:
        table = table.where((F.col("day") >= F.lit(low)) & (F.col("day") < F.lit(high)))
    return aggregate.merged(table, "day", *aggregate.keys)


def of_logs(logs: DataFrame, etl: EtlSettings) -> dict[Table, DataFrame]:
    """Every aggregate of access_logs-shaped rows, merged per (day, keys): what the job's
    `daily_counts` reads back, without a table (the report tests use it)."""
    return {a.table: a.merged(a.of_rows(logs, etl), "day", *a.keys) for a in AGGREGATES}


def rebuild(spark: SparkSession, settings: Settings) -> None:
    """Recompute every aggregate from access_logs (`lakehouse rebuild-reports`)."""
    access_logs = settings.table(Table.ACCESS_LOGS)
    for aggregate in AGGREGATES:
        spark.sql(aggregate.select_sql(access_logs, settings.etl)).writeTo(
            settings.table(aggregate.table)
        ).overwrite(F.lit(True))
