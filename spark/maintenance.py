"""Table upkeep: expire old snapshots, compact small files, remove orphan files.

Run it while no ETL runs: removing orphan files younger than a running job's commit would
delete that job's freshly written data files. The default grace period (3 days, Iceberg's
own default) keeps it safe even if someone forgets; tests and operators who know nothing is
running pass a shorter one to clean up after a killed run right away.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pyspark.sql import SparkSession

from core.settings import Settings
from spark import tables
from spark.commits import iceberg_table, remove_path

ALL_TABLES = (
    tables.ACCESS_LOGS,
    tables.REJECTED_LINES,
    tables.INGESTED_FILES,
    tables.ETL_RUNS,
    *tables.REPORT_TABLES,
)


@dataclass
class MaintenanceResult:
    expired_snapshots: dict[str, int] = field(default_factory=dict)
    rewritten_files: dict[str, int] = field(default_factory=dict)
    orphan_files: dict[str, int] = field(default_factory=dict)
    staging_dirs_removed: int = 0


def _ts(moment: datetime) -> str:
    return f"TIMESTAMP '{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S}'"


def maintain(
    spark: SparkSession,
    settings: Settings,
    *,
    snapshot_age: timedelta = timedelta(days=7),
    retain_last: int = 10,
    orphan_grace: timedelta = timedelta(days=3),
    compact: bool = True,
) -> MaintenanceResult:
    tables.ensure_tables(spark, settings)
    result = MaintenanceResult()
    now = datetime.now(UTC)
    catalog, namespace = settings.catalog.name, settings.catalog.namespace
    for name in ALL_TABLES:
        ident = f"{namespace}.{name}"
        if compact:
            row = spark.sql(
                f"CALL {catalog}.system.rewrite_data_files(table => '{ident}', "
                "options => map('min-input-files', '2'))"
            ).first()
            result.rewritten_files[name] = int(row.rewritten_data_files_count) if row else 0
        row = spark.sql(
            f"CALL {catalog}.system.expire_snapshots(table => '{ident}', "
            f"older_than => {_ts(now - snapshot_age)}, retain_last => {retain_last})"
        ).first()
        result.expired_snapshots[name] = int(row.deleted_data_files_count) if row else 0
        result.orphan_files[name] = _delete_orphans(spark, f"{catalog}.{ident}", now - orphan_grace)
    result.staging_dirs_removed = _remove_stale_staging(spark, settings, now - orphan_grace)
    return result


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
