"""The ETL run: new raw files, in bounded batches -> Iceberg tables -> aggregates -> reports
-> ledger.

Crash safety comes from three properties, not from bookkeeping:
- `access_logs`, `rejected_lines` and the per-day aggregates are written with insert-only
  MERGEs keyed by source line (aggregates: by source file and key), so re-processing a file
  never duplicates a row; being independent, they are written at once, and a crash leaves
  any subset of them committed, which the re-run completes;
- the ledger `ingested_files` is written last in each batch, so a file counts as done only
  after its rows, its aggregates and the reports it affects are committed;
- reports are recomputed from the aggregates for every ISO week a batch touches.
A run killed at any point and re-run therefore ends with the rows of one clean run; a run
killed mid-backlog resumes at the first batch whose ledger rows are missing.

Each stage below is a function of its inputs that returns its outputs; `run_etl` threads
them through and only it builds the run's record.
"""

from __future__ import annotations

import contextlib
import functools
import re
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from core.names import Outcome, Stage
from core.settings import EtlSettings, Settings
from spark import aggregates, enrich, privacy, reports, tables
from spark.commits import MAX_ATTEMPTS, added_records, current_snapshot, merge_new_rows
from spark.frames import local_frame
from spark.inputs import InputFile, list_input_files, read_raw
from spark.parse import ACCESS_FIELDS, parse_lines

Progress = Callable[[str], None]
_T = TypeVar("_T")
SAME_LINE = "t.source_file = s.source_file AND t.source_line = s.source_line"
# Tables written at once: independent tables, each its own idempotent commit, so one
# table's commit round trips overlap the others' Spark jobs. Measured in docs/benchmarks.md.
ROW_WRITERS = 6  # access_logs, rejected_lines and the four aggregates of a batch
REPORT_WRITERS = 4


@dataclass(frozen=True)
class FileStats:
    lines: int
    accepted: int

    @property
    def rejected(self) -> int:
        return self.lines - self.accepted


@dataclass(frozen=True)
class ParsedBatch:
    """One batch parsed once: its lines are cached and every later stage reads the cache."""

    files: list[InputFile]  # the readable ones
    lines: DataFrame  # stage_batch's shape, persisted
    stats: dict[str, FileStats]
    days: list[date]  # UTC days of accepted lines
    user_agents: list[str]
    skipped: dict[str, str]  # unreadable file -> cause

    @property
    def accepted(self) -> int:
        return sum(s.accepted for s in self.stats.values())

    @property
    def lines_read(self) -> int:
        return sum(s.lines for s in self.stats.values())


@dataclass
class EtlResult:
    run_id: str
    started_at: datetime
    outcome: str = Outcome.SUCCEEDED
    error: str | None = None
    files: list[str] = field(default_factory=list)
    input_bytes: int = 0
    # Totals of the batches committed so far (a failed run counts only those).
    lines_read: int = 0
    accepted: int = 0
    rejected: int = 0
    days: list[date] = field(default_factory=list)
    rows_written: dict[str, int] = field(default_factory=dict)
    # Unreadable files (e.g. truncated gzip): skipped, not in the ledger, retried next run.
    skipped_files: dict[str, str] = field(default_factory=dict)
    batches: int = 0
    stage_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return sum(self.stage_seconds.values())


class StageClock:
    """Shows each stage's name to the caller's progress display and sums its time."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.seconds: dict[str, float] = {}
        self.spark: SparkSession | None = None

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        if self.progress:
            self.progress(name)
        if self.spark is not None:
            # Names the stage's Spark jobs in the UI and event log (benchmarks/small_run.py).
            self.spark.sparkContext.setJobDescription(name)
        start = time.perf_counter()
        try:
            yield
        finally:
            spent = time.perf_counter() - start
            self.seconds[name] = round(self.seconds.get(name, 0.0) + spent, 3)


# --- input ------------------------------------------------------------------------------


def pending_files(spark: SparkSession, settings: Settings, source_uri: str) -> list[InputFile]:
    """Files under `source_uri` that the ledger does not list yet."""
    ledger = spark.table(settings.table(tables.INGESTED_FILES)).select("source_file")
    done = {row.source_file for row in ledger.collect()}
    return [f for f in list_input_files(spark, source_uri) if f.uri not in done]


def plan_batches(files: Sequence[InputFile], etl: EtlSettings) -> list[list[InputFile]]:
    """Consecutive runs of `files` (in listing order: oldest hour first) within the limits.

    A file larger than `max_bytes_per_batch` is a batch of its own: files are never split.
    """
    batches: list[list[InputFile]] = []
    current: list[InputFile] = []
    size = 0
    for f in files:
        full = len(current) >= etl.max_files_per_batch
        if current and (full or size + f.size_bytes > etl.max_bytes_per_batch):
            batches.append(current)
            current, size = [], 0
        current.append(f)
        size += f.size_bytes
    if current:
        batches.append(current)
    return batches


# --- parse -------------------------------------------------------------------------------


def stage_batch(raw: DataFrame, settings: Settings, ingested_at: datetime) -> DataFrame:
    """Parsed lines, accepted and rejected, in one shape (access fields + reject columns)."""
    window = settings.etl.event_time_window(ingested_at)
    parsed = parse_lines(raw, settings.etl.max_line_bytes, window, settings.etl.log_format)
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


def summarise(lines: DataFrame) -> tuple[dict[str, FileStats], list[date], list[str]]:
    """Per source file: lines and accepted lines; the UTC days and distinct User-Agents of
    accepted lines. One pass, which is also the one that parses and caches the batch.

    Also checks that line numbers run 1..lines per file.
    """
    accepted = F.col("reason").isNull()
    stats = lines.groupBy("source_file").agg(
        F.count(F.lit(1)).alias("lines"),
        F.count_if(accepted).alias("accepted"),
        F.min("source_line").alias("first"),
        F.max("source_line").alias("last"),
        F.collect_set(F.when(accepted, F.to_date("event_time"))).alias("days"),
        F.collect_set(F.when(accepted, F.col("user_agent"))).alias("user_agents"),
    )
    out: dict[str, FileStats] = {}
    days: set[date] = set()
    agents: set[str] = set()
    for row in stats.collect():
        if row.first != 1 or row.last != row.lines:
            raise RuntimeError(
                f"line numbering of {row.source_file} is not 1..{row.lines} "
                f"(got {row.first}..{row.last}): a file was split across partitions"
            )
        out[row.source_file] = FileStats(row.lines, row.accepted)
        days.update(row.days)
        agents.update(row.user_agents)
    return out, sorted(days), sorted(agents)


def parse_batch(
    spark: SparkSession, settings: Settings, batch: list[InputFile], ingested_at: datetime
) -> ParsedBatch:
    """Parse `batch` once into a cached frame, dropping files Spark cannot read.

    A corrupt file must not stop the others: it is reported, left out of the ledger (so the
    next run tries it again) and the batch is parsed again without it.
    """
    files, skipped = list(batch), {}
    while files:
        lines = stage_batch(read_raw(spark, files), settings, ingested_at)
        # Every later stage reads these rows; recomputing them from the gzip files would
        # parse them again per stage. Line numbers are deterministic (one file per
        # partition), so a block lost from the cache is recomputed identically.
        # Kept as Spark's columnar batches, as `DataFrame.cache()` keeps them: pyspark's
        # MEMORY_AND_DISK also serialises each batch, and every reader deserialises it again
        # (10M-line first load: parse 12 %, the whole run 8 % slower; docs/benchmarks.md).
        lines = lines.persist(StorageLevel.MEMORY_AND_DISK_DESER)
        try:
            stats, days, agents = summarise(lines)
            return ParsedBatch(files, lines, stats, days, agents, skipped)
        except Exception as exc:
            lines.unpersist()
            bad = unreadable_file(exc, files)
            if bad is None:
                raise
            skipped[bad.uri] = str(exc).split("Caused by: ", 1)[-1].splitlines()[0][:300]
            files.remove(bad)
    return ParsedBatch([], spark.range(0), {}, [], [], skipped)


# --- write -------------------------------------------------------------------------------


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


def _files_in(batch: ParsedBatch) -> str:
    """`t.source_file IN (...)`: Iceberg keeps per-file column bounds and each data file
    holds rows of one input file, so the MERGE reads only this batch's earlier rows (from a
    killed run), whatever the table's size."""
    quoted = ", ".join("'" + f.uri.replace("'", "''") + "'" for f in batch.files)
    return f"t.source_file IN ({quoted})"


def write_access_logs(
    spark: SparkSession, settings: Settings, batch: ParsedBatch, rows: DataFrame
) -> None:
    # The day range also lets Iceberg prune whole partitions.
    low, high = min(batch.days), max(batch.days) + timedelta(days=1)
    on = (
        f"{SAME_LINE} AND {_files_in(batch)} AND t.event_time >= TIMESTAMP '{low} 00:00:00' "
        f"AND t.event_time < TIMESTAMP '{high} 00:00:00'"
    )
    merge_new_rows(spark, settings.table(tables.ACCESS_LOGS), rows, on)


def write_rejected_lines(spark: SparkSession, settings: Settings, batch: ParsedBatch) -> None:
    rejects = batch.lines.where(F.col("reason").isNotNull()).select(
        "source_file", "source_line", "raw_line", "reason", "ingested_at"
    )
    on = f"{SAME_LINE} AND {_files_in(batch)}"
    merge_new_rows(spark, settings.table(tables.REJECTED_LINES), rejects, on)


def write_reports(
    spark: SparkSession, settings: Settings, days: list[date] | None
) -> dict[str, int]:
    """Recompute the report tables for the ISO weeks containing `days` from the per-day
    aggregates. `days=None` rebuilds everything: the aggregates from access_logs, then every
    report.

    Reports are computed from one snapshot of each aggregate. If another run committed
    aggregates in the meantime, they are computed again, so the last writer always wrote
    from the latest counts (two overlapping runs cannot leave a stale report behind).
    """
    if days is None:
        aggregates.ensure_aggregates(spark, settings)
        aggregates.rebuild(spark, settings)
    names = [settings.table(a.table) for a in aggregates.AGGREGATES]
    for _ in range(MAX_ATTEMPTS):
        snapshots = [current_snapshot(spark, name) for name in names]
        if None in snapshots:
            return {}
        written = _write_reports_at(spark, settings, snapshots, days)
        if [current_snapshot(spark, name) for name in names] == snapshots:
            return written
    raise RuntimeError(f"{', '.join(names)} kept changing while reports were written; run again")


def _write_reports_at(
    spark: SparkSession, settings: Settings, snapshots: list[int | None], days: list[date] | None
) -> dict[str, int]:
    low = high = None
    if days is not None:
        weeks = sorted({d - timedelta(days=d.weekday()) for d in days})
        low, high = weeks[0], weeks[-1] + timedelta(days=7)
    ips, agents, paths, referrers = (
        aggregates.daily_counts(spark, settings, aggregate, snapshot, low, high)
        for aggregate, snapshot in zip(aggregates.AGGREGATES, snapshots, strict=True)
        if snapshot is not None
    )
    # Several tables read each aggregate: read and merged once each.
    counts = reports.DailyCounts(ips.cache(), agents.cache(), paths.cache(), referrers.cache())

    def write(name: str, frame: DataFrame) -> int:
        target = settings.table(name)
        if days is not None:
            frame = reports.only_periods_of(frame, days)
        before = current_snapshot(spark, target)
        if days is None:
            frame.writeTo(target).overwrite(F.lit(True))
        else:
            # Dynamic overwrite: replaces exactly the days / weeks present in `frame`.
            frame.writeTo(target).overwritePartitions()
        return added_records(spark, target, before)

    try:
        built = reports.build_reports(counts, settings.etl.top_n, settings.reports.site_hosts)
        if days is not None and not reports.timed(settings.etl):
            # Lines without $request_time change no latency row: those tables stay as they are.
            built = {n: f for n, f in built.items() if n not in reports.LATENCY_TABLES}
        writes = {name: functools.partial(write, name, frame) for name, frame in built.items()}
        return write_tables(spark, writes, REPORT_WRITERS)
    finally:
        for frame in (ips, agents, paths, referrers):  # a long-lived session would keep them
            frame.unpersist()


def write_tables(
    spark: SparkSession, writes: dict[str, Callable[[], _T]], workers: int
) -> dict[str, _T]:
    """Run each table's write from a pool of `workers` threads (one Spark session).

    Only for writes that are independent and idempotent: a crash or a failure leaves some
    of them committed, and the re-run's writes add only what is missing. The first failure
    is raised once the writes in flight have finished.
    """
    description = spark.sparkContext.getLocalProperty("spark.job.description")

    def write(name: str) -> tuple[str, _T]:
        # Job descriptions are per thread: each writer names its table.
        spark.sparkContext.setJobDescription(f"{description}: {name}" if description else name)
        return name, writes[name]()

    with ThreadPoolExecutor(workers, thread_name_prefix="write") as pool:
        return dict(pool.map(write, writes))


def record_ingested_files(
    spark: SparkSession, settings: Settings, batch: ParsedBatch, run_id: str, at: datetime
) -> None:
    rows = []
    for f in batch.files:
        s = batch.stats.get(f.uri, FileStats(0, 0))  # an empty file has no lines to count
        rows.append((f.uri, f.size_bytes, s.lines, s.accepted, s.rejected, run_id))
    frame = local_frame(
        spark,
        rows,
        "source_file string, size_bytes bigint, lines_read bigint, accepted bigint, "
        "rejected bigint, run_id string",
    ).withColumn("ingested_at", F.lit(at))
    on = "t.source_file = s.source_file"
    merge_new_rows(spark, settings.table(tables.INGESTED_FILES), frame, on)


def record_run(spark: SparkSession, settings: Settings, result: EtlResult) -> None:
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


# --- the run -----------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchOutcome:
    parsed: ParsedBatch
    rows_written: dict[str, int]


def ingest_batch(
    spark: SparkSession,
    settings: Settings,
    files: list[InputFile],
    run_id: str,
    started_at: datetime,
    clock: StageClock,
) -> BatchOutcome:
    """One batch end to end: parse, classify, rows, aggregates, reports, then its ledger."""
    with clock.stage(Stage.PARSE):
        batch = parse_batch(spark, settings, files, started_at)
    if not batch.files:
        return BatchOutcome(batch, {})
    try:
        with clock.stage(Stage.CLASSIFY_USER_AGENTS):
            devices = enrich.device_table(spark, batch.user_agents)
        access_logs = settings.table(tables.ACCESS_LOGS)
        rejected_lines = settings.table(tables.REJECTED_LINES)
        before = {t: current_snapshot(spark, t) for t in (access_logs, rejected_lines)}
        privacy.record_policy(spark, settings)
        writes: dict[str, Callable[[], None]] = {}
        if batch.accepted:
            rows = enrich_accepted(batch.lines.where(F.col("reason").isNull()), devices)
            uris = [f.uri for f in batch.files]
            writes[tables.ACCESS_LOGS] = lambda: write_access_logs(spark, settings, batch, rows)
            for a in aggregates.AGGREGATES:
                writes[a.table] = functools.partial(
                    aggregates.write_batch, spark, settings, a, rows, uris
                )
        if batch.lines_read > batch.accepted:
            writes[tables.REJECTED_LINES] = lambda: write_rejected_lines(spark, settings, batch)
        with clock.stage(Stage.WRITE_ROWS):
            write_tables(spark, writes, ROW_WRITERS)
        written = {
            t.rsplit(".", 1)[1]: added_records(spark, t, before[t])
            for t in (access_logs, rejected_lines)
        }
        if batch.days:
            with clock.stage(Stage.WRITE_REPORTS):
                written |= write_reports(spark, settings, batch.days)
        with clock.stage(Stage.RECORD_INGESTED_FILES):
            record_ingested_files(spark, settings, batch, run_id, started_at)
    finally:
        batch.lines.unpersist()
    return BatchOutcome(batch, written)


def ensure_all_tables(spark: SparkSession, settings: Settings) -> None:
    """Create what is missing. One catalog listing when nothing is (every hourly run)."""
    namespace = f"{settings.catalog.name}.{settings.catalog.namespace}"
    with contextlib.suppress(Exception):  # no namespace yet: create everything below
        present = {row.tableName for row in spark.sql(f"SHOW TABLES IN {namespace}").collect()}
        wanted = {*tables.DDL, *(a.table for a in aggregates.AGGREGATES)}
        if wanted <= present:
            return
    tables.ensure_tables(spark, settings)
    aggregates.ensure_aggregates(spark, settings)


def new_run_id(now: datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:8]


def _sum_into(totals: dict[str, int], more: dict[str, int]) -> dict[str, int]:
    return {k: totals.get(k, 0) + more.get(k, 0) for k in {*totals, *more}}


def run_etl(
    settings: Settings,
    *,
    spark: SparkSession | None = None,
    source_uri: str | None = None,
    progress: Progress | None = None,
) -> EtlResult:
    """Ingest every file under `source_uri` (default: the input location) not yet ingested,
    in batches of at most `etl.max_files_per_batch` files / `etl.max_bytes_per_batch`."""
    from spark.session import build_session

    # Full precision: runs started within one second must still order by start time.
    started_at = datetime.now(UTC)
    result = EtlResult(run_id=new_run_id(started_at), started_at=started_at)
    clock = StageClock(progress)
    if spark is None:
        with clock.stage(Stage.START_SPARK):
            spark = build_session(settings)
    clock.spark = spark
    with clock.stage(Stage.CREATE_TABLES):
        ensure_all_tables(spark, settings)
    try:
        with clock.stage(Stage.LIST_INPUT):
            pending = pending_files(spark, settings, source_uri or settings.storage.input_uri)
        result.files = [f.uri for f in pending]
        result.input_bytes = sum(f.size_bytes for f in pending)
        batches = plan_batches(pending, settings.etl)
        for number, files in enumerate(batches, 1):
            if progress and len(batches) > 1:
                size = sum(f.size_bytes for f in files) / 1e6
                progress(f"batch {number} of {len(batches)} ({len(files)} files, {size:.1f} MB)")
            done = ingest_batch(spark, settings, files, result.run_id, started_at, clock)
            parsed = done.parsed
            result.batches = number
            result.skipped_files |= parsed.skipped
            result.lines_read += parsed.lines_read
            result.accepted += parsed.accepted
            result.rejected += parsed.lines_read - parsed.accepted
            result.days = sorted({*result.days, *parsed.days})
            result.rows_written = _sum_into(result.rows_written, done.rows_written)
        if not pending:
            result.outcome = Outcome.NOTHING_TO_DO
        if result.skipped_files:
            result.outcome = Outcome.PARTIAL
            result.error = "unreadable files skipped: " + ", ".join(result.skipped_files)
    except Exception as exc:
        result.outcome = Outcome.FAILED
        result.error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        result.stage_seconds = clock.seconds
        with contextlib.suppress(Exception):  # e.g. the catalog itself is down: keep the cause
            record_run(spark, settings, result)
        raise
    result.stage_seconds = clock.seconds
    record_run(spark, settings, result)
    return result
