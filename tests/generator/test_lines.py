"""Every generated line is nginx `combined` as nginx writes it, and the pipeline's
contract (tests/data) reads it the way the reference reader does."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from typing import Any

import pytest

from tests.generator import reference
from tests.generator.conftest import Sample

# Contract cases the pipeline accepts that nginx's own `combined` never writes; the strict
# reference reader rejects them and that is expected (anything else must agree).
NOT_NGINX_COMBINED = {
    'Apache escapes a double quote as \\" (kept as logged)',
    "Apache writes '-' for zero body bytes",
    'nginx\'s packaged `main` format adds "$http_x_forwarded_for" after the user agent: '
    "extra trailing fields are ignored",
    "CRLF line ending",
}


def _contract_fields(record: reference.Record) -> dict[str, Any]:
    return {
        "client_ip": record.client_ip,
        "remote_user": record.remote_user,
        "event_time_utc": record.event_time_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "method": record.method,
        "path": record.path,
        "protocol": record.protocol,
        "status": record.status,
        "body_bytes": record.body_bytes,
        "referrer": record.referrer,
        "user_agent": record.user_agent,
    }


def test_reference_reader_agrees_with_the_pipeline_contract(
    conformance_cases: list[dict[str, Any]],
) -> None:
    """So that 'parses with the reference' implies 'parses with the pipeline's contract'."""
    rejected_but_accepted = set()
    for case in conformance_cases:
        try:
            record = reference.parse(case["line"])
        except reference.Rejected:
            if case["accept"]:
                rejected_but_accepted.add(case["case"])
            continue
        assert case["accept"], f"reference accepts a line the contract rejects: {case['case']}"
        assert _contract_fields(record) == case["fields"], case["case"]
    assert rejected_but_accepted == NOT_NGINX_COMBINED


# An escape of a byte nginx would have written as itself: not canonical.
_NEEDLESS_ESCAPE = re.compile(r"\\x(?!(?:[01][0-9A-F]|22|5C|7F|[89A-F][0-9A-F]))")


def test_every_line_is_strict_combined_and_round_trips(sample: Sample) -> None:
    count = 0
    escaped_fields = set()
    for path, lines in sample.lines.items():
        for line, record in zip(lines, sample.records[path], strict=True):
            # Parsing succeeded in the fixture (reference.parse raises otherwise).
            assert reference.format_record(record) == line
            assert not _NEEDLESS_ESCAPE.search(line), line
            escaped_fields.update(v for v in record.raw.values() if "\\x" in v)
            count += 1
    assert count == sample.spec.lines
    # Unescaping then escaping by nginx's rule gives the logged text back.
    for logged in escaped_fields:
        assert reference.nginx_escape(reference.unescape(logged)) == logged


def test_addresses_are_canonical_ipv4_or_ipv6(sample: Sample) -> None:
    versions = set()
    for address in {r.client_ip for r in sample.all_records()}:
        parsed = ipaddress.ip_address(address)
        assert str(parsed) == address  # canonical text form, as nginx writes it
        versions.add(parsed.version)
    assert versions == {4, 6}


def test_lines_fall_in_their_files_utc_hour_in_time_order(sample: Sample) -> None:
    for path, records in sample.records.items():
        day = path.parent.parent.name.removeprefix("dt=")
        hour = int(path.parent.name.removeprefix("hour="))
        start = dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=dt.UTC)
        times = [r.event_time_utc for r in records]
        assert times == sorted(times), path
        assert start <= times[0] and times[-1] < start + dt.timedelta(hours=1), path


def test_requests_and_fields_look_like_real_traffic(sample: Sample) -> None:
    records = sample.all_records()
    methods = {r.method for r in records}
    assert {"GET", "POST", "HEAD", None} <= methods
    assert {r.protocol for r in records} >= {"HTTP/1.1", "HTTP/2.0", "HTTP/1.0"}
    assert all(r.path is None or r.path.startswith("/") or r.method == "CONNECT" for r in records)
    # Requests that are not HTTP at all still make valid lines (TLS hello, empty request).
    raw_requests = {r.raw["request"] for r in records if r.method is None}
    assert "-" in raw_requests
    assert any(req.startswith("\\x16\\x03\\x01") for req in raw_requests)


@pytest.mark.parametrize("needle", ["\\x22", "\\x5C", "\\xC3\\xA9", "\\x09"])
def test_escaped_bytes_occur_in_generated_lines(sample: Sample, needle: str) -> None:
    """Quotes, backslashes, UTF-8 and control bytes from clients are written escaped."""
    assert any(needle in line for lines in sample.lines.values() for line in lines)


@pytest.mark.parametrize("offset", [345, -570, 60])
def test_non_utc_servers_log_local_time_with_their_offset(tmp_path: Any, offset: int) -> None:
    from generator import TrafficSpec, generate
    from tests.generator.conftest import gz_files, read_lines

    spec = TrafficSpec(
        start=dt.date(2023, 12, 31), days=1, lines=3_000, seed=5, utc_offset_minutes=offset
    )
    generate(spec, str(tmp_path), workers=1)
    sign = "-" if offset < 0 else "+"
    suffix = f"{sign}{abs(offset) // 60:02d}{abs(offset) % 60:02d}]"
    total = 0
    for path in gz_files(tmp_path):
        hour = int(path.parent.name.removeprefix("hour="))
        start = dt.datetime(2023, 12, 31, hour, tzinfo=dt.UTC)
        for line in read_lines(path):
            record = reference.parse(line)
            assert suffix in line
            assert record.offset_minutes == offset
            assert start <= record.event_time_utc < start + dt.timedelta(hours=1)
            total += 1
    assert total == spec.lines
