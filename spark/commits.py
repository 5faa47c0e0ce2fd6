"""Idempotent Iceberg writes and snapshot bookkeeping."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

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


def current_snapshot(spark: SparkSession, table: str) -> int | None:
    row = spark.sql(
        f"SELECT snapshot_id FROM {table}.snapshots ORDER BY committed_at DESC LIMIT 1"
    ).first()
    return row.snapshot_id if row else None


def added_records(spark: SparkSession, table: str, since: int | None) -> int:
    """Rows added to `table` by the snapshots committed after snapshot `since`."""
    snapshots = spark.table(f"{table}.snapshots")
    if since is not None:
        (since_at,) = snapshots.where(F.col("snapshot_id") == since).select("committed_at").first()
        snapshots = snapshots.where(F.col("committed_at") > since_at)
    added = snapshots.select(F.sum(F.col("summary")["added-records"].cast("bigint"))).first()
    return int(added[0] or 0) if added else 0


def remove_path(spark: SparkSession, uri: str) -> None:
    """Delete a directory or prefix through Hadoop's FileSystem (local, S3A alike)."""
    jvm = spark.sparkContext._jvm  # type: ignore[attr-defined]
    conf = spark.sparkContext._jsc.hadoopConfiguration()  # type: ignore[attr-defined]
    path = jvm.org.apache.hadoop.fs.Path(uri)
    path.getFileSystem(conf).delete(path, True)
