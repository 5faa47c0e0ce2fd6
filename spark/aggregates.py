"""Per-day aggregates of access_logs, kept up to date from each batch; the reports read them.

A report for a day or an ISO week needs counts per (day, key), not the raw rows: a week at
10M lines a day is 70M rows, its aggregates a few hundred thousand. Each batch adds the
aggregates of its own rows, so no run rescans the days it touches.

Rows are per (day, source_file, key), not per (day, key). A count added to an existing row
could not be made idempotent (a run killed after that commit would add it again on its
re-run); a row per source file is inserted once, by the same insert-only MERGE that makes
access_logs idempotent, and a late file simply adds its rows to its day. Readers sum over
source files (`daily_counts`).

A new report (top paths, referrers, status per day) plugs in as one more `Aggregate`: a
table name, its key columns as SQL over access_logs rows, and their types.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from core.names import Table
from core.settings import Settings
from spark import enrich
from spark.commits import merge_new_rows

# What every aggregate counts, as SQL over access_logs rows.
MEASURES = {"requests": "count(1)", "bytes": "sum(body_bytes)"}
_DAY = "to_date(event_time)"  # the session time zone is UTC (core.properties)
# Same write behaviour as the other tables (spark/tables.py); aggregates are small, so one
# file per day and batch is what a write produces anyway.
_PROPS = (
    "'format-version'='2', 'write.parquet.compression-codec'='zstd', "
    "'write.distribution-mode'='none', 'write.merge.distribution-mode'='none', "
    "'write.merge.mode'='merge-on-read'"
)


@dataclass(frozen=True)
class Aggregate:
    """Counts per (day, source_file, keys) of access_logs rows."""

    table: Table
    keys: dict[str, str]  # column -> SQL expression over access_logs rows

    def of_rows(self, rows: DataFrame) -> DataFrame:
        """(day, source_file, *keys, requests, bytes) of access_logs-shaped rows."""
        keys = [F.expr(f"{_DAY} AS day"), F.col("source_file")]
        keys += [F.expr(sql).alias(name) for name, sql in self.keys.items()]
        return rows.groupBy(*keys).agg(*[F.expr(sql).alias(m) for m, sql in MEASURES.items()])

    def select_sql(self, access_logs: str) -> str:
        """The same aggregate over a whole table, for the backfill of a new aggregate."""
        keys = ", ".join(f"{sql} AS {name}" for name, sql in self.keys.items())
        measures = ", ".join(f"{sql} AS {name}" for name, sql in MEASURES.items())
        return (
            f"SELECT {_DAY} AS day, source_file, {keys}, {measures} FROM {access_logs} "
            f"GROUP BY {_DAY}, source_file, {', '.join(self.keys.values())}"
        )


# The same human/bot split as the reports (spark/reports.py): human is a recognised browser.
_IS_BOT = "device_type NOT IN ({})".format(", ".join(f"'{t}'" for t in enrich.HUMAN_DEVICE_TYPES))
IPS = Aggregate(Table.DAILY_IP_COUNTS, {"client_ip": "client_ip", "is_bot": _IS_BOT})
DEVICES = Aggregate(Table.DAILY_DEVICE_COUNTS, {"device_type": "device_type", "device": "device"})
AGGREGATES = (IPS, DEVICES)


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
                f"TBLPROPERTIES ({_PROPS}) AS {aggregate.select_sql(access_logs)}"
            )
        except Exception as exc:
            # Another run created it between the check and the commit: its rows are as good.
            if "already exists" not in str(exc).lower():
                raise


def write_batch(
    spark: SparkSession, settings: Settings, rows: DataFrame, files: Sequence[str]
) -> None:
    """Add the aggregates of one batch's access_logs rows (idempotent, one commit each)."""
    quoted = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    for aggregate in AGGREGATES:
        same_key = " AND ".join(f"t.{c} = s.{c}" for c in ("day", "source_file", *aggregate.keys))
        # Data files hold one source file each: Iceberg prunes the target to this batch's.
        on = f"t.source_file IN ({quoted}) AND {same_key}"
        merge_new_rows(spark, settings.table(aggregate.table), aggregate.of_rows(rows), on)


def daily_counts(
    spark: SparkSession,
    settings: Settings,
    aggregate: Aggregate,
    snapshot: int,
    low: date | None,
    high: date | None,
) -> DataFrame:
    """(day, *keys, requests, bytes) for days in [low, high) (None: all) at `snapshot`."""
    table = spark.read.option("versionAsOf", snapshot).table(settings.table(aggregate.table))
    if low is not None and high is not None:
        table = table.where((F.col("day") >= F.lit(low)) & (F.col("day") < F.lit(high)))
    return table.groupBy("day", *aggregate.keys).agg(*[F.sum(m).alias(m) for m in MEASURES])


def rebuild(spark: SparkSession, settings: Settings) -> None:
    """Recompute every aggregate from access_logs (`lakehouse rebuild-reports`)."""
    access_logs = settings.table(Table.ACCESS_LOGS)
    for aggregate in AGGREGATES:
        spark.sql(aggregate.select_sql(access_logs)).writeTo(
            settings.table(aggregate.table)
        ).overwrite(F.lit(True))
