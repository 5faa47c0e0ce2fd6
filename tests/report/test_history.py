"""Run history: every ETL run, failed ones included, read back without a JVM."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from readers.history import as_rich_table, recent_runs
from spark.commits import iceberg_table
from spark.job import ensure_all_tables, run_etl

pytestmark = pytest.mark.spark


def test_runs_are_listed_newest_first_with_their_outcomes(scenario: Any) -> None:
    runs = recent_runs(scenario.settings, limit=10)
    assert [r["outcome"] for r in runs] == ["failed", "nothing-to-do", "succeeded"]
    started = [r["started_at"] for r in runs]
    assert started == sorted(started, reverse=True)


def test_a_successful_run_records_what_it_read_and_wrote(scenario: Any) -> None:
    succeeded = next(r for r in recent_runs(scenario.settings) if r["outcome"] == "succeeded")
    accepted, rejected = len(scenario.requests), len(scenario.rejected)
    assert succeeded["input_files"] == len(scenario.files)
    assert succeeded["input_bytes"] == sum(p.stat().st_size for p in scenario.files)
    assert (succeeded["lines_read"], succeeded["accepted"], succeeded["rejected"]) == (
        accepted + rejected,
        accepted,
        rejected,
    )
    assert succeeded["rows_written"]["access_logs"] == accepted
    assert succeeded["rows_written"]["rejected_lines"] == rejected
    assert succeeded["error"] is None
    assert succeeded["seconds"] > 0
    assert "access_logs" in succeeded["snapshot_ids"]


def test_a_run_whose_input_location_is_missing_records_itself_as_failed(scenario: Any) -> None:
    failed = recent_runs(scenario.settings, limit=1)[0]
    assert failed["outcome"] == "failed"
    assert failed["error"].startswith("InputError: input location ")
    assert "no-such-dir" in failed["error"] and "does not exist" in failed["error"]
    assert failed["finished_at"] is not None and failed["lines_read"] == 0


def test_a_run_that_cannot_write_its_rows_records_itself_as_failed(
    spark: Any, warehouse: Any
) -> None:
    input_dir = Path(warehouse.storage.input_uri.removeprefix("file://"))
    day = input_dir / "dt=2024-10-07"
    day.mkdir(parents=True)
    with gzip.open(day / "web-1.log.gz", "wt") as out:
        out.write('203.0.113.7 - - [07/Oct/2024:10:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "-"\n')
    # access_logs' data directory is a plain file: the run lists and parses its input, then
    # fails in the middle, at its first write.
    ensure_all_tables(spark, warehouse)
    location = iceberg_table(spark, warehouse.table("access_logs")).location()
    Path(location.removeprefix("file:").replace("//", "/")).joinpath("data").write_text("no dir")

    with pytest.raises(Exception):  # noqa: B017 - whatever Spark raises, the run must record it
        run_etl(warehouse, spark=spark)

    [run] = recent_runs(warehouse)
    assert run["outcome"] == "failed"
    assert run["input_files"] == 1  # listed before the failure
    assert run["error"] and ":" in run["error"]  # "<ExceptionClass>: <first line>"
    assert run["accepted"] == 0 and run["rows_written"] == {}


def test_limit_keeps_the_newest_runs(scenario: Any) -> None:
    assert [r["outcome"] for r in recent_runs(scenario.settings, limit=2)] == [
        "failed",
        "nothing-to-do",
    ]


def test_the_terminal_table_shows_each_run_and_the_failure_reason(scenario: Any) -> None:
    runs = recent_runs(scenario.settings)
    console = Console(record=True, width=400)
    console.print(as_rich_table(runs))
    text = console.export_text()
    for run in runs:
        assert run["run_id"] in text and run["outcome"] in text
    assert "does not exist" in text
    assert f"{len(scenario.requests) + len(scenario.rejected):,}" in text
