"""The Spark SQL parser against the shared conformance cases and extra hostile lines."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import pytest

from spark.inputs import InputFile, read_raw
from spark.parse import Reason, parse_lines

pytestmark = pytest.mark.spark

REASON_OF_WHY = {
    "truncated": Reason.TRUNCATED,
    "bad timestamp": Reason.BAD_TIMESTAMP,
    "malformed": Reason.MALFORMED,
    "empty": Reason.EMPTY,
}


def _parse_file(spark: Any, path: Path, max_line_bytes: int = 65536) -> list[dict[str, Any]]:
    raw = read_raw(spark, [InputFile(path.as_uri(), path.stat().st_size, 0)])
    rows = parse_lines(raw, max_line_bytes).orderBy("source_line").collect()
    return [r.asDict() for r in rows]


@pytest.fixture(scope="module")
def parsed_cases(spark: Any, conformance_cases: list[dict[str, Any]], tmp_path_factory: Any):
    """All cases written to one gzip file, exactly as they stand in a log, parsed once."""
    path = tmp_path_factory.mktemp("cases") / "cases.log.gz"
    with gzip.open(path, "wb") as out:
        for case in conformance_cases:
            out.write(case["line"].encode("utf-8") + b"\n")
    rows = _parse_file(spark, path)
    assert len(rows) == len(conformance_cases)
    return dict(zip((c["case"] for c in conformance_cases), rows, strict=True))


def test_there_are_26_cases(conformance_cases: list[dict[str, Any]]) -> None:
    assert len(conformance_cases) == 26


def test_every_conformance_case(
    parsed_cases: dict, conformance_cases: list[dict[str, Any]]
) -> None:
    failures = []
    for case in conformance_cases:
        row = parsed_cases[case["case"]]
        if not case["accept"]:
            expected = REASON_OF_WHY[case["why"]]
            if row["reject_reason"] != expected:
                failures.append(f"{case['case']}: reason {row['reject_reason']!r} != {expected!r}")
            continue
        if row["reject_reason"] is not None:
            failures.append(f"{case['case']}: rejected as {row['reject_reason']}")
            continue
        for field, expected in case["fields"].items():
            if field == "event_time_utc":
                got = row["event_time"].strftime("%Y-%m-%dT%H:%M:%SZ")
            else:
                got = row[field]
            if got != expected:
                failures.append(f"{case['case']}: {field} = {got!r:.60}, expected {expected!r:.60}")
    assert not failures, "\n".join(failures)


def test_rejected_lines_keep_no_fields(parsed_cases: dict) -> None:
    rejected = [r for r in parsed_cases.values() if r["reject_reason"]]
    assert rejected
    assert all(r["event_time"] is None and r["client_ip"] is None for r in rejected)


def test_hostile_bytes_and_sizes(spark: Any, tmp_path: Path) -> None:
    good = b'192.0.2.9 - - [10/Oct/2024:13:55:36 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8.5.0"'
    lines = [
        good,
        b"\xff\xfe\x00garbage \xc3\x28",  # not UTF-8
        good.replace(b"GET / ", b"GET /caf\xe9 "),  # a Latin-1 byte inside a good line
        good.replace(b"GET / ", b"GET /" + b"a" * 70_000 + b" "),  # over max_line_bytes
        good + b"\r",  # CRLF
        b"   ",
        good[:40],
    ]
    path = tmp_path / "hostile.log"
    path.write_bytes(b"\n".join(lines) + b"\n")
    reasons = [r["reject_reason"] for r in _parse_file(spark, path)]
    assert reasons == [
        None,
        Reason.INVALID_UTF8,
        Reason.INVALID_UTF8,
        Reason.TOO_LONG,
        None,
        Reason.MALFORMED,
        Reason.TRUNCATED,
    ]


def test_line_numbers_are_per_file_and_start_at_one(spark: Any, tmp_path: Path) -> None:
    files = []
    for name, count in (("a.log.gz", 3), ("b.log.gz", 5)):
        path = tmp_path / name
        with gzip.open(path, "wb") as out:
            out.write(b"x\n" * count)
        files.append(InputFile(path.as_uri(), path.stat().st_size, 0))
    rows = read_raw(spark, files).collect()
    by_file: dict[str, list[int]] = {}
    for row in rows:
        by_file.setdefault(row.source_file.rsplit("/", 1)[1], []).append(row.source_line)
    assert {k: sorted(v) for k, v in by_file.items()} == {
        "a.log.gz": [1, 2, 3],
        "b.log.gz": [1, 2, 3, 4, 5],
    }
