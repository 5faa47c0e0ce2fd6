"""Ad hoc SQL over the lakehouse tables without a JVM (`lakehouse query --engine fast`).

(`--engine spark` is spark/sql.py: Spark SQL on the configured runtime, exactly what the
ETL sees, at the price of a session start.) Here PyIceberg reads the tables the SQL names,
through the same catalog settings, and DuckDB runs the SQL over their Arrow data in memory.
DuckDB's own Iceberg extension is not used: it is not bundled with the wheel, and nothing may
be downloaded at run time (extension auto-install is switched off).

Both engines accept `access_logs`, `logs.access_logs` and `lakehouse.logs.access_logs`
(the catalog and namespace of the settings). The fast engine reads only the columns the SQL
mentions and pushes a plain `SELECT cols FROM t LIMIT n` down to the scan, so ad hoc looks at
a large `access_logs` stay cheap; anything else is evaluated by DuckDB over the scanned data.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TextIO

import duckdb
import pyarrow as pa
from rich.table import Table

from core.errors import QueryError
from core.settings import Settings
from readers.reading import load_table, table_names

# No extension is ever fetched: a query must not reach the network (ICU and JSON are built in).
DUCKDB_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}


@dataclass(frozen=True)
class TableScan:
    """What the fast engine reads of one table: columns (None = all) and a row limit."""

    name: str
    columns: tuple[str, ...] | None
    limit: int | None = None


def run_query(settings: Settings, sql: str) -> pa.Table:
    """Run one SQL statement with DuckDB over PyIceberg scans; the result as Arrow."""
    return _run_fast(settings, sql)


# -- fast (PyIceberg + DuckDB) -----------------------------------------------------------------


def _run_fast(settings: Settings, sql: str) -> pa.Table:
    con = duckdb.connect(config=DUCKDB_CONFIG)
    try:
        # Iceberg timestamps are UTC; date_trunc and casts must not use the machine's zone.
        con.execute("SET TimeZone = 'UTC'")
        scans = plan(settings, sql)
        _register(con, settings, scans)
        try:
            return con.sql(sql).to_arrow_table()
        except duckdb.Error as exc:
            raise QueryError.from_engine(str(exc)) from None
    finally:
        con.close()


def plan(settings: Settings, sql: str) -> list[TableScan]:
    """Which lakehouse tables the SQL reads, and which of their columns (from DuckDB's parser)."""
    with duckdb.connect(config=DUCKDB_CONFIG) as con:
        parsed = json.loads(con.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])
    if parsed.get("error"):
        raise QueryError(
            f"{parsed.get('error_message', 'cannot parse the SQL')} "
            "(the fast engine runs SELECT/WITH/DESCRIBE; use --engine spark for other statements)"
        )
    if len(parsed["statements"]) != 1:
        raise QueryError("run one SQL statement at a time")
    node = parsed["statements"][0]["node"]
    available = table_names(settings)
    found = _References()
    found.visit(node)
    wanted = sorted(
        name
        for cat, schema, name in found.tables
        if name in available
        and schema in ("", settings.catalog.namespace.lower())
        and cat in ("", settings.catalog.name.lower())
    )
    columns = None if found.all_columns else tuple(sorted(found.columns))
    limit = _simple_limit(node)
    return [TableScan(name, columns, limit if len(wanted) == 1 else None) for name in wanted]


class _References:
    """Walks a DuckDB parse tree collecting table names and every name used as a column.

    Over-approximating is safe (an extra column costs a little I/O); missing one is not, so
    anything that expands to "all columns" (`*`, COLUMNS(), NATURAL joins, positional
    references, PIVOT) turns projection off.
    """

    def __init__(self) -> None:
        self.tables: set[tuple[str, str, str]] = set()
        self.columns: set[str] = set()
        self.all_columns = False

    def visit(self, node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                self.visit(item)
            return
        if not isinstance(node, dict):
            return
        kind = node.get("type")
        if node.get("class") == "STAR" or kind in ("POSITIONAL_REFERENCE", "PIVOT"):
            self.all_columns = True
        if node.get("ref_type") == "NATURAL":
            self.all_columns = True
        if kind == "BASE_TABLE":
            self.tables.add(
                (
                    node["catalog_name"].lower(),
                    node["schema_name"].lower(),
                    node["table_name"].lower(),
                )
            )
        if node.get("class") == "COLUMN_REF":
            self.columns.update(part.lower() for part in node["column_names"])
        self.columns.update(c.lower() for c in node.get("using_columns", []))
        for value in node.values():
            self.visit(value)


def _simple_limit(node: dict[str, Any]) -> int | None:
    """N+offset for `SELECT <columns or *> FROM one_table [LIMIT n [OFFSET m]]`, else None.

    Only then is the first N rows of the scan the same as the first N rows of the result.
    """
    plain = (
        node.get("type") == "SELECT_NODE"
        and node["from_table"].get("type") == "BASE_TABLE"
        and node["from_table"].get("sample") is None
        and node.get("where_clause") is None
        and not node.get("group_expressions")
        and node.get("having") is None
        and node.get("qualify") is None
        and node.get("sample") is None
        and not node["cte_map"]["map"]
        and all(
            e.get("class") == "COLUMN_REF"
            or (e.get("class") == "STAR" and not e["replace_list"] and not e["columns"])
            for e in node["select_list"]
        )
    )
    modifiers = node.get("modifiers", [])
    if not plain or [m["type"] for m in modifiers] != ["LIMIT_MODIFIER"]:
        return None
    total = 0
    for part in (modifiers[0].get("limit"), modifiers[0].get("offset")):
        if part is None:
            continue
        literal = part.get("literal", {}) if part.get("class") == "CONSTANT" else {}
        if literal.get("kind") not in ("INTEGER", "BIGINT"):
            return None
        total += int(literal["text"])
    return total if modifiers[0].get("limit") is not None else None


def _register(con: duckdb.DuckDBPyConnection, settings: Settings, scans: list[TableScan]) -> None:
    """Expose each scanned table as <catalog>.<namespace>.<table> and make that the default."""
    cat, ns = settings.catalog.name, settings.catalog.namespace
    con.execute(f"ATTACH ':memory:' AS {_quote(cat)}")
    con.execute(f"CREATE SCHEMA {_quote(cat)}.{_quote(ns)}")
    for scan in scans:
        arrow = _scan(settings, scan)
        source = f"__iceberg_{scan.name}"
        con.register(source, arrow)
        con.execute(
            f"CREATE VIEW {_quote(cat)}.{_quote(ns)}.{_quote(scan.name)} AS SELECT * FROM {source}"
        )
    con.execute(f"USE {_quote(cat)}.{_quote(ns)}")


def _scan(settings: Settings, scan: TableScan) -> pa.Table:
    table = load_table(settings, scan.name)
    names = [f.name for f in table.schema().fields]
    if scan.columns is None:
        selected = names
    else:
        selected = [n for n in names if n.lower() in scan.columns]
        # An empty projection reads zero rows: keep one column so count(*) stays right.
        selected = selected or names[:1]
    return table.scan(selected_fields=tuple(selected), limit=scan.limit).to_arrow()


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


# -- output -----------------------------------------------------------------------------------


def rows(result: pa.Table) -> list[dict[str, Any]]:
    """Result rows as dicts; maps (e.g. etl_runs.rows_written) become dicts, not pair lists."""
    maps = [f.name for f in result.schema if pa.types.is_map(f.type)]
    out = result.to_pylist()
    for row in out:
        for name in maps:
            if row[name] is not None:
                row[name] = dict(row[name])
    return out


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return str(value)


def write_csv(result: pa.Table, out: TextIO) -> None:
    writer = csv.writer(out)
    writer.writerow(result.column_names)
    writer.writerows([_text(v) for v in row.values()] for row in rows(result))


def write_json(result: pa.Table, out: TextIO) -> None:
    """One JSON array of objects (timestamps as ISO 8601 strings)."""
    json.dump(rows(result), out, indent=2, default=_text)
    out.write("\n")


def as_rich_table(result: pa.Table, max_rows: int = 200) -> Table:
    table = Table(
        title=f"{result.num_rows:,} row{'s' if result.num_rows != 1 else ''}",
        title_justify="left",
    )
    for field in result.schema:
        numeric = pa.types.is_integer(field.type) or pa.types.is_floating(field.type)
        table.add_column(field.name, justify="right" if numeric else "left")
    for row in rows(result)[:max_rows]:
        table.add_row(*(_text(v) for v in row.values()))
    if result.num_rows > max_rows:
        table.caption = f"first {max_rows:,} rows shown (use --format csv or json for all)"
    return table
