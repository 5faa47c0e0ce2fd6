"""Idempotent Iceberg writes and snapshot bookkeeping."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from typing import Any

from pyspark.sql import DataFrame, SparkSession

# Iceberg's answers to a concurrent commit that touched the same data.
_CONFLICTS = ("ValidationException", "CommitFailedException", "Found conflicting files")
MAX_ATTEMPTS = 6


def is_commit_conflict(exc: Exception) -> bool:
    text = str(exc)
    return any(marker in text for marker in _CONFLICTS)


def merge_new_rows(spark: SparkSession, target: str, source: DataFrame, on: str) -> None:
    """Insert the rows of `source` whose key (`on`, SQL over t. and s.) is not in `target`.

    One atomic commit that never duplicates a key: a re-run after a crash cannot double
    rows. The `WHEN MATCHED AND false` clause is deliberate: without it Spark rewrites an
    insert-only MERGE into a plain append, which Iceberg commits without checking for
    concurrent writers, so two overlapping runs would both insert. With it, the MERGE is a
    row-level operation that Iceberg validates (serializable isolation); the loser of a race
    fails with a conflict and is retried here against the winner's rows.
    """
    view = f"merge_source_{uuid.uuid4().hex}"
    source.createOrReplaceTempView(view)
    statement = (
        f"MERGE INTO {target} t USING {view} s ON {on} "
        "WHEN MATCHED AND false THEN DELETE WHEN NOT MATCHED THEN INSERT *"
    )
    try:
        retry_on_conflict(lambda: spark.sql(statement))
    finally:
        spark.catalog.dropTempView(view)


def retry_on_conflict(action: Callable[[], object]) -> None:
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            action()
            return
        except Exception as exc:
            if attempt == MAX_ATTEMPTS or not is_commit_conflict(exc):
                raise
            time.sleep(random.uniform(0.2, 1.0) * attempt)


def iceberg_table(spark: SparkSession, table: str) -> Any:
    """The table's Iceberg Java object, refreshed (another run may have committed since)."""
    jvm = spark.sparkContext._jvm  # type: ignore[attr-defined]
    session = spark._jsparkSession  # type: ignore[attr-defined]
    loaded = jvm.org.apache.iceberg.spark.Spark3Util.loadIcebergTable(session, table)
    loaded.refresh()
    return loaded


# Snapshot bookkeeping reads table metadata through Iceberg's API: the `.snapshots`
# metadata table would cost a Spark job per question, a dozen per run.
def current_snapshot(spark: SparkSession, table: str) -> int | None:
    snapshot = iceberg_table(spark, table).currentSnapshot()
    return int(snapshot.snapshotId()) if snapshot is not None else None


def added_records(spark: SparkSession, table: str, since: int | None) -> int:
    """Rows added to `table` by the snapshots committed after snapshot `since`.

    Walks the current snapshot's ancestry back to `since`: the snapshots a reader of the
    table now sees, which is what a run's "rows written" must count.
    """
    loaded = iceberg_table(spark, table)
    snapshot, added = loaded.currentSnapshot(), 0
    while snapshot is not None and snapshot.snapshotId() != since:
        added += int(snapshot.summary().getOrDefault("added-records", "0"))
        parent = snapshot.parentId()
        snapshot = loaded.snapshot(parent) if parent is not None else None
    return added


def remove_path(spark: SparkSession, uri: str) -> None:
    """Delete a directory or prefix through Hadoop's FileSystem (local, S3A alike)."""
    jvm = spark.sparkContext._jvm  # type: ignore[attr-defined]
    conf = spark.sparkContext._jsc.hadoopConfiguration()  # type: ignore[attr-defined]
    path = jvm.org.apache.hadoop.fs.Path(uri)
    path.getFileSystem(conf).delete(path, True)
