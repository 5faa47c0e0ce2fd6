"""Schema evolution: an access_logs created before the log_format columns gains them in place."""

from __future__ import annotations

from typing import Any

import pytest

from core.names import Table
from readers.reading import catalog
from spark.tables import ensure_tables

pytestmark = pytest.mark.spark

# access_logs as the first release created it (the `combined` columns only), by hand.
OLD_ACCESS_LOGS = """
    event_time TIMESTAMP NOT NULL, client_ip STRING NOT NULL, remote_user STRING,
    method STRING, path STRING, protocol STRING, status INT NOT NULL, body_bytes BIGINT NOT NULL,
    referrer STRING, user_agent STRING, device_type STRING NOT NULL, device STRING NOT NULL,
    os STRING, browser STRING, source_file STRING NOT NULL, source_line BIGINT NOT NULL,
    ingested_at TIMESTAMP NOT NULL
"""
NEW_COLUMNS = {
    "host": "string",
    "server_name": "string",
    "remote_port": "int",
    "forwarded_for": "string",
    "request_id": "string",
    "scheme": "string",
    "ssl_protocol": "string",
    "ssl_cipher": "string",
    "request_length": "long",
    "bytes_sent": "long",
    "request_time": "decimal(10, 3)",
    "upstream_addr": "string",
    "upstream_status": "string",
    "upstream_connect_time": "decimal(10, 3)",
    "upstream_header_time": "decimal(10, 3)",
    "upstream_response_time": "decimal(10, 3)",
    "extra": "map<string, string>",
}


def test_an_old_access_logs_gains_the_new_columns_and_keeps_its_rows(
    spark: Any, warehouse: Any
) -> None:
    table = warehouse.table(Table.ACCESS_LOGS)
    spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {warehouse.catalog.name}.logs")
    spark.sql(
        f"CREATE TABLE {table} ({OLD_ACCESS_LOGS}) USING iceberg PARTITIONED BY (days(event_time))"
    )
    spark.sql(
        f"INSERT INTO {table} VALUES (TIMESTAMP'2024-10-10 13:55:36', '192.0.2.1', NULL, 'GET',"
        " '/', 'HTTP/1.1', 200, 5, NULL, 'curl/8.5.0', 'other', 'curl', NULL, NULL,"
        " 'file:/a.log', 1, TIMESTAMP'2024-10-11 00:00:00')"
    )
    old = catalog(warehouse).load_table(f"logs.{Table.ACCESS_LOGS}")
    old_ids = {f.name: f.field_id for f in old.schema().fields}

    ensure_tables(spark, warehouse)
    ensure_tables(spark, warehouse)  # a second run has nothing to add

    evolved = catalog(warehouse).load_table(f"logs.{Table.ACCESS_LOGS}")
    fields = {f.name: f for f in evolved.schema().fields}
    assert {name: str(fields[name].field_type) for name in NEW_COLUMNS} == NEW_COLUMNS
    # The same table, evolved: old columns keep their ids, no new snapshot of data.
    assert {name: fields[name].field_id for name in old_ids} == old_ids
    assert evolved.current_snapshot().snapshot_id == old.current_snapshot().snapshot_id
    rows = evolved.scan().to_arrow().to_pylist()
    assert len(rows) == 1
    assert rows[0]["client_ip"] == "192.0.2.1" and rows[0]["source_line"] == 1
    assert all(rows[0][name] is None for name in NEW_COLUMNS)
