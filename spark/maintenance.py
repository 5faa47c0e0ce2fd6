"""Table upkeep: retention, IP rewrites, expire old snapshots, compact, remove orphan files.

Run it while no ETL runs: removing orphan files younger than a running job's commit would
delete that job's freshly written data files. The default grace period (3 days, Iceberg's
own default) keeps it safe even if someone forgets; tests and operators who know nothing is
running pass a shorter one to clean up after a killed run right away.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from core.settings import ClientIpPolicy, RetentionSettings, Settings
from spark import aggregates, privacy, tables
from spark.commits import current_snapshot, iceberg_table, remove_path

ALL_TABLES = (
    tables.ACCESS_LOGS,
    tables.REJECTED_LINES,
    tables.INGESTED_FILES,
    tables.ETL_RUNS,
    *tables.REPORT_TABLES,
    *(a.table for a in aggregates.AGGREGATES),
)


@dataclass
class MaintenanceResult:
    expired_snapshots: dict[str, int] = field(default_factory=dict)
    rewritten_files: dict[str, int] = field(default_factory=dict)
    orphan_files: dict[str, int] = field(default_factory=dict)
    staging_dirs_removed: int = 0
    # Rows deleted by the retention settings, per table.
    expired_rows: dict[str, int] = field(default_factory=dict)
    # Rows rewritten under the current client-IP policy (--rewrite-ips), per table.
    rewritten_rows: dict[str, int] = field(default_factory=dict)


def _ts(moment: datetime) -> str:
    # Microseconds: with a zero snapshot age, a snapshot of this same second must expire too.
    return f"TIMESTAMP '{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S.%f}'"


def maintain(
    spark: SparkSession,
    settings: Settings,
    *,
    snapshot_age: timedelta = timedelta(days=7),
    retain_last: int = 10,
    orphan_grace: timedelta = timedelta(days=3),
    compact: bool = True,
    rewrite_ips: bool = False,
) -> MaintenanceResult:
    """Retention and IP rewrites first, so that compaction and expiry remove what they drop.

    Tables that lost rows to retention or a rewrite keep only snapshots younger than
    `snapshot_age` (not also the `retain_last` newest): a quiet table would otherwise keep
    the snapshot before the delete, and its data files, for as long as it stays quiet.
    """
    tables.ensure_tables(spark, settings)
    aggregates.ensure_aggregates(spark, settings)
    result = MaintenanceResult()
    now = datetime.now(UTC)
    if rewrite_ips:
        result.rewritten_rows = rewrite_client_ips(spark, settings)
    result.expired_rows = apply_retention(spark, settings, now.date())
    bounded = set(result.rewritten_rows) | set(result.expired_rows)
    catalog, namespace = settings.catalog.name, settings.catalog.namespace
    for name in ALL_TABLES:
        ident = f"{namespace}.{name}"
        if compact:
            row = spark.sql(
                f"CALL {catalog}.system.rewrite_data_files(table => '{ident}', "
                "options => map('min-input-files', '2'))"
            ).first()
            result.rewritten_files[name] = int(row.rewritten_data_files_count) if row else 0
        if name in bounded:
            # The snapshot that deleted rows still lists the removed files, with their column
            # bounds (addresses among them), in its manifests: rewritten manifests list only
            # live files, and expiry then deletes the old ones.
            spark.sql(f"CALL {catalog}.system.rewrite_manifests(table => '{ident}')")
        row = spark.sql(
            f"CALL {catalog}.system.expire_snapshots(table => '{ident}', "
            # Measured now, not at the start: the deletes above are older than this.
            f"older_than => {_ts(datetime.now(UTC) - snapshot_age)}, "
            f"retain_last => {1 if name in bounded else retain_last})"
        ).first()
        result.expired_snapshots[name] = int(row.deleted_data_files_count) if row else 0
        result.orphan_files[name] = _delete_orphans(spark, f"{catalog}.{ident}", now - orphan_grace)
    result.staging_dirs_removed = _remove_stale_staging(spark, settings, now - orphan_grace)
    return result


def retention_predicates(retention: RetentionSettings, today: date) -> dict[str, str]:
    """Per table, the SQL predicate of the rows retention deletes `today` (UTC).

    Cut-offs are UTC midnights, so on access_logs (partitioned by days(event_time)) and the
    reports (by day / week_start) the predicate selects whole partitions: Iceberg then drops
    the files from the metadata without reading or rewriting any of them.
    """
    found = {}
    if retention.access_logs_days:
        cutoff = today - timedelta(days=retention.access_logs_days)
        found[tables.ACCESS_LOGS] = f"event_time < TIMESTAMP '{cutoff} 00:00:00'"
        # The per-day aggregates hold client IPs too: they live as long as the rows.
        for aggregate in aggregates.AGGREGATES:
            found[aggregate.table] = f"day < DATE '{cutoff}'"
    if retention.rejected_lines_days:
        # Unpartitioned and small: copy-on-write rewrites the files that hold old lines.
        cutoff = today - timedelta(days=retention.rejected_lines_days)
        found[tables.REJECTED_LINES] = f"ingested_at < TIMESTAMP '{cutoff} 00:00:00'"
    if retention.reports_days:
        cutoff = today - timedelta(days=retention.reports_days)
        for name in tables.REPORT_TABLES:
            if name.startswith("daily_"):
                found[name] = f"day < DATE '{cutoff}'"
            else:  # a week goes once it has ended (Sunday) before the cut-off
                found[name] = f"week_start < DATE '{cutoff - timedelta(days=6)}'"
    return found


def apply_retention(spark: SparkSession, settings: Settings, today: date) -> dict[str, int]:
    """Delete rows older than the retention settings; rows deleted per table."""
    deleted = {}
    for name, predicate in retention_predicates(settings.retention, today).items():
        table = settings.table(name)
        before = current_snapshot(spark, table)
        if before is None:
            continue
        spark.sql(f"DELETE FROM {table} WHERE {predicate}")
        deleted[name] = _deleted_records(spark, table, before)
    return deleted


def _deleted_records(spark: SparkSession, table: str, since: int) -> int:
    loaded = iceberg_table(spark, table)
    snapshot, deleted = loaded.currentSnapshot(), 0
    while snapshot is not None and snapshot.snapshotId() != since:
        deleted += int(snapshot.summary().getOrDefault("deleted-records", "0"))
        parent = snapshot.parentId()
        snapshot = loaded.snapshot(parent) if parent is not None else None
    return deleted


# Every table that holds a client address, a user name or a query string.
_PERSONAL_TABLES = (
    tables.ACCESS_LOGS,
    tables.REJECTED_LINES,
    tables.DAILY_TOP_IPS,
    tables.WEEKLY_TOP_IPS,
)


def rewrite_client_ips(spark: SparkSession, settings: Settings) -> dict[str, int]:
    """Rewrite every row under the current policy (after a switch from `keep`, say).

    Each table is overwritten in one commit from its own rows, anonymised; the old data
    files leave the table at the next snapshot expiry. Rewriting twice changes nothing
    (truncated addresses and hash tokens map to themselves). Reports are then recomputed
    for the days still in access_logs, since truncation can merge two top IPs into one.
    """
    from spark.job import write_reports  # the ETL's own report step

    key = privacy.hash_key() if settings.etl.client_ip == ClientIpPolicy.HASH else None
    rewritten = {}
    for name in _PERSONAL_TABLES:
        table = settings.table(name)
        rows = spark.table(table)
        anonymised = privacy.anonymise(rows, settings.etl, key)
        if anonymised is rows or current_snapshot(spark, table) is None:
            continue  # `keep` without query parameters: nothing to rewrite
        anonymised.select(*rows.columns).writeTo(table).overwrite(F.lit(True))
        rewritten[name] = spark.table(table).count()
    days = spark.table(settings.table(tables.ACCESS_LOGS)).select(F.to_date("event_time"))
    present = [row[0] for row in days.distinct().collect()]
    if rewritten:
        # daily_ip_counts holds addresses too: rebuilt from the rewritten rows, and counted
        # as rewritten so that maintain expires its old files like the others'.
        aggregates.rebuild(spark, settings)
        for aggregate in aggregates.AGGREGATES:
            rewritten[aggregate.table] = spark.table(settings.table(aggregate.table)).count()
    if rewritten and present:
        write_reports(spark, settings, present)
    privacy.record_policy(spark, settings, rewritten=True)
    return rewritten


def _delete_orphans(spark: SparkSession, table: str, older_than: datetime) -> int:
    """Iceberg's DeleteOrphanFiles action (the SQL procedure refuses a grace under 24 h)."""
    jvm = spark.sparkContext._jvm  # type: ignore[attr-defined]
    session = spark._jsparkSession  # type: ignore[attr-defined]
    action = jvm.org.apache.iceberg.spark.actions.SparkActions.get(session)
    millis = int(older_than.timestamp() * 1000)
    result = action.deleteOrphanFiles(iceberg_table(spark, table)).olderThan(millis).execute()
    return sum(1 for _ in result.orphanFileLocations())


def _remove_stale_staging(spark: SparkSession, settings: Settings, before: datetime) -> int:
    """Staging directories left by killed runs (a finished run removes its own)."""
    jvm = spark.sparkContext._jvm  # type: ignore[attr-defined]
    conf = spark.sparkContext._jsc.hadoopConfiguration()  # type: ignore[attr-defined]
    root = jvm.org.apache.hadoop.fs.Path(f"{settings.storage.processed_uri}/staging")
    fs = root.getFileSystem(conf)
    if not fs.exists(root):
        return 0
    removed = 0
    for status in fs.listStatus(root):
        if status.getModificationTime() < before.timestamp() * 1000:
            remove_path(spark, status.getPath().toString())
            removed += 1
    return removed
