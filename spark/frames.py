"""Small DataFrames built from rows held by the driver (device table, ledger, run record)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.pandas.types import to_arrow_schema
from pyspark.sql.types import StructType


def local_frame(
    spark: SparkSession, rows: Sequence[tuple[Any, ...]], schema: StructType | str
) -> DataFrame:
    """`rows` as a DataFrame, shipped to the JVM as Arrow.

    `createDataFrame(list)` pickles the rows and needs a Python worker process to unpickle
    them: its start-up cost a few seconds per run, and on a cluster every executor would
    need it. Arrow is read by the JVM directly.
    """
    struct = schema if isinstance(schema, StructType) else StructType.fromDDL(schema)
    arrow_schema = to_arrow_schema(struct)
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in struct.fields]
    arrays = [pa.array(c, type=f.type) for c, f in zip(columns, arrow_schema, strict=True)]
    return spark.createDataFrame(pa.Table.from_arrays(arrays, schema=arrow_schema))
