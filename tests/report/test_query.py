"""Ad hoc queries: Spark SQL and the JVM-free engine give the same answers as the raw lines."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import date
from typing import Any

import pytest
from rich.console import Console

from core.errors import QueryError
from core.names import QueryEngine as Engine
from readers.query import as_rich_table, plan, rows, run_query, write_csv, write_json
from spark.sql import run_sql
from tests.report import logs

pytestmark = pytest.mark.spark

ENGINES = [Engine.SPARK, Engine.FAST]


def _run(scenario: Any, spark: Any, sql: str, engine: Engine) -> Any:
    if engine is Engine.SPARK:
        return run_sql(scenario.settings, sql, spark)
    return run_query(scenario.settings, sql)


def _ask(scenario: Any, spark: Any, sql: str, engine: Engine) -> list[dict[str, Any]]:
    return rows(_run(scenario, spark, sql, engine))


def _dates(result: list[dict[str, Any]], column: str) -> list[dict[str, Any]]:
    # DuckDB and Spark agree on DATE; normalise anyway so a datetime never hides a mismatch.
    return [{**r, column: date.fromisoformat(str(r[column])[:10])} for r in result]


def test_requests_per_day_agree_across_engines_and_with_the_raw_lines(
    scenario: Any, spark: Any
) -> None:
    sql = (
        "SELECT CAST(event_time AS DATE) AS day, count(*) AS requests "
        "FROM access_logs GROUP BY CAST(event_time AS DATE) ORDER BY day"
    )
    expected = [
        {"day": d, "requests": n} for d, n in logs.requests_per_day(scenario.requests).items()
    ]
    answers = {engine: _dates(_ask(scenario, spark, sql, engine), "day") for engine in ENGINES}
    assert answers[Engine.SPARK] == answers[Engine.FAST] == expected


def test_daily_top_ip_agrees_across_engines_and_with_the_raw_lines(
    scenario: Any, spark: Any
) -> None:
    report_sql = (
        "SELECT day, client_ip, requests FROM logs.daily_top_ips "
        "WHERE segment = 'all' AND rank = 1 ORDER BY day"
    )
    expected = [
        {"day": d, "client_ip": ip, "requests": n}
        for d in logs.requests_per_day(scenario.requests)
        for ip, n in [logs.top_ip(scenario.requests, d)]
    ]
    for engine in ENGINES:
        assert _dates(_ask(scenario, spark, report_sql, engine), "day") == expected, engine

    # The same answer straight from access_logs, with the report's tie-break rules.
    latest = scenario.latest_day
    raw_sql = (
        "SELECT client_ip, count(*) AS requests FROM access_logs "
        f"WHERE CAST(event_time AS DATE) = DATE '{latest}' GROUP BY client_ip "
        "ORDER BY count(*) DESC, sum(body_bytes) DESC, client_ip LIMIT 1"
    )
    ip, count = logs.top_ip(scenario.requests, latest)
    for engine in ENGINES:
        assert _ask(scenario, spark, raw_sql, engine) == [{"client_ip": ip, "requests": count}]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("qualified", ["{t}", "logs.{t}", "t_report.logs.{t}"])
def test_tables_can_be_named_with_or_without_catalog_and_namespace(
    scenario: Any, spark: Any, engine: Engine, qualified: str
) -> None:
    sql = f"SELECT count(*) AS n FROM {qualified.format(t='access_logs')}"
    assert _ask(scenario, spark, sql, engine) == [{"n": len(scenario.requests)}]


def test_the_spark_engine_also_reads_iceberg_metadata_tables(scenario: Any, spark: Any) -> None:
    sql = "SELECT count(*) AS n FROM logs.access_logs.snapshots"
    assert _ask(scenario, spark, sql, Engine.SPARK)[0]["n"] >= 1


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    "sql",
    ["SELECT * FROM no_such_table", "SELECT no_such_column FROM access_logs", "SELEC 1"],
)
def test_bad_sql_is_a_one_line_query_error(
    scenario: Any, spark: Any, engine: Engine, sql: str
) -> None:
    with pytest.raises(QueryError) as caught:
        _run(scenario, spark, sql, engine)
    assert "\n" not in str(caught.value) and str(caught.value)


def test_the_spark_engine_leaves_the_sessions_current_namespace_alone(
    scenario: Any, spark: Any
) -> None:
    before = spark.catalog.currentCatalog(), spark.catalog.currentDatabase()
    run_sql(scenario.settings, "SELECT 1 AS one", spark)
    assert (spark.catalog.currentCatalog(), spark.catalog.currentDatabase()) == before


def test_the_fast_engine_reads_only_the_columns_a_query_mentions(scenario: Any) -> None:
    s = scenario.settings
    [scan] = plan(
        s, "SELECT status, count(*) FROM access_logs WHERE device_type = 'bot' GROUP BY 1"
    )
    assert scan.name == "access_logs" and scan.columns == ("device_type", "status")
    assert scan.limit is None
    # Anything that expands to every column reads every column.
    for sql in (
        "SELECT * FROM access_logs",
        "SELECT a.* FROM access_logs a",
        "SELECT * FROM daily_top_ips NATURAL JOIN weekly_top_ips",
    ):
        assert all(scan.columns is None for scan in plan(s, sql)), sql
    # count(*) mentions no column; one is still read so the row count survives.
    assert run_query(s, "SELECT count(*) AS n FROM access_logs").to_pylist() == [
        {"n": len(scenario.requests)}
    ]


def test_the_fast_engine_pushes_a_plain_limit_down_to_the_scan(scenario: Any) -> None:
    s = scenario.settings
    assert plan(s, "SELECT * FROM access_logs LIMIT 5 OFFSET 2")[0].limit == 7
    assert run_query(s, "SELECT client_ip FROM access_logs LIMIT 3").num_rows == 3
    # Filters, ordering, aggregates and joins see every row before the limit applies.
    for sql in (
        "SELECT * FROM access_logs WHERE status = 404 LIMIT 5",
        "SELECT * FROM access_logs ORDER BY event_time DESC LIMIT 5",
        "SELECT count(*) FROM access_logs LIMIT 5",
        "SELECT DISTINCT client_ip FROM access_logs LIMIT 5",
        "SELECT * FROM access_logs USING SAMPLE 10% LIMIT 5",
        "SELECT a.client_ip FROM access_logs a JOIN daily_top_ips d USING (client_ip) LIMIT 5",
    ):
        assert all(scan.limit is None for scan in plan(s, sql)), sql
    newest = run_query(s, "SELECT event_time FROM access_logs ORDER BY event_time DESC LIMIT 1")
    assert newest.column(0)[0].as_py() == max(r.at for r in scenario.requests)


def test_results_print_as_table_csv_and_json(scenario: Any) -> None:
    result = run_query(
        scenario.settings,
        "SELECT run_id, outcome, rows_written FROM etl_runs ORDER BY started_at",
    )
    out = io.StringIO()
    write_json(result, out)
    as_json = json.loads(out.getvalue())
    assert [r["outcome"] for r in as_json] == ["succeeded", "nothing-to-do", "failed"]
    assert as_json[0]["rows_written"]["access_logs"] == len(scenario.requests)

    out = io.StringIO()
    write_csv(result, out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "run_id,outcome,rows_written" and len(lines) == 4

    console = Console(record=True, width=300)
    console.print(as_rich_table(result))
    text = console.export_text()
    assert "3 rows" in text and "nothing-to-do" in text


def test_fast_paths_load_no_pyspark_and_count_utc_days_in_any_time_zone(
    scenario: Any, tmp_path: Any
) -> None:
    """`query --engine fast`, `runs` and `report-page` start no JVM (pyspark is never
    imported), and their days are UTC days even on a machine set to UTC+05:30."""
    per_day = {str(d): n for d, n in logs.requests_per_day(scenario.requests).items()}
    script = f"""
import sys
from pathlib import Path
from core.settings import Settings
from readers.query import run_query
from readers.history import recent_runs
from report_page import write_report_page
settings = Settings.model_validate_json({scenario.settings.model_dump_json()!r})
days = run_query(settings, "SELECT CAST(event_time AS DATE) AS d, count(*) AS n "
                           "FROM access_logs GROUP BY 1").to_pylist()
assert {{str(r["d"]): r["n"] for r in days}} == {per_day!r}, days
assert recent_runs(settings)
html = write_report_page(settings, Path({str(tmp_path / "page.html")!r})).read_text()
for day, n in {per_day!r}.items():
    assert f"{{day}} — {{n:,}} requests" in html, day
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("pyspark", "py4j", "spark"))
assert not loaded, loaded
"""
    env = {**os.environ, "TZ": "Asia/Kolkata"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
