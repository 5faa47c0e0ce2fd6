"""Benchmark: the parser's cost per extra `log_format` field.

    python -m benchmarks.formats --lines 1000000      (or: python -m benchmarks.run --formats)

The same traffic (same seed) is written as `combined`, `main` (+ `$http_x_forwarded_for`)
and `timed` (+ `$request_time $upstream_response_time`), and only the parser runs over
each, in one Spark session: `parse_lines` with every output column computed and discarded
(the `noop` sink); an untimed round first, then `repeats` rounds with the formats in turn,
best of each. What the extra fields cost is the time over `combined` divided by the number
of fields the format adds.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pyspark.sql import SparkSession

from core import runtimes
from core.log_format import parse_log_format
from generator import TrafficSpec, generate
from spark.inputs import InputFile, read_raw
from spark.parse import parse_lines
from spark.session import build_session

FORMATS = ("combined", "main", "timed")


@dataclass
class FormatResult:
    log_format: str
    fields: int  # variables in the format
    raw_mb: float
    parse_s: float


def parse_seconds(spark: SparkSession, files: list[Path], log_format: str) -> float:
    """Time of the parser alone over `files` (every column computed, nothing written)."""
    # Hadoop paths, as the job lists them (as_uri() would escape the `=` of dt=...).
    inputs = [InputFile(f"file:{p}", p.stat().st_size, 0) for p in files]
    start = time.perf_counter()
    parse_lines(read_raw(spark, inputs), 65536, log_format=log_format).write.format("noop").mode(
        "overwrite"
    ).save()
    return time.perf_counter() - start


def run_formats(lines: int, work: Path, repeats: int = 2) -> list[FormatResult]:
    root = work / f"formats-{lines}"
    shutil.rmtree(root, ignore_errors=True)
    files: dict[str, list[Path]] = {}
    # All files first, one generator process: its workers and a running JVM together
    # could exhaust a small machine's memory.
    for log_format in FORMATS:
        out = root / log_format
        spec = TrafficSpec(
            start=date(2024, 10, 7), days=1, lines=lines, seed=1, log_format=log_format
        )
        generate(spec, str(out), workers=1)
        files[log_format] = sorted(out.rglob("*.gz"))
    spark = build_session(runtimes.embedded(root))
    best = dict.fromkeys(files, float("inf"))
    try:
        # One untimed round warms the JIT for every format; then the formats take turns, so
        # that a slow spell of a shared machine falls on all of them, not on one.
        for round_ in range(repeats + 1):
            for log_format, paths in files.items():
                seconds = parse_seconds(spark, paths, log_format)
                if round_:
                    best[log_format] = min(best[log_format], seconds)
    finally:
        spark.stop()
    return [
        FormatResult(
            log_format,
            len(parse_log_format(log_format).variables),
            sum(len(gzip.decompress(p.read_bytes())) for p in paths) / 1e6,
            best[log_format],
        )
        for log_format, paths in files.items()
    ]


def report(lines: int, results: list[FormatResult]) -> str:
    base = results[0]
    out = [
        f"### Parser cost per extra log_format field ({lines:,} lines, best of warm runs)",
        "",
        "| format | fields | raw MB | parse s | ns/line | extra fields | ns/line per extra field |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        extra = r.fields - base.fields
        per_line = r.parse_s / lines * 1e9
        per_field = f"{(r.parse_s - base.parse_s) / lines * 1e9 / extra:,.0f}" if extra else "—"
        out.append(
            f"| {r.log_format} | {r.fields} | {r.raw_mb:,.0f} | {r.parse_s:.2f} | "
            f"{per_line:,.0f} | {extra} | {per_field} |"
        )
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--work", type=Path, default=Path("var/bench"))
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    print(report(args.lines, run_formats(args.lines, args.work, args.repeats)))


if __name__ == "__main__":
    main()
