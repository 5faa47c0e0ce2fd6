"""The three runtimes as settings: the only place that knows what each one looks like."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from core.properties import CLUSTER_DRIVER_JIT
from core.settings import (
    METASTORE_PORT,
    SPARK_MASTER_PORT,
    CatalogKind,
    CatalogSettings,
    EtlSettings,
    LocalStackSettings,
    ReportSettings,
    RetentionSettings,
    Runtime,
    S3Settings,
    Settings,
    SparkSettings,
    StorageSettings,
)

# Spark otherwise binds the driver to this machine's non-loopback address (docs/decisions/0005).
LOOPBACK = "127.0.0.1"


def embedded(root: Path) -> Settings:
    """Laptop default: warehouse in a local directory, Iceberg catalog in a SQLite file."""
    root = root.resolve()
    return Settings(
        runtime=Runtime.EMBEDDED,
        storage=StorageSettings(
            input_uri=f"file://{root}/input",
            warehouse_uri=f"file://{root}/warehouse",
            processed_uri=f"file://{root}/processed",
        ),
        catalog=CatalogSettings(kind=CatalogKind.SQLITE, uri=str(root / "catalog.db")),
        spark=SparkSettings(
            master="local[*]", event_log_dir=f"file://{root}/processed/spark-events"
        ),
    )


def local_stack(stack: LocalStackSettings) -> Settings:
    """The local replica of production: S3Proxy, Hive Metastore, Spark standalone on loopback."""
    host = stack.host
    return Settings(
        runtime=Runtime.LOCAL,
        storage=StorageSettings(
            input_uri=f"s3://{stack.input_bucket}",
            warehouse_uri=f"s3://{stack.warehouse_bucket}/warehouse",
            processed_uri=f"s3://{stack.processed_bucket}",
            s3=S3Settings(
                endpoint=f"http://{host}:{stack.s3_port}",
                region="us-east-1",
                path_style=True,
                access_key=SecretStr(stack.s3_access_key),
                secret_key=SecretStr(stack.s3_secret_key),
            ),
        ),
        catalog=CatalogSettings(
            kind=CatalogKind.HIVE, uri=f"thrift://{host}:{stack.metastore_port}"
        ),
        spark=SparkSettings(
            master=f"spark://{host}:{stack.spark_master_port}",
            driver_host=host,
            executor_memory=stack.worker_memory,
            executor_cores=stack.worker_cores,
            # S3A to S3Proxy would work too; a local dir keeps the History Server simple.
            event_log_dir=f"file://{(stack.data_dir / 'spark-events').resolve()}",
            # The driver leaves the rows to the executors: the quick JIT only.
            conf={"spark.driver.extraJavaOptions": CLUSTER_DRIVER_JIT},
        ),
        etl=stack.etl,
        retention=stack.retention,
        reports=stack.reports,
    )


def aws(
    *,
    input_bucket: str,
    warehouse_bucket: str,
    processed_bucket: str,
    region: str,
    metastore_host: str,
    spark_master_host: str,
    executor_memory: str = "2g",
    executor_cores: int = 2,
    etl: EtlSettings | None = None,
    retention: RetentionSettings | None = None,
    reports: ReportSettings | None = None,
) -> Settings:
    """EKS: S3 buckets, the metastore Service, the Spark master Service; IRSA credentials."""
    return Settings(
        runtime=Runtime.AWS,
        storage=StorageSettings(
            input_uri=f"s3://{input_bucket}",
            warehouse_uri=f"s3://{warehouse_bucket}/warehouse",
            processed_uri=f"s3://{processed_bucket}",
            s3=S3Settings(region=region),
        ),
        catalog=CatalogSettings(
            kind=CatalogKind.HIVE, uri=f"thrift://{metastore_host}:{METASTORE_PORT}"
        ),
        spark=SparkSettings(
            master=f"spark://{spark_master_host}:{SPARK_MASTER_PORT}",
            # Client mode: the driver runs in the job pod; executors reach it by pod IP.
            executor_memory=executor_memory,
            executor_cores=executor_cores,
            event_log_dir=f"s3a://{processed_bucket}/spark-events",
            # The driver leaves the rows to the executors: the quick JIT only.
            conf={"spark.driver.extraJavaOptions": CLUSTER_DRIVER_JIT},
        ),
        etl=etl or EtlSettings(),
        retention=retention or RetentionSettings(),
        reports=reports or ReportSettings(),
    )
