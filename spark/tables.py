"""Iceberg table definitions (the data contracts of docs/architecture.md) and their creation."""

from __future__ import annotations

from pyspark.sql import SparkSession

from core.log_format import EXTRA_COLUMN, EXTRA_TYPE, OPTIONAL, SQL_TYPES
from core.names import REPORT_TABLES, STATUS_COLUMNS, Table
from core.settings import Settings

ACCESS_LOGS = Table.ACCESS_LOGS
REJECTED_LINES = Table.REJECTED_LINES
INGESTED_FILES = Table.INGESTED_FILES
ETL_RUNS = Table.ETL_RUNS
DAILY_TOP_IPS = Table.DAILY_TOP_IPS
WEEKLY_TOP_IPS = Table.WEEKLY_TOP_IPS
DAILY_TOP_DEVICES = Table.DAILY_TOP_DEVICES
WEEKLY_TOP_DEVICES = Table.WEEKLY_TOP_DEVICES
__all__ = ["DDL", "REPORT_TABLES", "ensure_tables"]

# Writers never shuffle rows just to cluster them by partition: one input file covers an
# hour, so each task already writes one or two days; fanout writers keep a file per day open.
# The ETL's MERGEs only insert, so merge-on-read never writes a delete file; it lets Spark
# use a right outer join that can broadcast the target's keys instead of copy-on-write's
# full outer sort-merge join (measured: half the CPU when a late file meets a loaded day).
_WRITE_PROPS = (
    "'format-version'='2', 'write.parquet.compression-codec'='zstd', "
    "'write.distribution-mode'='none', 'write.merge.distribution-mode'='none', "
    "'write.spark.fanout.enabled'='true', 'write.merge.mode'='merge-on-read'"
)

DDL: dict[str, str] = {
    ACCESS_LOGS: """
        event_time TIMESTAMP NOT NULL COMMENT 'UTC, from the line''s own offset',
        client_ip STRING NOT NULL, remote_user STRING,
        method STRING, path STRING, protocol STRING,
        status INT NOT NULL, body_bytes BIGINT NOT NULL,
        referrer STRING, user_agent STRING,
        device_type STRING NOT NULL COMMENT 'desktop|mobile|tablet|bot|other',
        device STRING NOT NULL, os STRING, browser STRING,
        source_file STRING NOT NULL, source_line BIGINT NOT NULL,
        ingested_at TIMESTAMP NOT NULL
    """,
    REJECTED_LINES: """
        source_file STRING NOT NULL, source_line BIGINT NOT NULL,
        raw_line STRING NOT NULL COMMENT 'truncated to etl.rejected_line_keep_chars',
        reason STRING NOT NULL, ingested_at TIMESTAMP NOT NULL""",
    INGESTED_FILES: """
        source_file STRING NOT NULL, size_bytes BIGINT NOT NULL,
        lines_read BIGINT NOT NULL, accepted BIGINT NOT NULL, rejected BIGINT NOT NULL,
        run_id STRING NOT NULL, ingested_at TIMESTAMP NOT NULL""",
    ETL_RUNS: """
        run_id STRING NOT NULL, started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP,
        outcome STRING NOT NULL COMMENT 'succeeded|partial|failed|nothing-to-do',
        error STRING, input_files INT NOT NULL, input_bytes BIGINT NOT NULL,
        lines_read BIGINT NOT NULL, accepted BIGINT NOT NULL, rejected BIGINT NOT NULL,
        rows_written MAP<STRING, BIGINT>, snapshot_ids MAP<STRING, BIGINT>""",
    DAILY_TOP_IPS: """
        day DATE NOT NULL, segment STRING NOT NULL COMMENT 'all|human|bot',
        rank INT NOT NULL, client_ip STRING NOT NULL,
        requests BIGINT NOT NULL, bytes BIGINT NOT NULL
    """,
    WEEKLY_TOP_IPS: """
        week_start DATE NOT NULL COMMENT 'ISO week, Monday, UTC',
        segment STRING NOT NULL, rank INT NOT NULL, client_ip STRING NOT NULL,
        requests BIGINT NOT NULL, bytes BIGINT NOT NULL
    """,
    DAILY_TOP_DEVICES: """
        day DATE NOT NULL, rank INT NOT NULL, device_type STRING NOT NULL,
        device STRING NOT NULL, requests BIGINT NOT NULL, share DOUBLE NOT NULL
    """,
    WEEKLY_TOP_DEVICES: """
        week_start DATE NOT NULL, rank INT NOT NULL, device_type STRING NOT NULL,
        device STRING NOT NULL, requests BIGINT NOT NULL, share DOUBLE NOT NULL
    """,
}

# The reports of docs/reports.md: a daily and a weekly table each, same columns.
_SEGMENTED = "segment STRING NOT NULL COMMENT 'all|human|bot', rank INT NOT NULL"
_STATUS = ", ".join(f"{c} BIGINT NOT NULL" for c in STATUS_COLUMNS)
_REPORTS: dict[tuple[Table, Table], str] = {
    (Table.DAILY_TOP_PATHS, Table.WEEKLY_TOP_PATHS): f"""
        {_SEGMENTED}, path STRING NOT NULL COMMENT 'no query string, percent-decoded',
        requests BIGINT NOT NULL, bytes BIGINT NOT NULL, {_STATUS}""",
    (Table.DAILY_TOP_NOT_FOUND, Table.WEEKLY_TOP_NOT_FOUND): f"""
        {_SEGMENTED}, path STRING NOT NULL, requests BIGINT NOT NULL COMMENT '404 responses'""",
    (Table.DAILY_TOP_REFERRERS, Table.WEEKLY_TOP_REFERRERS): f"""
        {_SEGMENTED}, referrer_domain STRING NOT NULL,
        requests BIGINT NOT NULL, bytes BIGINT NOT NULL""",
    (Table.DAILY_TRAFFIC, Table.WEEKLY_TRAFFIC): f"""
        requests BIGINT NOT NULL, bytes BIGINT NOT NULL, {_STATUS},
        visitors BIGINT NOT NULL COMMENT 'distinct client_ip',
        human_visitors BIGINT NOT NULL""",
    (Table.DAILY_TOP_SOFTWARE, Table.WEEKLY_TOP_SOFTWARE): """
        kind STRING NOT NULL COMMENT 'browser|os', rank INT NOT NULL, family STRING NOT NULL,
        requests BIGINT NOT NULL, share DOUBLE NOT NULL COMMENT 'of human requests'""",
    (Table.DAILY_LATENCY, Table.WEEKLY_LATENCY): """
        rank INT NOT NULL COMMENT '0: the whole site', path STRING,
        requests BIGINT NOT NULL COMMENT 'lines with request_time',
        p50_ms BIGINT NOT NULL, p95_ms BIGINT NOT NULL, p99_ms BIGINT NOT NULL,
        max_ms BIGINT NOT NULL, slow_requests BIGINT NOT NULL,
        upstream_p95_ms BIGINT, upstream_share DOUBLE""",
}
DDL |= {daily: f"day DATE NOT NULL, {columns}" for (daily, _), columns in _REPORTS.items()}
DDL |= {
    weekly: f"week_start DATE NOT NULL COMMENT 'ISO week, Monday, UTC', {columns}"
    for (_, weekly), columns in _REPORTS.items()
}


# Columns filled only when etl.log_format has their variable (core/log_format.py), null
# otherwise. Tables created before they existed gain them in ensure_tables (ALTER TABLE ADD
# COLUMNS: Iceberg assigns new field ids, old data files read them as null).
ADDED_COLUMNS: dict[str, dict[str, str]] = {
    ACCESS_LOGS: {
        **{v.column: SQL_TYPES[v.kind] for v in OPTIONAL.values()},
        EXTRA_COLUMN: EXTRA_TYPE,
    }
}


def _columns(name: str) -> str:
    added = ", ".join(f"{column} {kind}" for column, kind in ADDED_COLUMNS.get(name, {}).items())
    return f"{DDL[name]}, {added}" if added else DDL[name]


PARTITIONING: dict[str, str] = {
    ACCESS_LOGS: "days(event_time)",  # hidden partitioning: readers filter on event_time
    DAILY_TOP_IPS: "day",
    DAILY_TOP_DEVICES: "day",
    WEEKLY_TOP_IPS: "week_start",
    WEEKLY_TOP_DEVICES: "week_start",
    **{daily: "day" for daily, _ in _REPORTS},
    **{weekly: "week_start" for _, weekly in _REPORTS},
}


def ensure_tables(spark: SparkSession, settings: Settings) -> None:
    """Create the namespace and every table if missing, and add missing columns (idempotent)."""
    spark.sql(
        f"CREATE NAMESPACE IF NOT EXISTS {settings.catalog.name}.{settings.catalog.namespace}"
    )
    for name in DDL:
        partitioning = f"PARTITIONED BY ({PARTITIONING[name]})" if name in PARTITIONING else ""
        spark.sql(
            f"CREATE TABLE IF NOT EXISTS {settings.table(name)} ({_columns(name)}) USING iceberg "
            f"{partitioning} TBLPROPERTIES ({_WRITE_PROPS})"
        )
    for name, added in ADDED_COLUMNS.items():
        present = set(spark.table(settings.table(name)).columns)
        missing = ", ".join(f"{c} {kind}" for c, kind in added.items() if c not in present)
        if missing:
            spark.sql(f"ALTER TABLE {settings.table(name)} ADD COLUMNS ({missing})")
