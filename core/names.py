"""The project's shared names, one source each: tables, ETL stages, run outcomes, reject
reasons and query engines. The job, the CLI, the readers, the page, the benchmark and the
tests all use these; nothing spells them out again.

They are `StrEnum`s, so a member is also the plain string written into the tables.
"""

from __future__ import annotations

from enum import StrEnum


class Table(StrEnum):
    """Iceberg tables of the lakehouse namespace (schemas in spark/tables.py)."""

    ACCESS_LOGS = "access_logs"
    REJECTED_LINES = "rejected_lines"
    INGESTED_FILES = "ingested_files"
    ETL_RUNS = "etl_runs"
    DAILY_TOP_IPS = "daily_top_ips"
    WEEKLY_TOP_IPS = "weekly_top_ips"
    DAILY_TOP_DEVICES = "daily_top_devices"
    WEEKLY_TOP_DEVICES = "weekly_top_devices"
    # The reports of docs/reports.md.
    DAILY_TOP_PATHS = "daily_top_paths"
    WEEKLY_TOP_PATHS = "weekly_top_paths"
    DAILY_TOP_NOT_FOUND = "daily_top_not_found"
    WEEKLY_TOP_NOT_FOUND = "weekly_top_not_found"
    DAILY_TOP_REFERRERS = "daily_top_referrers"
    WEEKLY_TOP_REFERRERS = "weekly_top_referrers"
    DAILY_TRAFFIC = "daily_traffic"
    WEEKLY_TRAFFIC = "weekly_traffic"
    DAILY_TOP_SOFTWARE = "daily_top_software"
    WEEKLY_TOP_SOFTWARE = "weekly_top_software"
    DAILY_LATENCY = "daily_latency"
    WEEKLY_LATENCY = "weekly_latency"
    # Per-day aggregates the reports read (spark/aggregates.py).
    DAILY_IP_COUNTS = "daily_ip_counts"
    DAILY_AGENT_COUNTS = "daily_agent_counts"
    DAILY_PATH_COUNTS = "daily_path_counts"
    DAILY_REFERRER_COUNTS = "daily_referrer_counts"


# Response status classes of the path and traffic reports, each a column `status_<class>`:
# 499 (the client closed the connection) is counted apart from the other 4xx.
STATUS_CLASSES = ("2xx", "3xx", "4xx", "499", "5xx")
STATUS_COLUMNS = tuple(f"status_{c}" for c in STATUS_CLASSES)

# access_logs property: the client-IP policy its rows were written under (spark/privacy.py).
CLIENT_IP_POLICY_PROPERTY = "lakehouse.client-ip-policy"


REPORT_TABLES = (
    Table.DAILY_TOP_IPS,
    Table.DAILY_TOP_DEVICES,
    Table.WEEKLY_TOP_IPS,
    Table.WEEKLY_TOP_DEVICES,
    Table.DAILY_TOP_PATHS,
    Table.WEEKLY_TOP_PATHS,
    Table.DAILY_TOP_NOT_FOUND,
    Table.WEEKLY_TOP_NOT_FOUND,
    Table.DAILY_TOP_REFERRERS,
    Table.WEEKLY_TOP_REFERRERS,
    Table.DAILY_TRAFFIC,
    Table.WEEKLY_TRAFFIC,
    Table.DAILY_TOP_SOFTWARE,
    Table.WEEKLY_TOP_SOFTWARE,
    Table.DAILY_LATENCY,
    Table.WEEKLY_LATENCY,
)


class Stage(StrEnum):
    """Stages of one ETL run, as timed and as named in errors ("failed at 'parse'")."""

    START_SPARK = "start Spark"
    CREATE_TABLES = "create tables"
    LIST_INPUT = "list input"
    PARSE = "parse"
    CLASSIFY_USER_AGENTS = "classify user agents"
    # access_logs, rejected_lines and the per-day aggregates, written at once.
    WRITE_ROWS = "write rows"
    WRITE_REPORTS = "write reports"
    RECORD_INGESTED_FILES = "record ingested files"


class Outcome(StrEnum):
    """`etl_runs.outcome`."""

    SUCCEEDED = "succeeded"
    PARTIAL = "partial"  # some files unreadable: skipped, retried next run
    FAILED = "failed"
    NOTHING_TO_DO = "nothing-to-do"


class Reason(StrEnum):
    """`rejected_lines.reason`."""

    EMPTY = "empty"
    INVALID_UTF8 = "invalid_utf8"
    TOO_LONG = "too_long"
    TRUNCATED = "truncated"
    MALFORMED = "malformed"
    BAD_TIMESTAMP = "bad_timestamp"
    # A valid time outside the run's event-time window (settings: etl.min_event_time,
    # etl.max_future_skew): a clock reset to 1970, a year 9999.
    OUT_OF_RANGE = "out_of_range"


class QueryEngine(StrEnum):
    """Engines of `lakehouse query`."""

    SPARK = "spark"  # Spark SQL on the configured runtime (a session start, ~10 s)
    FAST = "fast"  # PyIceberg scans + DuckDB, no JVM
