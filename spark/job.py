"""The ETL run: new raw files -> staged Parquet -> Iceberg tables -> reports -> ledger.

Crash safety comes from three properties, not from bookkeeping:
- `access_logs` and `rejected_lines` are written with insert-only MERGEs keyed by
  (source_file, source_line), so re-processing a file never duplicates a row;
- the ledger `ingested_files` is written last, so a file counts as done only after its
  rows and the reports it affects are committed;
- reports are recomputed from `access_logs` for every ISO week a batch touches.
A run killed at any point and re-run therefore ends with the rows of one clean run.
Staged Parquet lives in the processed location, one directory per run, removed at the end.
"""

from __future__ import annotations

import contextlib
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from core.names import Outcome, Stage
from core.settings import Settings
from spark import enrich, privacy, reports, tables
from spark.commits import (
    MAX_ATTEMPTS,
    added_records,
    current_snapshot,
    merge_new_rows,
    remove_path,
)
from spark.frames import local_frame
from spark.inputs import InputFile, list_input_files, read_raw
from spark.parse import ACCESS_FIELDS, parse_lines

Progress = Callable[[str], None]
SAME_LINE = "t.source_file = s.source_file AND t.source_line = s.source_line"


@dataclass
class FileStats:
    lines: int
    accepted: int

    @property
    def rejected(self) -> int:
        return self.lines - self.accepted


@dataclass
class EtlResult:
    run_id: str
    started_at: datetime
    outcome: str = Outcome.SUCCEEDED
    error: str | None = None
    files: list[str] = field(default_factory=list)
    input_bytes: int = 0
    lines_read: int = 0
    accepted: int = 0
    rejected: int = 0
    days: list[date] = field(default_factory=list)
    rows_written: dict[str, int] = field(default_factory=dict)
    # Unreadable files (e.g. truncated gzip): skipped, not in the ledger, retried next run.
    skipped_files: dict[str, str] = field(default_factory=dict)
    stage_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return sum(self.stage_seconds.values())


class _Stages:
    """Times each stage and shows its name in the caller's progress display."""

    def __init__(self, result: EtlResult, progress: Progress | None) -> None:
        self.result, self.progress = result, progress

    def run(self, name: str, fn: Callable[[], Any]) -> Any:
        if self.progress:
            self.progress(name)
        start = time.perf_counter()
        value = fn()
        self.result.stage_seconds[name] = round(time.perf_counter() - start, 3)
        return value


def stage_batch(raw: DataFrame, settings: Settings, ingested_at: datetime) -> DataFrame:
    """Parsed lines, accepted and rejected, in the shape the staging Parquet stores."""
    window = settings.etl.event_time_window(ingested_at)
    parsed = parse_lines(raw, settings.etl.max_line_bytes, window)
    rejected = F.col("reject_reason").isNotNull()
    keep = F.lit(settings.etl.rejected_line_keep_chars)
    staged = parsed.select(
        *ACCESS_FIELDS,
        "source_file",
        "source_line",
        F.col("reject_reason").alias("reason"),
        F.when(rejected, F.left(F.make_valid_utf8("value"), keep)).alias("raw_line"),
        F.lit(ingested_at).alias("ingested_at"),
    )
    return privacy.anonymise(staged, settings.etl)  # before anything is written


def enrich_accepted(accepted: DataFrame, devices: DataFrame) -> DataFrame:
    """access_logs rows: accepted lines joined with their User-Agent's device columns."""
    joined = accepted.join(F.broadcast(devices), "user_agent", "left")
    return joined.select(
        *ACCESS_FIELDS,
        F.coalesce("device_type", F.lit(enrich.UNKNOWN.device_type)).alias("device_type"),
        F.coalesce("device", F.lit(enrich.UNKNOWN.device)).alias("device"),
        "os",
        "browser",
        "source_file",
        "source_line",
        "ingested_at",
    )


_FAILED_READ = re.compile(
    r"FAILED_READ_FILE[^\]]*\] Encountered error while reading file (\S+?)\.?\s"
)


def _same_file(uri: str) -> str:
    # Hadoop lists `file:/x`, Spark's errors say `file:///x`.
    return re.sub(r"^file:/+", "file:/", uri)


# A read that failed because the object store went away is not a corrupt file: skipping
# the file would end the run "partial" instead of failing it with the service named.
_LOST_CONNECTION = re.compile(
    r"Connection refused|ConnectException|SdkClientException|UnknownHostException|"
    r"Unable to execute HTTP request"
)


def unreadable_file(exc: Exception, files: list[InputFile]) -> InputFile | None:
    """The input file a Spark read error names, if it is one of `files` and is corrupt."""
    text = str(exc)
    match = _FAILED_READ.search(text)
    if not match or _LOST_CONNECTION.search(text):
        return None
    named = _same_file(match.group(1))
    return next((f for f in files if _same_file(f.uri) == named), None)


def stage_readable(
    spark: SparkSession, settings: Settings, batch: list[InputFile], result: EtlResult, uri: str
) -> list[InputFile]:
    """Write the staging Parquet for `batch`, dropping files Spark cannot read.

    A corrupt file must not stop the others: it is reported, left out of the ledger (so the
    next run tries it again) and the stage is re-run without it.
    """
    files = list(batch)
    while files:
        try:
            staged = stage_batch(read_raw(spark, files), settings, result.started_at)
            # Read back a few times and then deleted: dictionary encoding would cost more
            # CPU than it saves (measured: a third of the staging write for 1M lines).
            staged.write.mode("overwrite").option("parquet.enable.dictionary", "false").parquet(uri)
            return files
        except Exception as exc:
            bad = unreadable_file(exc, files)
            if bad is None:
                raise
            cause = str(exc).split("Caused by: ", 1)[-1].splitlines()[0][:300]
            result.skipped_files[bad.uri] = cause
            files.remove(bad)
    return files


def file_stats(staged: DataFrame) -> tuple[dict[str, FileStats], list[date]]:
    """Per source file: lines and accepted lines; and the UTC days of accepted lines.

    One pass over the staged rows. Also checks that line numbers run 1..lines per file.
    """
    accepted = F.col("reason").isNull()
    stats = staged.groupBy("source_file").agg(
        F.count(F.lit(1)).alias("lines"),
        F.count_if(accepted).alias("accepted"),
        F.min("source_line").alias("first"),
        F.max("source_line").alias("last"),
        F.collect_set(F.when(accepted, F.to_date("event_time"))).alias("days"),
    )
    out, days = {}, set()
    for row in stats.collect():
        if row.first != 1 or row.last != row.lines:
            raise RuntimeError(
                f"line numbering of {row.source_file} is not 1..{row.lines} "
                f"(got {row.first}..{row.last}): a file was split across partitions"
            )
        out[row.source_file] = FileStats(row.lines, row.accepted)
        days.update(row.days)
    return out, sorted(days)


def pending_files(spark: SparkSession, settings: Settings, source_uri: str) -> list[InputFile]:
    """Files under `source_uri` that the ledger does not list yet."""
    ledger = spark.table(settings.table(tables.INGESTED_FILES)).select("source_file")
    done = {row.source_file for row in ledger.collect()}
    return [f for f in list_input_files(spark, source_uri) if f.uri not in done]


def write_reports(
    spark: SparkSession, settings: Settings, days: list[date] | None
) -> dict[str, int]:
    """Recompute the four report tables for the ISO weeks containing `days` (None: all).

    Reports are computed from one snapshot of access_logs. If another run committed rows in
    the meantime, they are computed again, so the last writer always wrote from the latest
    rows (two overlapping runs cannot leave a stale report behind).
    """
    access_logs = settings.table(tables.ACCESS_LOGS)
    for _ in range(MAX_ATTEMPTS):
        snapshot = current_snapshot(spark, access_logs)
        if snapshot is None:
            return {}
        logs = spark.read.option("versionAsOf", snapshot).table(access_logs)
        written = _write_reports_from(spark, settings, _in_weeks_of(logs, days), days is None)
        if current_snapshot(spark, access_logs) == snapshot:
            return written
    raise RuntimeError(f"{access_logs} kept changing while reports were written; run again")


def _in_weeks_of(logs: DataFrame, days: list[date] | None) -> DataFrame:
    if days is None:
        return logs
    weeks = sorted({d - timedelta(days=d.weekday()) for d in days})
    low = datetime.combine(weeks[0], datetime.min.time(), UTC)
    high = datetime.combine(weeks[-1] + timedelta(days=7), datetime.min.time(), UTC)
    return logs.where(
        (F.col("event_time") >= F.lit(low))
        & (F.col("event_time") < F.lit(high))
        & reports.week_start(F.col("event_time")).isin(weeks)
    )


def _write_reports_from(
    spark: SparkSession, settings: Settings, logs: DataFrame, replace_all: bool
) -> dict[str, int]:
    # Four tables read the two aggregates: one scan of access_logs each, not four.
    counts = reports.DailyCounts.of(logs)
    cached = (counts.ips.cache(), counts.devices.cache())
    written = {}
    try:
        for name, frame in reports.build_reports(counts, settings.etl.top_n).items():
            target = settings.table(name)
            before = current_snapshot(spark, target)
            if replace_all:
                frame.writeTo(target).overwrite(F.lit(True))
            else:
                # Dynamic overwrite: replaces exactly the days / weeks present in `frame`.
                frame.writeTo(target).overwritePartitions()
            written[name] = added_records(spark, target, before)
    finally:
        for frame in cached:  # a long-lived session (tests, notebooks) would keep them
            frame.unpersist()
    return written


def _ledger_rows(
    spark: SparkSession, batch: list[InputFile], stats: dict[str, FileStats], result: EtlResult
) -> DataFrame:
    rows = []
    for f in batch:
        s = stats.get(f.uri, FileStats(0, 0))  # an empty file has no lines to count
        rows.append((f.uri, f.size_bytes, s.lines, s.accepted, s.rejected, result.run_id))
    frame = local_frame(
        spark,
        rows,
        "source_file string, size_bytes bigint, lines_read bigint, accepted bigint, "
        "rejected bigint, run_id string",
    )
    return frame.withColumn("ingested_at", F.lit(result.started_at))


def _ingest(
    spark: SparkSession, settings: Settings, batch: list[InputFile], stages: _Stages
) -> None:
    result = stages.result
    staging = f"{settings.storage.processed_uri}/staging/run_id={result.run_id}"
    batch = stages.run(Stage.PARSE, lambda: stage_readable(spark, settings, batch, result, staging))
    if not batch:
        return
    staged = spark.read.parquet(staging)
    accepted = staged.where(F.col("reason").isNull())

    def summarise() -> tuple[dict[str, FileStats], list[str]]:
        stats, result.days = file_stats(staged)
        agents = accepted.where(F.col("user_agent").isNotNull()).select("user_agent").distinct()
        return stats, [row.user_agent for row in agents.collect()]

    stats, user_agents = stages.run(Stage.SUMMARISE, summarise)
    result.lines_read = sum(s.lines for s in stats.values())
    result.accepted = sum(s.accepted for s in stats.values())
    result.rejected = result.lines_read - result.accepted
    devices = stages.run(
        Stage.CLASSIFY_USER_AGENTS, lambda: enrich.device_table(spark, user_agents)
    )

    access_logs = settings.table(tables.ACCESS_LOGS)
    rejected_lines = settings.table(tables.REJECTED_LINES)
    before = {t: current_snapshot(spark, t) for t in (access_logs, rejected_lines)}
    privacy.record_policy(spark, settings)
    if result.accepted:
        # The day range lets Iceberg prune the target when it looks for existing keys.
        low, high = min(result.days), max(result.days) + timedelta(days=1)
        on = (
            f"{SAME_LINE} AND t.event_time >= TIMESTAMP '{low} 00:00:00' "
            f"AND t.event_time < TIMESTAMP '{high} 00:00:00'"
        )
        rows = enrich_accepted(accepted, devices)
        stages.run(Stage.WRITE_ACCESS_LOGS, lambda: merge_new_rows(spark, access_logs, rows, on))
    if result.rejected:
        rejects = staged.where(F.col("reason").isNotNull()).select(
            "source_file", "source_line", "raw_line", "reason", "ingested_at"
        )
        stages.run(
            Stage.WRITE_REJECTED_LINES,
            lambda: merge_new_rows(spark, rejected_lines, rejects, SAME_LINE),
        )
    for table in (access_logs, rejected_lines):
        result.rows_written[table.rsplit(".", 1)[1]] = added_records(spark, table, before[table])
    if result.days:
        result.rows_written |= stages.run(
            Stage.WRITE_REPORTS, lambda: write_reports(spark, settings, result.days)
        )
    ledger = _ledger_rows(spark, batch, stats, result)
    stages.run(
        Stage.RECORD_INGESTED_FILES,
        lambda: merge_new_rows(
            spark,
            settings.table(tables.INGESTED_FILES),
            ledger,
            "t.source_file = s.source_file",
        ),
    )
    remove_path(spark, staging)


def _record_run(spark: SparkSession, settings: Settings, result: EtlResult) -> None:
    """Append the run to `etl_runs` (also for failed runs: the history must show them)."""
    row = (
        result.run_id,
        result.started_at,
        datetime.now(UTC),
        result.outcome,
        result.error,
        len(result.files),
        result.input_bytes,
        result.lines_read,
        result.accepted,
        result.rejected,
        result.rows_written,
    )
    frame = local_frame(
        spark,
        [row],
        "run_id string, started_at timestamp, finished_at timestamp, outcome string, "
        "error string, input_files int, input_bytes bigint, lines_read bigint, "
        "accepted bigint, rejected bigint, rows_written map<string,bigint>",
    )
    names = (tables.ACCESS_LOGS, tables.REJECTED_LINES, *tables.REPORT_TABLES)
    snapshots = {name: current_snapshot(spark, settings.table(name)) for name in names}
    frame = frame.withColumn(
        "snapshot_ids",
        F.create_map(*[x for k, v in snapshots.items() if v for x in (F.lit(k), F.lit(v))]),
    )
    frame.writeTo(settings.table(tables.ETL_RUNS)).append()


def new_run_id(now: datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:8]


def run_etl(
    settings: Settings,
    *,
    spark: SparkSession | None = None,
    source_uri: str | None = None,
    progress: Progress | None = None,
) -> EtlResult:
    """Ingest every file under `source_uri` (default: the input location) not yet ingested."""
    from spark.session import build_session

    # Full precision: runs started within one second must still order by start time.
    started_at = datetime.now(UTC)
    result = EtlResult(run_id=new_run_id(started_at), started_at=started_at)
    stages = _Stages(result, progress)
    spark = spark or stages.run(Stage.START_SPARK, lambda: build_session(settings))
    stages.run(Stage.CREATE_TABLES, lambda: tables.ensure_tables(spark, settings))
    source = source_uri or settings.storage.input_uri
    try:
        batch = stages.run(Stage.LIST_INPUT, lambda: pending_files(spark, settings, source))
        result.files = [f.uri for f in batch]
        result.input_bytes = sum(f.size_bytes for f in batch)
        if batch:
            _ingest(spark, settings, batch, stages)
        else:
            result.outcome = Outcome.NOTHING_TO_DO
        if result.skipped_files:
            result.outcome = Outcome.PARTIAL
            result.error = "unreadable files skipped: " + ", ".join(result.skipped_files)
    except Exception as exc:
        result.outcome = Outcome.FAILED
        result.error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        with contextlib.suppress(Exception):  # e.g. the catalog itself is down: keep the cause
            _record_run(spark, settings, result)
        raise
    _record_run(spark, settings, result)
    return result
