"""The parser on formats other than `combined`: the named ones' conformance cases in
tests/data/<name>-cases.jsonl, and format strings as users copy them from nginx.conf."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from spark.inputs import InputFile, read_raw
from spark.parse import ACCESS_FIELDS, Reason, parse_lines
from tests.conftest import TESTDATA
from tests.spark.test_parse import REASON_OF_WHY

pytestmark = pytest.mark.spark

FORMATS_WITH_CASES = ("main", "timed", "vhost")


def _parse(spark: Any, path: Path, lines: list[str], log_format: str) -> list[dict[str, Any]]:
    path.write_bytes(b"".join(line.encode() + b"\n" for line in lines))
    raw = read_raw(spark, [InputFile(path.as_uri(), path.stat().st_size, 0)])
    parsed = parse_lines(raw, 65536, log_format=log_format)
    return [r.asDict() for r in parsed.orderBy("source_line").collect()]


def _comparable(field: str, row: dict[str, Any]) -> Any:
    if field == "event_time_utc":
        return row["event_time"].strftime("%Y-%m-%dT%H:%M:%SZ")
    value = row[field]
    # Seconds are DECIMAL(10,3); the cases write them as strings ("0.016").
    return str(value) if isinstance(value, Decimal) else value


@pytest.mark.parametrize("log_format", FORMATS_WITH_CASES)
def test_conformance_cases_of_each_named_format(
    spark: Any, tmp_path: Path, log_format: str
) -> None:
    text = (TESTDATA / f"{log_format}-cases.jsonl").read_text()
    cases = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert len(cases) >= 6
    rows = _parse(spark, tmp_path / "cases.log", [c["line"] for c in cases], log_format)
    failures = []
    for case, row in zip(cases, rows, strict=True):
        if not case["accept"]:
            if row["reject_reason"] != REASON_OF_WHY[case["why"]]:
                failures.append(f"{case['case']}: reason {row['reject_reason']!r}")
            continue
        if row["reject_reason"] is not None:
            failures.append(f"{case['case']}: rejected as {row['reject_reason']}")
            continue
        for field, expected in case["fields"].items():
            got = _comparable(field, row)
            if got != expected:
                failures.append(f"{case['case']}: {field} = {got!r:.60}, expected {expected!r:.60}")
    assert not failures, "\n".join(failures)


CUSTOM = (
    "log_format api escape=json '$remote_addr:$remote_port [$time_iso8601] $msec "
    '"$request" $status $body_bytes_sent $bytes_sent $request_length '
    "rid=$request_id tls=$ssl_protocol srv=$server_name up=$upstream_addr "
    'ct=$upstream_connect_time ht=$upstream_header_time "$http_x_custom" ${geoip_country}\';'
)


def test_a_custom_directive_with_every_kind_of_variable(spark: Any, tmp_path: Path) -> None:
    lines = [
        '203.0.113.7:51234 [2024-10-10T15:55:36+02:00] 1728568536.250 "GET /a HTTP/1.1" 200 5 '
        "310 420 rid=7f3a9c tls=TLSv1.3 srv=api.example.com up=10.0.0.9:8080 ct=0.001 "
        'ht=0.003, 0.002 "x \\"quoted\\" y" NL',
        '198.51.100.2:443 [2024-10-10T13:55:36+00:00] 1728568536.000 "-" 400 0 0 0 rid=- '
        'tls=- srv=_ up=- ct=- ht=- "-" -',
        # $time_iso8601 in nginx's form only: a space for the `T` is a bad timestamp.
        '203.0.113.7:1 [2024-10-10 13:55:36+00:00] 1728568536.000 "-" 400 0 0 0 rid=- '
        'tls=- srv=_ up=- ct=- ht=- "-" -',
        # A second time variable is checked, even though the first sets the event time.
        '203.0.113.7:1 [2024-10-10T13:55:36+00:00] 17285685.36 "-" 400 0 0 0 rid=- '
        'tls=- srv=_ up=- ct=- ht=- "-" -',
        '203.0.113.7:70000 [2024-10-10T13:55:36+00:00] 1728568536.000 "-" 400 0 0 0 rid=- '
        'tls=- srv=_ up=- ct=- ht=- "-" -',
    ]
    rows = _parse(spark, tmp_path / "custom.log", lines, CUSTOM)
    first, second = rows[0], rows[1]
    assert first["reject_reason"] is None
    assert {k: _comparable(k, first) for k in first if k in ACCESS_FIELDS} == {
        "event_time": first["event_time"],
        "client_ip": "203.0.113.7",
        "remote_user": None,
        "method": "GET",
        "path": "/a",
        "protocol": "HTTP/1.1",
        "status": 200,
        "body_bytes": 5,
        "referrer": None,
        "user_agent": None,
        "host": None,
        "server_name": "api.example.com",
        "remote_port": 51234,
        "forwarded_for": None,
        "request_id": "7f3a9c",
        "scheme": None,
        "ssl_protocol": "TLSv1.3",
        "ssl_cipher": None,
        "request_length": 420,
        "bytes_sent": 310,
        "request_time": None,
        "upstream_addr": "10.0.0.9:8080",
        "upstream_status": None,
        "upstream_connect_time": "0.001",
        "upstream_header_time": "0.005",
        "upstream_response_time": None,
        # escape=json writes `"` as `\"`: kept as logged, like every string.
        "extra": {"http_x_custom": 'x \\"quoted\\" y', "geoip_country": "NL"},
    }
    assert first["event_time"].strftime("%Y-%m-%dT%H:%M:%S") == "2024-10-10T13:55:36"
    assert second["reject_reason"] is None
    assert (second["client_ip"], second["remote_port"]) == ("198.51.100.2", 443)
    assert second["method"] is None and second["ssl_protocol"] is None
    assert second["extra"] == {"http_x_custom": None, "geoip_country": None}
    assert [r["reject_reason"] for r in rows[2:]] == [
        Reason.BAD_TIMESTAMP,
        Reason.MALFORMED,
        Reason.MALFORMED,
    ]


def test_msec_sets_the_event_time_to_the_millisecond(spark: Any, tmp_path: Path) -> None:
    fmt = '$msec $remote_addr "$request" $status $body_bytes_sent'
    rows = _parse(
        spark,
        tmp_path / "msec.log",
        ['1728568536.250 192.0.2.1 "GET / HTTP/1.1" 200 5', '1728568536 192.0.2.1 "-" 200 5'],
        fmt,
    )
    assert rows[0]["event_time"].strftime("%Y-%m-%dT%H:%M:%S.%f") == "2024-10-10T13:55:36.250000"
    assert rows[1]["reject_reason"] == Reason.BAD_TIMESTAMP


def test_combined_leaves_the_other_columns_null(spark: Any, tmp_path: Path) -> None:
    line = '192.0.2.9 - - [10/Oct/2024:13:55:36 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8.5.0"'
    (row,) = _parse(spark, tmp_path / "c.log", [line], "combined")
    assert row["reject_reason"] is None
    others = set(ACCESS_FIELDS) - {
        "event_time", "client_ip", "method", "path", "protocol", "status", "body_bytes",
        "user_agent",
    }  # fmt: skip
    assert {k: row[k] for k in others} == dict.fromkeys(others)
