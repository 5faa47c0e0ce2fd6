"""The ETL run: new raw files -> staged Parquet -> Iceberg tables -> reports.

Crash safety comes from three properties, not from bookkeeping:
- `access_logs` and `rejected_lines` are written with insert-only MERGE keyed by
  (source_file, source_line), so re-processing a file never duplicates a row;
- the ledger `ingested_files` is written last, so a file counts as done only after its
  rows and the reports it affects are committed;
- reports are recomputed from `access_logs` for every week a batch touches.
A run killed at any point and re-run therefore ends with the rows of one clean run.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakehouse.settings import Settings
from spark import enrich, reports, tables
from spark.inputs import InputFile, list_input_files, read_raw
from spark.parse import ACCESS_FIELDS, parse_lines

Progress = Callable[[str], None]


@dataclass
class EtlResult:
    run_id: str
    files: list[str] = field(default_factory=list)
    input_bytes: int = 0
    lines_read: int = 0
    accepted: int = 0
    rejected: int = 0
    days: list[date] = field(default_factory=list)
    rows_written: dict[str, int] = field(default_factory=dict)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    outcome: str = "succeeded"

    @property
    def seconds(self) -> float:
        return sum(self.stage_seconds.values())


class _Stages:
    """Times each stage and reports its name to the caller's progress display."""

    def __init__(self, result: EtlResult, progress: Progress | None) -> None:
        self.result, self.progress = result, progress

    def run(self, name: str, fn: Callable[[], object]) -> object:
        if self.progress:
            self.progress(name)
        start = time.perf_counter()
        value = fn()
        self.result.stage_seconds[name] = round(time.perf_counter() - start, 3)
        return value


def _staging_uri(settings: Settings, run_id: str) -> str:
    return f"{settings.storage.processed_uri}/staging/run_id={run_id}"


def stage_batch(raw: DataFrame, settings: Settings, ingested_at: datetime) -> DataFrame:
    """Parsed rows, accepted and rejected, in the shape the staging Parquet stores."""
    parsed = parse_lines(raw, settings.etl.max_line_bytes)
    keep = settings.etl.rejected_line_keep_chars
    return parsed.select(
        *ACCESS_FIELDS,
        "source_file",
        "source_line",
        F.col("reject_reason").alias("reason"),
        F.when(
            F.col("reject_reason").isNotNull(), F.left(F.make_valid_utf8("value"), F.lit(keep))
        ).alias("raw_line"),
        F.lit(ingested_at).alias("ingested_at"),
    )


def _merge_insert_only(spark: SparkSession, target: str, source: DataFrame, extra_on: str) -> None:
    view = f"batch_{uuid.uuid4().hex}"
    source.createOrReplaceTempView(view)
    spark.sql(
        f"MERGE INTO {target} t USING {view} s "
        f"ON t.source_file = s.source_file AND t.source_line = s.source_line {extra_on} "
        "WHEN NOT MATCHED THEN INSERT *"
    )
    spark.catalog.dropTempView(view)


def _current_snapshot(spark: SparkSession, table: str) -> int | None:
    row = spark.sql(
        f"SELECT snapshot_id FROM {table}.snapshots ORDER BY committed_at DESC LIMIT 1"
    ).first()
    return row.snapshot_id if row else None


def _added_records(spark: SparkSession, table: str, since: int | None) -> int:
    """Rows added to `table` by snapshots committed after snapshot `since`."""
    condition = (
        ""
        if since is None
        else f"WHERE committed_at > (SELECT committed_at FROM {table}.snapshots WHERE snapshot_id = {since})"
    )
    row = spark.sql(
        f"SELECT sum(cast(summary['added-records'] AS BIGINT)) AS n FROM {table}.snapshots {condition}"
    ).first()
    return int(row.n or 0) if row else 0


def write_reports(
    spark: SparkSession, settings: Settings, days: list[date] | None
) -> dict[str, int]:
    """Recompute the four report tables for the weeks containing `days` (None = all weeks)."""
    logs = spark.table(settings.table(tables.ACCESS_LOGS))
    if days is not None:
        weeks = sorted({d - timedelta(days=d.weekday()) for d in days})
        if not weeks:
            return {}
        low = datetime.combine(weeks[0], datetime.min.time(), UTC)
        high = datetime.combine(weeks[-1] + timedelta(days=7), datetime.min.time(), UTC)
        logs = logs.where(
            (F.col("event_time") >= F.lit(low))
            & (F.col("event_time") < F.lit(high))
            & reports.week_start(F.col("event_time")).isin(weeks)
        )
    written = {}
    for name, frame in reports.build_reports(logs, settings.etl.top_n).items():
        target = settings.table(name)
        if days is None:
            frame.writeTo(target).overwrite(F.lit(True))
        else:
            frame.writeTo(target).overwritePartitions()
        written[name] = frame.count()
    return written


def _file_stats(staged: DataFrame) -> dict[str, tuple[int, int, int]]:
    """source_file -> (lines, accepted, rejected); checks line numbers are 1..lines."""
    stats = staged.groupBy("source_file").agg(
        F.count(F.lit(1)).alias("lines"),
        F.count_if(F.col("reason").isNull()).alias("accepted"),
        F.min("source_line").alias("first"),
        F.max("source_line").alias("last"),
    )
    out = {}
    for row in stats.collect():
        if row.first != 1 or row.last != row.lines:
            raise RuntimeError(
                f"line numbering of {row.source_file} is not 1..{row.lines} "
                f"(got {row.first}..{row.last}): a file was split across partitions"
            )
        out[row.source_file] = (row.lines, row.accepted, row.lines - row.accepted)
    return out


def _ledger_rows(
    spark: SparkSession,
    files: list[InputFile],
    stats: dict[str, tuple[int, int, int]],
    run_id: str,
    ingested_at: datetime,
) -> DataFrame:
    rows = []
    for f in files:
        lines, accepted, rejected = stats.get(f.uri, (0, 0, 0))
        rows.append((f.uri, f.size_bytes, lines, accepted, rejected, run_id, ingested_at))
    return spark.createDataFrame(
        rows,
        "source_file string, size_bytes bigint, lines_read bigint, accepted bigint, "
        "rejected bigint, run_id string, ingested_at timestamp",
    )


def pending_files(spark: SparkSession, settings: Settings, source_uri: str) -> list[InputFile]:
    done = {
        r.source_file
        for r in spark.table(settings.table(tables.INGESTED_FILES)).select("source_file").collect()
    }
    return [f for f in list_input_files(spark, source_uri) if f.uri not in done]


def run_etl(
    settings: Settings,
    *,
    spark: SparkSession | None = None,
    source_uri: str | None = None,
    progress: Progress | None = None,
) -> EtlResult:
    """Ingest every file under `source_uri` (default: the input location) not yet ingested."""
    from spark.session import build_session

    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:8]
    result = EtlResult(run_id=run_id)
    stages = _Stages(result, progress)
    spark = spark or stages.run("start Spark", lambda: build_session(settings))
    stages.run("create tables", lambda: tables.ensure_tables(spark, settings))
    batch: list[InputFile] = stages.run(  # type: ignore[assignment]
        "list input",
        lambda: pending_files(spark, settings, source_uri or settings.storage.input_uri),
    )
    result.files = [f.uri for f in batch]
    result.input_bytes = sum(f.size_bytes for f in batch)
    if not batch:
        result.outcome = "nothing-to-do"
        return result

    ingested_at = datetime.now(UTC).replace(microsecond=0)
    staging = _staging_uri(settings, run_id)
    stages.run(
        "parse",
        lambda: (
            stage_batch(read_raw(spark, batch), settings, ingested_at)
            .write.mode("overwrite")
            .parquet(staging)
        ),
    )
    staged = spark.read.parquet(staging)
    accepted = staged.where(F.col("reason").isNull())

    def summarise() -> tuple[list[str], dict[str, tuple[int, int, int]]]:
        stats = _file_stats(staged)
        result.lines_read = sum(s[0] for s in stats.values())
        result.accepted = sum(s[1] for s in stats.values())
        result.rejected = sum(s[2] for s in stats.values())
        days = accepted.select(F.to_date("event_time").alias("d")).distinct().collect()
        result.days = sorted(r.d for r in days)
        user_agents = accepted.where(F.col("user_agent").isNotNull())
        distinct = user_agents.select("user_agent").distinct().collect()
        return [r.user_agent for r in distinct], stats

    user_agents, stats = stages.run("summarise", summarise)  # type: ignore[misc]
    devices = stages.run("classify user agents", lambda: enrich.device_table(spark, user_agents))

    access_logs = settings.table(tables.ACCESS_LOGS)
    rejected_lines = settings.table(tables.REJECTED_LINES)
    before = {t: _current_snapshot(spark, t) for t in (access_logs, rejected_lines)}

    def write_access_logs() -> None:
        enriched = accepted.join(F.broadcast(devices), "user_agent", "left").select(
            *ACCESS_FIELDS[:-1],
            "user_agent",
            F.coalesce("device_type", F.lit(enrich.UNKNOWN.device_type)).alias("device_type"),
            F.coalesce("device", F.lit(enrich.UNKNOWN.device)).alias("device"),
            "os",
            "browser",
            "source_file",
            "source_line",
            "ingested_at",
        )
        low = min(result.days)
        day_range = (
            f"AND t.event_time >= TIMESTAMP '{low.isoformat()} 00:00:00' "
            f"AND t.event_time < TIMESTAMP '{(max(result.days) + timedelta(days=1)).isoformat()} 00:00:00'"
        )
        _merge_insert_only(spark, access_logs, enriched, day_range)

    if result.accepted:
        stages.run("write access_logs", write_access_logs)
    if result.rejected:
        stages.run(
            "write rejected_lines",
            lambda: _merge_insert_only(
                spark,
                rejected_lines,
                staged.where(F.col("reason").isNotNull()).select(
                    "source_file", "source_line", "raw_line", "reason", "ingested_at"
                ),
                "",
            ),
        )
    result.rows_written = {
        tables.ACCESS_LOGS: _added_records(spark, access_logs, before[access_logs]),
        tables.REJECTED_LINES: _added_records(spark, rejected_lines, before[rejected_lines]),
    }
    report_rows = stages.run("write reports", lambda: write_reports(spark, settings, result.days))
    result.rows_written |= report_rows  # type: ignore[arg-type]
    stages.run(
        "record ingested files",
        lambda: _merge_ledger(
            spark, settings, _ledger_rows(spark, batch, stats, run_id, ingested_at)
        ),
    )
    _remove_staging(spark, staging)
    return result


def _merge_ledger(spark: SparkSession, settings: Settings, rows: DataFrame) -> None:
    view = f"ledger_{uuid.uuid4().hex}"
    rows.createOrReplaceTempView(view)
    spark.sql(
        f"MERGE INTO {settings.table(tables.INGESTED_FILES)} t USING {view} s "
        "ON t.source_file = s.source_file WHEN NOT MATCHED THEN INSERT *"
    )
    spark.catalog.dropTempView(view)


def _remove_staging(spark: SparkSession, uri: str) -> None:
    jvm = spark.sparkContext._jvm  # type: ignore[attr-defined]
    path = jvm.org.apache.hadoop.fs.Path(uri)
    path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()).delete(path, True)  # type: ignore[attr-defined]
