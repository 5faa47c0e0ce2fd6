"""Property-based tests of the parser (Hypothesis), run in batches through Spark.

Well-formed lines built from random fields must parse back to those fields; arbitrary
bytes must never crash the parser and must end up accepted or rejected with a reason.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from core.settings import EventTimeWindow
from spark.inputs import InputFile, read_raw
from spark.parse import Reason, parse_lines

pytestmark = pytest.mark.spark

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
# Printable ASCII without the quote and backslash; nginx escapes those (\x22, \x5C).
SAFE = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters='"\\'))
TOKEN = st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters='"\\'),
    min_size=1,
    max_size=20,
)


def nginx_escape(text: str) -> str:
    """nginx's escaping of a quoted field: `"`, `\\`, control and non-ASCII bytes as \\xHH."""
    return "".join(
        f"\\x{byte:02X}" if byte < 0x20 or byte >= 0x7F or byte in b'"\\' else chr(byte)
        for byte in text.encode("utf-8")
    )


ipv4 = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))
ipv6 = st.lists(st.integers(0, 0xFFFF), min_size=8, max_size=8).map(
    lambda g: ":".join(f"{x:x}" for x in g)
)
moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2037, 12, 31))
# Wide enough for every generated moment at any offset: these tests are about parsing, the
# event-time window has its own tests (test_parse.py).
WINDOW = EventTimeWindow(datetime(1999, 12, 30, tzinfo=UTC), datetime(2038, 1, 2, tzinfo=UTC))
offsets = st.integers(-12 * 4, 14 * 4).map(lambda quarters: quarters * 15)  # minutes


@st.composite
def log_lines(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    ip = draw(st.one_of(ipv4, ipv6))
    user = draw(st.one_of(st.just("-"), TOKEN.filter(lambda u: " " not in u)))
    local = draw(moments).replace(microsecond=0)
    offset = draw(offsets)
    sign = "+" if offset >= 0 else "-"
    stamp = (
        f"{local.day:02d}/{MONTHS[local.month - 1]}/{local.year}:{local:%H:%M:%S} "
        f"{sign}{abs(offset) // 60:02d}{abs(offset) % 60:02d}"
    )
    method = draw(st.sampled_from(["GET", "POST", "HEAD", "PUT", "DELETE", "PROPFIND"]))
    path = "/" + nginx_escape(draw(SAFE))
    protocol = draw(st.sampled_from(["HTTP/1.0", "HTTP/1.1", "HTTP/2.0"]))
    status = draw(st.integers(100, 599))
    size = draw(st.integers(0, 10**12))
    referrer = draw(
        st.one_of(st.just("-"), SAFE.map(nginx_escape).filter(lambda r: r not in ("", "-")))
    )
    agent = draw(
        st.one_of(
            st.just("-"),
            st.text(min_size=1, max_size=80).map(nginx_escape).filter(lambda a: a != "-"),
        )
    )
    request = f"{method} {path} {protocol}"
    line = f'{ip} - {user} [{stamp}] "{request}" {status} {size} "{referrer}" "{agent}"'
    utc = (local - timedelta(minutes=offset)).replace(tzinfo=UTC)
    expected = {
        "client_ip": ip,
        "remote_user": None if user == "-" else user,
        "event_time": utc.replace(tzinfo=None),
        "method": method,
        "path": path,
        "protocol": protocol,
        "status": status,
        "body_bytes": size,
        "referrer": None if referrer == "-" else referrer,
        "user_agent": None if agent == "-" else agent,
    }
    return line, expected


# Each example is one Spark job over 40 lines; shrinking would re-run jobs for minutes.
SPARK_BATCHES = settings(
    max_examples=6,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


def _parse_lines(spark: Any, tmp: Path, lines: list[bytes]) -> list[dict[str, Any]]:
    path = tmp / f"batch-{abs(hash(tuple(lines)))}.log"
    path.write_bytes(b"\n".join(lines) + b"\n")
    raw = read_raw(spark, [InputFile(path.as_uri(), path.stat().st_size, 0)])
    return [r.asDict() for r in parse_lines(raw, 65536, WINDOW).orderBy("source_line").collect()]


@SPARK_BATCHES
@given(st.lists(log_lines(), min_size=40, max_size=40))
def test_well_formed_lines_round_trip(spark: Any, tmp_path: Path, batch: list) -> None:
    rows = _parse_lines(spark, tmp_path, [line.encode() for line, _ in batch])
    for (line, expected), row in zip(batch, rows, strict=True):
        assert row["reject_reason"] is None, line
        assert {k: row[k] for k in expected} == expected, line


_bytes_lines = st.binary(max_size=300).map(lambda b: b.replace(b"\n", b" ").replace(b"\r", b" "))


@SPARK_BATCHES
@given(
    st.lists(
        st.one_of(_bytes_lines, log_lines().map(lambda x: x[0].encode()[: len(x[0]) // 2])),
        min_size=40,
        max_size=40,
    )
)
def test_any_bytes_are_accepted_or_rejected_with_a_reason(
    spark: Any, tmp_path: Path, lines: list[bytes]
) -> None:
    rows = _parse_lines(spark, tmp_path, lines)
    assert len(rows) == len(lines)
    reasons = {getattr(Reason, n) for n in dir(Reason) if n.isupper()}
    for line, row in zip(lines, rows, strict=True):
        if row["reject_reason"] is None:
            assert row["event_time"] is not None and row["client_ip"], line
            assert 100 <= row["status"] <= 599 and row["body_bytes"] >= 0, line
        else:
            assert row["reject_reason"] in reasons, line
