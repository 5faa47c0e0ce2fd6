"""Property-based round trips for every named format (Hypothesis, batches through Spark).

A line is rendered from random values by substituting them into the format's text (not
with the generator), and must parse back to those values, typed.
"""

from __future__ import annotations

import re
from datetime import UTC, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.log_format import NAMED
from spark.inputs import InputFile, read_raw
from spark.parse import parse_lines
from tests.spark.test_parse_properties import (
    MONTHS,
    SAFE,
    SPARK_BATCHES,
    TOKEN,
    WINDOW,
    ipv4,
    ipv6,
    moments,
    nginx_escape,
    offsets,
)

pytestmark = pytest.mark.spark

Values = tuple[str, dict[str, Any]]  # (text in the line, expected columns)


def _dash(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(st.just("-"), strategy.filter(lambda s: s not in ("", "-")))


@st.composite
def _time_local(draw: st.DrawFn) -> Values:
    local = draw(moments).replace(microsecond=0)
    offset = draw(offsets)
    sign = "+" if offset >= 0 else "-"
    stamp = (
        f"{local.day:02d}/{MONTHS[local.month - 1]}/{local.year}:{local:%H:%M:%S} "
        f"{sign}{abs(offset) // 60:02d}{abs(offset) % 60:02d}"
    )
    utc = (local - timedelta(minutes=offset)).replace(tzinfo=UTC)
    return stamp, {"event_time": utc.replace(tzinfo=None)}


@st.composite
def _request(draw: st.DrawFn) -> Values:
    method = draw(st.sampled_from(["GET", "POST", "HEAD", "PUT", "DELETE"]))
    path = "/" + nginx_escape(draw(SAFE))
    protocol = draw(st.sampled_from(["HTTP/1.0", "HTTP/1.1", "HTTP/2.0"]))
    return f"{method} {path} {protocol}", {"method": method, "path": path, "protocol": protocol}


millis = st.integers(0, 10**9)


def _seconds(ms: int) -> str:
    return f"{ms // 1000}.{ms % 1000:03d}"


@st.composite
def _upstream(draw: st.DrawFn) -> Values:
    groups = draw(
        st.lists(st.lists(st.one_of(st.none(), st.integers(0, 10**6)), min_size=1, max_size=3),
                 min_size=1, max_size=2)
    )  # fmt: skip
    text = " : ".join(", ".join("-" if ms is None else _seconds(ms) for ms in g) for g in groups)
    times = [ms for g in groups for ms in g if ms is not None]
    total = Decimal(sum(times)) / 1000 if times else None
    return text, {"upstream_response_time": total}


def _text(column: str, strategy: st.SearchStrategy[str]) -> st.SearchStrategy[Values]:
    return _dash(strategy).map(lambda t: (t, {column: None if t == "-" else t}))


VARIABLES: dict[str, st.SearchStrategy[Values]] = {
    "remote_addr": st.one_of(ipv4, ipv6).map(lambda ip: (ip, {"client_ip": ip})),
    "remote_user": _text("remote_user", TOKEN),
    "time_local": _time_local(),
    "request": _request(),
    "status": st.integers(100, 599).map(lambda s: (str(s), {"status": s})),
    "body_bytes_sent": st.integers(0, 10**12).map(lambda b: (str(b), {"body_bytes": b})),
    "http_referer": _text("referrer", SAFE.map(nginx_escape)),
    "http_user_agent": _text("user_agent", st.text(min_size=1, max_size=60).map(nginx_escape)),
    "http_x_forwarded_for": _text(
        "forwarded_for", st.lists(st.one_of(ipv4, ipv6), min_size=1, max_size=3).map(", ".join)
    ),
    "request_time": millis.map(lambda ms: (_seconds(ms), {"request_time": Decimal(ms) / 1000})),
    "upstream_response_time": st.one_of(
        st.just(("-", {"upstream_response_time": None})), _upstream()
    ),
    "host": st.one_of(
        st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}\.){0,3}[a-z]{2,6}", fullmatch=True),
        ipv6.map(lambda ip: f"[{ip}]"),
    ).map(lambda h: (h, {"host": h})),
}


@st.composite
def lines_of(draw: st.DrawFn, log_format: str) -> tuple[str, dict[str, Any]]:
    expected: dict[str, Any] = {}

    def value(match: re.Match[str]) -> str:
        text, columns = draw(VARIABLES[match.group(1)])
        expected.update(columns)
        return text

    return re.sub(r"\$(\w+)", value, NAMED[log_format]), expected


def _parse(spark: Any, tmp: Path, lines: list[str], log_format: str) -> list[dict[str, Any]]:
    path = tmp / f"batch-{abs(hash(tuple(lines)))}.log"
    path.write_bytes("".join(line + "\n" for line in lines).encode())
    raw = read_raw(spark, [InputFile(path.as_uri(), path.stat().st_size, 0)])
    parsed = parse_lines(raw, 65536, WINDOW, log_format)
    return [r.asDict() for r in parsed.orderBy("source_line").collect()]


@pytest.mark.parametrize("log_format", sorted(NAMED))
def test_rendered_lines_of_each_format_parse_back(
    spark: Any, tmp_path: Path, log_format: str
) -> None:
    @SPARK_BATCHES
    @given(st.lists(lines_of(log_format), min_size=30, max_size=30))
    def round_trip(batch: list[tuple[str, dict[str, Any]]]) -> None:
        rows = _parse(spark, tmp_path, [line for line, _ in batch], log_format)
        for (line, expected), row in zip(batch, rows, strict=True):
            assert row["reject_reason"] is None, line
            assert {k: row[k] for k in expected} == expected, line

    round_trip()
