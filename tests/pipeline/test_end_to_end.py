"""The whole job on the embedded runtime, checked against an independent computation.

Tables are read back with PyIceberg (not Spark) and compared with `reference`, plain Python
over the same raw lines. The scenario spans two ISO weeks, includes a file of hostile lines,
a re-run on the same input, and a late file for an old day.
"""

from __future__ import annotations

import gzip
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from generator import TrafficSpec, generate
from lakehouse.reading import read_table
from spark import tables
from spark.job import run_etl
from tests.pipeline import reference

pytestmark = [pytest.mark.spark, pytest.mark.slow]

TOP_N = 5
HOSTILE = [
    b"",
    b"\xff\xfe not utf-8 \xc3\x28",
    b'203.0.113.15 - - [10/Oct/2024:13:55:45 +0000] "GET / HTTP/1.1" 200 612 "-" "Mozil',
    b'203.0.113.17 - - [10/Foo/2024:13:55:36 +0000] "GET / HTTP/1.1" 200 1 "-" "-"',
    b'{"time":"2024-10-10T13:55:36Z","status":200}',
    b'198.51.100.7 - - [09/Oct/2024:23:30:00 -0100] "GET /late HTTP/1.1" 200 42 "-" "curl/8.5.0"',
]


def _input_dir(settings: Any) -> Path:
    return Path(settings.storage.input_uri.removeprefix("file://"))


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def _table_rows(settings: Any, name: str) -> list[dict[str, Any]]:
    return read_table(settings, name).to_pylist()


def _ips(rows: list[dict[str, Any]], period: str) -> set[tuple]:
    return {
        (r[period], r["segment"], r["rank"], r["client_ip"], r["requests"], r["bytes"])
        for r in rows
    }


def _devices(rows: list[dict[str, Any]], period: str) -> set[tuple]:
    return {
        (r[period], r["rank"], r["device_type"], r["device"], r["requests"], round(r["share"], 9))
        for r in rows
    }


def _check_against_reference(settings: Any) -> dict[str, int]:
    """Every table equals the independent computation over all files now in the input."""
    hits, rejected_by_file, lines_by_file = [], {}, {}
    for path in _files(_input_dir(settings)):
        file_hits, rejected = reference.parse(path)
        uri = f"file:{path}"
        hits += file_hits
        rejected_by_file[uri] = rejected
        lines_by_file[uri] = len(reference.read_lines(path))

    logs = _table_rows(settings, tables.ACCESS_LOGS)
    assert len(logs) == len(hits)
    assert {(r["source_file"], r["source_line"]) for r in logs} == {
        (h.source_file, h.source_line) for h in hits
    }
    rejected_rows = _table_rows(settings, tables.REJECTED_LINES)
    ledger = {r["source_file"]: r for r in _table_rows(settings, tables.INGESTED_FILES)}
    assert set(ledger) == set(lines_by_file)
    for uri, lines in lines_by_file.items():
        # Reconciliation: nothing is dropped silently, per file.
        accepted = sum(1 for r in logs if r["source_file"] == uri)
        rejected = sum(1 for r in rejected_rows if r["source_file"] == uri)
        assert accepted + rejected == lines, uri
        assert rejected == rejected_by_file[uri], uri
        assert (ledger[uri]["lines_read"], ledger[uri]["accepted"]) == (lines, accepted)

    assert _ips(_table_rows(settings, tables.DAILY_TOP_IPS), "day") == reference.top_ips(
        hits, reference.by_day, TOP_N
    )
    assert _ips(_table_rows(settings, tables.WEEKLY_TOP_IPS), "week_start") == reference.top_ips(
        hits, reference.by_week, TOP_N
    )
    assert _devices(
        _table_rows(settings, tables.DAILY_TOP_DEVICES), "day"
    ) == reference.top_devices(hits, reference.by_day, TOP_N)
    assert _devices(
        _table_rows(settings, tables.WEEKLY_TOP_DEVICES), "week_start"
    ) == reference.top_devices(hits, reference.by_week, TOP_N)
    return {"accepted": len(hits), "rejected": sum(rejected_by_file.values())}


@pytest.fixture
def settings(warehouse: Any) -> Any:
    etl = warehouse.etl.model_copy(update={"top_n": TOP_N})
    return warehouse.model_copy(update={"etl": etl})


def test_pipeline_end_to_end(spark: Any, settings: Any, tmp_path: Path) -> None:
    input_dir = _input_dir(settings)
    # Monday 2024-10-07 + 9 days: two ISO weeks.
    generate(TrafficSpec(start=date(2024, 10, 7), days=9, lines=20_000, seed=7), str(input_dir))
    with gzip.open(input_dir / "hostile.log.gz", "wb") as out:
        out.write(b"\n".join(HOSTILE) + b"\n")
    (input_dir / "empty.log").write_bytes(b"")

    first = run_etl(settings, spark=spark)
    counts = _check_against_reference(settings)
    assert (first.accepted, first.rejected) == (counts["accepted"], counts["rejected"])
    assert first.lines_read == first.accepted + first.rejected
    assert first.rows_written[tables.ACCESS_LOGS] == first.accepted

    # Idempotency: the same input again changes nothing.
    before = {
        name: _table_rows(settings, name) for name in (tables.ACCESS_LOGS, *tables.REPORT_TABLES)
    }
    second = run_etl(settings, spark=spark)
    assert second.outcome == "nothing-to-do"
    for name, rows in before.items():
        assert _table_rows(settings, name) == rows, name

    # A late file for an old day updates that day's and that week's reports.
    late_dir = tmp_path / "late"
    generate(
        TrafficSpec(start=date(2024, 10, 8), days=1, lines=3_000, seed=99, host="web-late"),
        str(late_dir),
    )
    for path in _files(late_dir):
        target = input_dir / "late" / path.relative_to(late_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    third = run_etl(settings, spark=spark)
    assert third.days == [date(2024, 10, 8)]
    _check_against_reference(settings)
