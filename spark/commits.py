"""Idempotent Iceberg writes and snapshot bookkeeping."""

from __future__ import annotations

import uuid

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F


def merge_new_rows(spark: SparkSession, target: str, source: DataFrame, on: str) -> None:
    """Insert the rows of `source` whose key (`on`, SQL over t. and s.) is not in `target`.

    An insert-only MERGE is one atomic commit that never duplicates a key, so a re-run after
    a crash cannot double rows. When the target has no matching rows, Spark's adaptive
    execution drops the anti-join, and the MERGE costs what an append costs.
    """
    view = f"merge_source_{uuid.uuid4().hex}"
    source.createOrReplaceTempView(view)
    try:
        spark.sql(f"MERGE INTO {target} t USING {view} s ON {on} WHEN NOT MATCHED THEN INSERT *")
    finally:
        spark.catalog.dropTempView(view)


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
