"""Schema evolution: an older lakehouse gains the new columns, aggregates and reports in place."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from core.names import REPORT_TABLES, Table
from readers.reading import catalog
from spark.job import ensure_all_tables
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


def _old_access_logs(spark: Any, warehouse: Any, request: str) -> None:
    """access_logs as an older version created it, holding one curl line; `request`: its
    path, protocol, status, bytes and referrer as SQL literals."""
    table = warehouse.table(Table.ACCESS_LOGS)
    spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {warehouse.catalog.name}.logs")
    spark.sql(
        f"CREATE TABLE {table} ({OLD_ACCESS_LOGS}) USING iceberg PARTITIONED BY (days(event_time))"
    )
    spark.sql(
        f"INSERT INTO {table} VALUES (TIMESTAMP'2024-10-10 13:55:36', '192.0.2.1', NULL, 'GET',"
        f" {request}, 'curl/8.5.0', 'other', 'curl', NULL, NULL, 'file:/a.log', 1,"
        " TIMESTAMP'2024-10-11 00:00:00')"
    )


def test_an_old_access_logs_gains_the_new_columns_and_keeps_its_rows(
    spark: Any, warehouse: Any
) -> None:
    _old_access_logs(spark, warehouse, "'/', 'HTTP/1.1', 200, 5, NULL")
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


def test_an_old_lakehouse_gains_the_new_aggregates_and_reports_in_place(
    spark: Any, warehouse: Any
) -> None:
    _old_access_logs(spark, warehouse, "'/a%20b?q=1', 'HTTP/1.1', 404, 5, 'https://Example.org/x'")
    # The aggregate an earlier release kept, since replaced by daily_agent_counts.
    spark.sql(f"CREATE TABLE {warehouse.table('daily_device_counts')} (day DATE) USING iceberg")
    snapshot = catalog(warehouse).load_table(f"logs.{Table.ACCESS_LOGS}").current_snapshot()

    ensure_all_tables(spark, warehouse)

    names = {
        r.tableName for r in spark.sql(f"SHOW TABLES IN {warehouse.catalog.name}.logs").collect()
    }
    assert set(REPORT_TABLES) <= names and "daily_device_counts" not in names
    access_logs = catalog(warehouse).load_table(f"logs.{Table.ACCESS_LOGS}")
    assert access_logs.current_snapshot().snapshot_id == snapshot.snapshot_id

    def rows(name: str, columns: str) -> list[tuple]:
        return [
            tuple(r) for r in spark.sql(f"SELECT {columns} FROM {warehouse.table(name)}").collect()
        ]

    # Filled from the row already there.
    day = date(2024, 10, 10)
    assert rows(
        Table.DAILY_AGENT_COUNTS, "day, device_type, device, browser, os, requests, bytes"
    ) == [(day, "other", "curl", None, None, 1, 5)]
    assert rows(
        Table.DAILY_PATH_COUNTS,
        "day, path, is_bot, requests, status_4xx, not_found, timed_requests",
    ) == [(day, "/a b", True, 1, 1, 1, 0)]
    assert rows(Table.DAILY_REFERRER_COUNTS, "referrer_domain, requests") == [("example.org", 1)]
    assert rows(Table.DAILY_TOP_PATHS, "*") == []  # reports come with the next run
