"""The whole job on the `timed` log format (main + `$request_time $upstream_response_time`).

Generated `timed` logs go through the embedded runtime with `etl.log_format = "timed"`. The
tables, read back with PyIceberg, must match the independent computation of
tests/pipeline/reference.py (its pattern takes the combined fields of any line that starts
like combined), and every timing column must equal what a separate regular expression here
reads from the same raw lines, with the upstream lists summed in plain Python.
"""

from __future__ import annotations

import gzip
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from generator import TrafficSpec, generate
from spark import tables
from spark.job import run_etl
from tests.pipeline import reference
from tests.pipeline.checks import assert_tables_match_input, input_dir, table_rows

pytestmark = [pytest.mark.spark, pytest.mark.slow]

TOP_N = 5
# Rejected under `timed` and by the reference alike.
HOSTILE = [
    b"",
    b'203.0.113.15 - - [08/Oct/2024:13:55:45 +0000] "GET / HTTP/1.1" 200 612 "-" "Mozil',
    b'203.0.113.17 - - [08/Foo/2024:13:55:36 +0000] "GET / HTTP/1.1" 200 1 "-" "-" "-" 0.1 -',
]
# Accepted: an upstream retried on a second server, then an internal redirect.
RETRIED = (
    b'198.51.100.7 - - [08/Oct/2024:12:00:00 +0000] "GET /r HTTP/1.1" 200 42 "-" "curl/8.5.0" '
    b'"-" 0.250 -, 0.120 : 0.030'
)
TAIL = re.compile(r'"(-|[^"]*)" (\d+\.\d{3}) (-|[-0-9., :]+)$')


def _expected_timings(root: Path) -> dict[tuple[str, int], tuple[Any, ...]]:
    """(file, line) -> (forwarded_for, request_time, upstream total) of every accepted line."""
    out = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        for number, raw in enumerate(reference.read_lines(path), start=1):
            match = TAIL.search(raw.decode("utf-8", "replace"))
            if not match:
                continue
            xff, request, upstream = match.groups()
            times = [Decimal(t) for t in re.split(r", | : ", upstream) if t != "-"]
            out[(f"file:{path}", number)] = (
                None if xff == "-" else xff,
                Decimal(request),
                sum(times) if times else None,
            )
    return out


def test_timed_logs_end_to_end(spark: Any, warehouse: Any) -> None:
    etl = warehouse.etl.model_copy(update={"top_n": TOP_N, "log_format": "timed"})
    settings = warehouse.model_copy(update={"etl": etl})
    raw = input_dir(settings)
    spec = TrafficSpec(start=date(2024, 10, 7), days=2, lines=6_000, seed=5, log_format="timed")
    generate(spec, str(raw))
    with gzip.open(raw / "odd.log.gz", "wb") as out:
        out.write(b"\n".join([*HOSTILE, RETRIED]) + b"\n")

    result = run_etl(settings, spark=spark)
    counts = assert_tables_match_input(settings, TOP_N)
    assert (result.accepted, result.rejected) == (counts["accepted"], counts["rejected"])
    assert result.rejected == len(HOSTILE)

    rows = table_rows(settings, tables.ACCESS_LOGS)
    expected = _expected_timings(raw)
    got = {
        (r["source_file"], r["source_line"]): (
            r["forwarded_for"],
            r["request_time"],
            r["upstream_response_time"],
        )
        for r in rows
    }
    assert got == expected
    retried = next(r for r in rows if r["path"] == "/r")
    assert (retried["request_time"], retried["upstream_response_time"]) == (
        Decimal("0.250"),
        Decimal("0.150"),
    )
    # Some of everything the generator writes: no upstream, lists, proxies.
    assert any(r["upstream_response_time"] is None for r in rows)
    assert any(r["forwarded_for"] for r in rows)
    assert all(r["host"] is None and r["extra"] is None for r in rows)

    # Latency per day and week, site and top paths, against the times read above.
    hits = [h for path in sorted(p for p in raw.rglob("*") if p.is_file())
            for h in reference.parse(path, settings.etl)[0]]  # fmt: skip
    timings = {key: (request, upstream) for key, (_xff, request, upstream) in expected.items()}
    slow = settings.etl.slow_request_seconds
    for name, period, period_of in (
        (tables.Table.DAILY_LATENCY, "day", reference.by_day),
        (tables.Table.WEEKLY_LATENCY, "week_start", reference.by_week),
    ):
        want = reference.latency(hits, timings, period_of, TOP_N, slow)
        got = {(r[period], r["rank"]): r for r in table_rows(settings, name)}
        assert set(got) == set(want), name
        for key, expected_row in want.items():
            row = got[key]
            for column, value in expected_row.items():
                if isinstance(value, tuple):  # a sketch's quantile: within its bounds
                    assert value[0] <= row[column] <= value[1], (name, key, column)
                elif isinstance(value, float):
                    assert round(row[column], 9) == value, (name, key, column)
                else:
                    assert row[column] == value, (name, key, column)
        # Enough lines per day that the site's sketch summarises, not lists, its times.
        assert max(r["requests"] for r in want.values()) > reference.KLL_EXACT

    # A later file of the same day in a format without $request_time: the day's other
    # reports count it, and the latency tables keep their rows without a new commit.
    snapshots = {
        name: spark.sql(f"SELECT count(*) AS n FROM {settings.table(name)}.snapshots").first().n
        for name in (tables.Table.DAILY_LATENCY, tables.Table.WEEKLY_LATENCY)
    }
    latency = {name: table_rows(settings, name) for name in snapshots}
    traffic = {r["day"]: r["requests"] for r in table_rows(settings, tables.Table.DAILY_TRAFFIC)}
    with gzip.open(raw / "later.log.gz", "wb") as out:
        out.write(RETRIED.rsplit(b' "-" ', 1)[0] + b"\n")  # the same line, as `combined`
    combined = settings.model_copy(
        update={"etl": settings.etl.model_copy(update={"log_format": "combined"})}
    )
    later = run_etl(combined, spark=spark)
    assert (later.accepted, later.rejected) == (1, 0)
    after = {r["day"]: r["requests"] for r in table_rows(settings, tables.Table.DAILY_TRAFFIC)}
    assert after == {**traffic, date(2024, 10, 8): traffic[date(2024, 10, 8)] + 1}
    for name, count in snapshots.items():
        query = f"SELECT count(*) AS n FROM {settings.table(name)}.snapshots"
        assert spark.sql(query).first().n == count, name
        assert table_rows(settings, name) == latency[name], name
