"""Finding and reading raw log files through Hadoop's FileSystem (local dir, S3, S3A alike)."""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from core.errors import InputError

# monotonically_increasing_id() = partition id << 33 | row index within the partition.
# With one file per partition (core.properties.ONE_FILE_PER_PARTITION) the low 33 bits
# are the 0-based line number within the file.
_ROW_INDEX_MASK = (1 << 33) - 1


@dataclass(frozen=True)
class InputFile:
    uri: str
    size_bytes: int
    modified_ms: int


def _is_hidden(name: str) -> bool:
    # Same convention as Hadoop/Spark: _SUCCESS, .crc, editors' temp files.
    return name.startswith((".", "_"))


def list_input_files(spark: SparkSession, uri: str) -> list[InputFile]:
    """Every non-hidden file under `uri` (recursively), sorted by URI."""
    jvm = spark.sparkContext._jvm  # type: ignore[attr-defined]
    hadoop_conf = spark.sparkContext._jsc.hadoopConfiguration()  # type: ignore[attr-defined]
    root = jvm.org.apache.hadoop.fs.Path(uri)
    fs = root.getFileSystem(hadoop_conf)
    if not fs.exists(root):
        raise InputError(f"input location {uri} does not exist (generate logs or check the path)")
    found = []
    files = fs.listFiles(root, True)
    while files.hasNext():
        status = files.next()
        path = status.getPath()
        if _is_hidden(path.getName()):
            continue
        found.append(InputFile(path.toString(), status.getLen(), status.getModificationTime()))
    return sorted(found, key=lambda f: f.uri)


def source_line() -> Column:
    return (F.monotonically_increasing_id().bitwiseAND(F.lit(_ROW_INDEX_MASK)) + 1).alias(
        "source_line"
    )


def read_raw(spark: SparkSession, files: list[InputFile]) -> DataFrame:
    """(value, source_file, source_line) for every line of `files` (.gz decompressed)."""
    return spark.read.text([f.uri for f in files]).select(
        "value", F.col("_metadata.file_path").alias("source_file"), source_line()
    )
