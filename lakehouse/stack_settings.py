"""Settings of the local replica of production (ports, data directory, bucket names)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Port = Annotated[int, Field(ge=1024, le=65535)]


class LocalStackSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Everything the stack's processes write lives here, so stop/start keeps the tables.
    data_dir: Path = Path("var/stack")
    host: str = "127.0.0.1"
    postgres_port: Port = 15432
    metastore_port: Port = 19083
    s3_port: Port = 19000
    spark_master_port: Port = 17077
    spark_master_ui_port: Port = 18080
    spark_worker_ui_port: Port = 18090  # worker i listens on this + i
    spark_history_port: Port = 18180
    workers: Annotated[int, Field(ge=1, le=8)] = 2
    worker_cores: Annotated[int, Field(ge=1)] = 1
    worker_memory: str = "2g"
    input_bucket: str = "lakehouse-input"
    processed_bucket: str = "lakehouse-processed"
    warehouse_bucket: str = "lakehouse-warehouse"
    # S3Proxy's credentials: local only, never used against AWS.
    s3_access_key: str = "local-access-key"
    s3_secret_key: str = "local-secret-key"
    metastore_db: str = "metastore"
    metastore_db_user: str = "hive"
    metastore_db_password: str = "hive-local-only"
