"""A lakehouse holding hand-written rows of the report tables, written with PyIceberg.

The schemas are the report-table contract (docs/reports.md) spelled out here, not imported
from the ETL: the page is tested against what the contract promises, in milliseconds and
with no JVM. Tables are created in the embedded runtime's SQLite catalog, as the ETL does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
from pyiceberg.catalog import load_catalog

from core import runtimes
from core.properties import pyiceberg_properties
from core.settings import Settings

_STATUS = [(c, pa.int64()) for c in ("status_2xx", "status_3xx", "status_4xx")] + [
    ("status_499", pa.int64()),
    ("status_5xx", pa.int64()),
]


def _ranked(period: str, *columns: tuple[str, pa.DataType]) -> pa.Schema:
    return pa.schema(
        [(period, pa.date32()), ("segment", pa.string()), ("rank", pa.int32()), *columns]
    )


def _paths(period: str) -> pa.Schema:
    return _ranked(
        period, ("path", pa.string()), ("requests", pa.int64()), ("bytes", pa.int64()), *_STATUS
    )


def _not_found(period: str) -> pa.Schema:
    return _ranked(period, ("path", pa.string()), ("requests", pa.int64()))


def _referrers(period: str) -> pa.Schema:
    return _ranked(
        period, ("referrer_domain", pa.string()), ("requests", pa.int64()), ("bytes", pa.int64())
    )


def _traffic(period: str) -> pa.Schema:
    return pa.schema(
        [
            (period, pa.date32()),
            ("requests", pa.int64()),
            ("bytes", pa.int64()),
            *_STATUS,
            ("visitors", pa.int64()),
            ("human_visitors", pa.int64()),
        ]
    )


def _software(period: str) -> pa.Schema:
    return pa.schema(
        [
            (period, pa.date32()),
            ("kind", pa.string()),
            ("rank", pa.int32()),
            ("family", pa.string()),
            ("requests", pa.int64()),
            ("share", pa.float64()),
        ]
    )


def _latency(period: str) -> pa.Schema:
    millis = [(c, pa.int64()) for c in ("p50_ms", "p95_ms", "p99_ms", "max_ms")]
    return pa.schema(
        [
            (period, pa.date32()),
            ("rank", pa.int32()),
            ("path", pa.string()),
            ("requests", pa.int64()),
            *millis,
            ("slow_requests", pa.int64()),
            ("upstream_p95_ms", pa.int64()),
            ("upstream_share", pa.float64()),
        ]
    )


SCHEMAS: dict[str, pa.Schema] = {
    "daily_top_ips": _ranked(
        "day", ("client_ip", pa.string()), ("requests", pa.int64()), ("bytes", pa.int64())
    ),
    **{f"{p}_top_paths": _paths(c) for p, c in (("daily", "day"), ("weekly", "week_start"))},
    **{
        f"{p}_top_not_found": _not_found(c) for p, c in (("daily", "day"), ("weekly", "week_start"))
    },
    **{
        f"{p}_top_referrers": _referrers(c) for p, c in (("daily", "day"), ("weekly", "week_start"))
    },
    **{f"{p}_traffic": _traffic(c) for p, c in (("daily", "day"), ("weekly", "week_start"))},
    **{f"{p}_top_software": _software(c) for p, c in (("daily", "day"), ("weekly", "week_start"))},
    **{f"{p}_latency": _latency(c) for p, c in (("daily", "day"), ("weekly", "week_start"))},
}


def write_lakehouse(root: Path, tables: Mapping[str, Sequence[Mapping[str, Any]]]) -> Settings:
    """An embedded lakehouse under `root` whose tables hold exactly `tables`' rows."""
    settings = runtimes.embedded(root)
    Path(settings.storage.warehouse_uri.removeprefix("file://")).mkdir(parents=True)
    catalog = load_catalog(settings.catalog.name, **pyiceberg_properties(settings))
    catalog.create_namespace(settings.catalog.namespace)
    for name, rows in tables.items():
        schema = SCHEMAS[name]
        table = catalog.create_table(f"{settings.catalog.namespace}.{name}", schema=schema)
        if rows:
            table.append(pa.Table.from_pylist(list(rows), schema=schema))
    return settings
