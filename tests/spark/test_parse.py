"""The Spark SQL parser against the shared conformance cases and extra hostile lines."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from core.settings import EventTimeWindow
from spark.inputs import InputFile, read_raw
from spark.parse import Reason, parse_lines

pytestmark = pytest.mark.spark

REASON_OF_WHY = {
    "truncated": Reason.TRUNCATED,
    "bad timestamp": Reason.BAD_TIMESTAMP,
    "malformed": Reason.MALFORMED,
    "empty": Reason.EMPTY,
}


def _parse_file(
    spark: Any, path: Path, max_line_bytes: int = 65536, window: EventTimeWindow | None = None
) -> list[dict[str, Any]]:
    raw = read_raw(spark, [InputFile(path.as_uri(), path.stat().st_size, 0)])
    rows = parse_lines(raw, max_line_bytes, window).orderBy("source_line").collect()
    return [r.asDict() for r in rows]


def _line(time_local: str) -> bytes:
    return f'192.0.2.9 - - [{time_local}] "GET / HTTP/1.1" 200 5 "-" "curl/8.5.0"'.encode()


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


def test_event_time_window_includes_both_ends_in_utc(spark: Any, tmp_path: Path) -> None:
    window = EventTimeWindow(
        datetime(2000, 1, 1, tzinfo=UTC), datetime(2024, 10, 10, 12, 0, tzinfo=UTC)
    )
    cases = [
        ("31/Dec/1999:23:59:59 +0000", Reason.OUT_OF_RANGE),
        ("01/Jan/2000:00:00:00 +0000", None),
        ("01/Jan/2000:00:30:00 +0100", Reason.OUT_OF_RANGE),  # 1999-12-31T23:30Z
        ("31/Dec/1999:23:30:00 -0100", None),  # 2000-01-01T00:30Z
        ("10/Oct/2024:12:00:00 +0000", None),
        ("10/Oct/2024:12:00:01 +0000", Reason.OUT_OF_RANGE),
        ("10/Oct/2024:13:00:00 +0100", None),  # 12:00Z
        ("01/Jan/1970:00:00:00 +0000", Reason.OUT_OF_RANGE),  # a clock reset to the epoch
        ("01/Jan/0000:00:00:00 +0000", Reason.OUT_OF_RANGE),
        ("01/Jan/9999:00:00:00 +0000", Reason.OUT_OF_RANGE),
        # Year 10000 in UTC: Python could not even hold the value (the collect() would fail).
        ("31/Dec/9999:23:59:59 -1400", Reason.OUT_OF_RANGE),
    ]
    path = tmp_path / "window.log"
    path.write_bytes(b"\n".join(_line(t) for t, _ in cases) + b"\n")
    rows = _parse_file(spark, path, window=window)
    assert [(t, r["reject_reason"]) for (t, _), r in zip(cases, rows, strict=True)] == cases
    assert all(r["event_time"] is None for r in rows if r["reject_reason"])


def test_without_a_window_the_default_one_around_now_applies(spark: Any, tmp_path: Path) -> None:
    hour_ago = datetime.now(UTC) - timedelta(hours=1)
    in_two_days = datetime.now(UTC) + timedelta(days=2)
    path = tmp_path / "default-window.log"
    path.write_bytes(
        b"\n".join(
            [
                _line(hour_ago.strftime("%d/%b/%Y:%H:%M:%S +0000")),
                _line(in_two_days.strftime("%d/%b/%Y:%H:%M:%S +0000")),
                _line("31/Dec/1999:23:59:59 +0000"),
            ]
        )
        + b"\n"
    )
    reasons = [r["reject_reason"] for r in _parse_file(spark, path)]
    assert reasons == [None, Reason.OUT_OF_RANGE, Reason.OUT_OF_RANGE]


def test_other_time_formats_are_bad_timestamps_not_malformed(spark: Any, tmp_path: Path) -> None:
    good = _line("10/Oct/2024:13:55:36 +0000")
    cases = [
        (_line("2024-10-10T13:55:36+00:00"), Reason.BAD_TIMESTAMP),  # nginx's $time_iso8601
        (_line("10/Oct/2024:13:55:36"), Reason.BAD_TIMESTAMP),  # no offset
        (_line("10/Oct/2024 13:55:36 +0000"), Reason.BAD_TIMESTAMP),
        (_line("Thu Oct 10 13:55:36 2024"), Reason.BAD_TIMESTAMP),  # Apache error-log style
        (_line("1728568536"), Reason.BAD_TIMESTAMP),  # epoch seconds
        (_line(""), Reason.BAD_TIMESTAMP),
        (_line("10/Oct/2024:13:55:36 +05:30"), Reason.BAD_TIMESTAMP),
        (_line("1/Oct/2024:13:55:36 +0000"), Reason.BAD_TIMESTAMP),
        (_line("10/Oct/2024:13:55:36 +1900"), Reason.BAD_TIMESTAMP),  # java.time stops at 18h
        (_line("10/Oct/2024:13:55:36 -1800"), None),
        # Not the timestamp's fault: the client address or the start of the line is wrong.
        (good.replace(b"192.0.2.9", b"example.com"), Reason.MALFORMED),
        (b"\x00\x00\x00" + good, Reason.MALFORMED),  # the tail of a NUL-filled block
        (b"\xef\xbb\xbf" + good, Reason.MALFORMED),  # a UTF-8 byte-order mark
    ]
    path = tmp_path / "formats.log"
    path.write_bytes(b"\n".join(line for line, _ in cases) + b"\n")
    reasons = [r["reject_reason"] for r in _parse_file(spark, path)]
    assert reasons == [reason for _, reason in cases]
