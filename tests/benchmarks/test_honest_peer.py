"""The honest peer (benchmarks/peer.py) does the ETL's work, so the ratio between them means
something: it judges the parser's conformance cases as the ETL must, and on the same files
it stores the same rows and reports as the ETL (read back with PyIceberg). No timings."""

from __future__ import annotations

import gzip
import json
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from benchmarks.peer import honest_peer, report_rows
from core.names import Table

REPO = Path(__file__).resolve().parents[2]
CASES = REPO / "tests" / "data" / "combined-cases.jsonl"
FIELDS = (
    "client_ip",
    "remote_user",
    "method",
    "path",
    "protocol",
    "status",
    "body_bytes",
    "referrer",
    "user_agent",
)
# access_logs columns both write (ingested_at differs by construction: each run's start).
STORED = ("event_time", *FIELDS, "device_type", "device", "os", "browser", "source_file")


def _cases() -> list[dict[str, Any]]:
    return [json.loads(line) for line in CASES.read_text().splitlines() if line.strip()]


def _write_gzip(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8", newline="") as fh:
        fh.writelines(line + "\n" for line in lines)


def _peer_rows(out: Path, sql_from: str) -> list[dict[str, Any]]:
    with duckdb.connect() as con:
        con.execute("SET TimeZone='UTC'")
        return con.sql(f"SELECT * FROM {sql_from}").to_arrow_table().to_pylist()


def _access_logs(out: Path) -> list[dict[str, Any]]:
    return _peer_rows(out, f"read_parquet('{out / Table.ACCESS_LOGS}/*/*.parquet')")


def _rejected(out: Path) -> list[dict[str, Any]]:
    return _peer_rows(out, f"read_parquet('{out / Table.REJECTED_LINES}.parquet')")


def test_peer_judges_the_parser_conformance_cases(tmp_path: Path) -> None:
    cases = _cases()
    source = tmp_path / "cases.log.gz"
    _write_gzip(source, [c["line"] for c in cases])

    result = honest_peer([str(source)], tmp_path / "peer")

    accepted = {row["source_line"]: row for row in _access_logs(tmp_path / "peer")}
    rejected = {row["source_line"]: row["reason"] for row in _rejected(tmp_path / "peer")}
    assert (result.accepted, result.rejected) == (len(accepted), len(rejected))
    for number, case in enumerate(cases, start=1):
        if not case["accept"]:
            # The cases say "bad timestamp"; the reason column says bad_timestamp.
            assert rejected.get(number) == case["why"].replace(" ", "_"), case["case"]
            continue
        row = accepted[number]
        expected = dict(case["fields"])
        event_time = expected.pop("event_time_utc")
        assert row["event_time"].strftime("%Y-%m-%dT%H:%M:%SZ") == event_time, case["case"]
        assert {k: row[k] for k in expected} == expected, case["case"]
        assert row["source_file"] == f"file:{source}"


def _as_set(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> set[tuple[Any, ...]]:
    return {tuple(round(r[c], 9) if c == "share" else r[c] for c in columns) for r in rows}


@pytest.mark.spark
@pytest.mark.slow
def test_peer_stores_the_same_rows_and_reports_as_the_etl(
    spark: Any, warehouse: Any, tmp_path: Path
) -> None:
    from generator import TrafficSpec, generate
    from readers.reading import read_table
    from spark.job import run_etl

    input_dir = Path(warehouse.storage.input_uri.removeprefix("file://"))
    # Two ISO weeks of generated traffic, plus the conformance cases (rejects of every
    # kind, escapes, offsets that change the UTC day) in a file of their own.
    generate(TrafficSpec(start=date(2024, 10, 6), days=2, lines=3_000, seed=7), str(input_dir))
    _write_gzip(input_dir / "cases" / "cases.log.gz", [c["line"] for c in _cases()])
    files = sorted(str(p) for p in input_dir.rglob("*.gz"))

    etl = run_etl(warehouse, spark=spark)
    peer = honest_peer(files, tmp_path / "peer", warehouse.etl)

    assert (peer.accepted, peer.rejected) == (etl.accepted, etl.rejected)
    assert peer.rejected > 0
    keyed = ("source_file", "source_line")
    assert _as_set(_access_logs(tmp_path / "peer"), (*keyed, *STORED)) == _as_set(
        read_table(warehouse, Table.ACCESS_LOGS).to_pylist(), (*keyed, *STORED)
    )
    rejects = (*keyed, "reason", "raw_line")
    assert _as_set(_rejected(tmp_path / "peer"), rejects) == _as_set(
        read_table(warehouse, Table.REJECTED_LINES).to_pylist(), rejects
    )
    ips = ("segment", "rank", "client_ip", "requests", "bytes")
    devices = ("rank", "device_type", "device", "requests", "share")
    for name, columns in (
        (Table.DAILY_TOP_IPS, ("day", *ips)),
        (Table.WEEKLY_TOP_IPS, ("week_start", *ips)),
        (Table.DAILY_TOP_DEVICES, ("day", *devices)),
        (Table.WEEKLY_TOP_DEVICES, ("week_start", *devices)),
    ):
        etl_rows = read_table(warehouse, name).to_pylist()
        assert etl_rows, name
        assert _as_set(report_rows(tmp_path / "peer", name), columns) == _as_set(
            etl_rows, columns
        ), name
