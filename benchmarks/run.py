"""Benchmark: generator and ETL against baselines, in one run, on the same files.

    python -m benchmarks.run --lines 100000 --lines 1000000 [--lines 10000000]

For each size: generate the logs (timed), then on the same files time
  1. the decompression bound: read every gzip file and count lines (one process per core);
  2. a single-node peer: DuckDB parsing the same lines and computing daily/weekly top IPs;
  3. the ETL on the embedded runtime, per stage;
and, for the generator, a gzip-only baseline: compressing the same bytes at the same level.
Prints lines/s (per core), MB/s of raw input, peak RSS of the JVM and of Python, and ratios.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import shutil
import threading
import time
import zlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import psutil

CORES = os.cpu_count() or 1
GZIP_LEVEL = 1  # what the generator writes with (generator/writer.py)


@dataclass
class SizeResult:
    lines: int
    files: int
    raw_mb: float
    gzip_mb: float
    generate_s: float
    gzip_only_s: float
    decompress_s: float
    duckdb_s: float
    etl_s: float
    etl_stages: dict[str, float] = field(default_factory=dict)
    spark_start_s: float = 0.0
    peak_jvm_mb: float = 0.0
    peak_python_mb: float = 0.0


class PeakRss:
    """Samples the RSS of this process and, separately, of its child JVM."""

    def __init__(self) -> None:
        self.python = 0
        self.jvm = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.wait(0.2):
            self.python = max(self.python, me.memory_info().rss)
            jvm = sum(
                c.memory_info().rss for c in me.children(recursive=True) if "java" in c.name()
            )
            self.jvm = max(self.jvm, jvm)


def _count_lines(path: str) -> tuple[int, int]:
    """(lines, raw bytes) of one gzip file, streaming."""
    decompressor = zlib.decompressobj(wbits=31)
    lines = raw = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            data = decompressor.decompress(chunk)
            lines += data.count(b"\n")
            raw += len(data)
    return lines, raw


def _gzip_only(path: str) -> int:
    """Re-compress a file's raw bytes at the generator's level; returns the raw size."""
    data = gzip.decompress(Path(path).read_bytes())
    zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31).compress(data)
    return len(data)


def decompression_bound(files: list[str]) -> tuple[float, int, int]:
    start = time.perf_counter()
    with ProcessPoolExecutor(CORES) as pool:
        counts = list(pool.map(_count_lines, files))
    return time.perf_counter() - start, sum(c[0] for c in counts), sum(c[1] for c in counts)


def gzip_baseline(files: list[str]) -> float:
    """Time to gzip the same raw bytes (decompression is excluded: done before timing)."""
    raws = []
    for path in files:
        raws.append(gzip.decompress(Path(path).read_bytes()))
    start = time.perf_counter()
    with ProcessPoolExecutor(CORES) as pool:
        list(pool.map(_compress, raws, chunksize=1))
    return time.perf_counter() - start


def _compress(data: bytes) -> int:
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
    return len(compressor.compress(data) + compressor.flush())


DUCKDB_SQL = """
CREATE TABLE parsed AS
WITH raw AS (
  SELECT line FROM read_csv({files}, columns={{'line': 'VARCHAR'}}, header=false,
                            delim=E'\\x01', quote='', escape='', compression='gzip',
                            parallel=true)
), parts AS (
  SELECT string_split(line, '"') AS p FROM raw
)
SELECT
  split_part(p[1], ' ', 1) AS client_ip,
  strptime(substr(split_part(p[1], '[', 2), 1, 26), '%d/%b/%Y:%H:%M:%S %z') AS event_time,
  TRY_CAST(split_part(trim(p[3]), ' ', 2) AS BIGINT) AS body_bytes,
  p[6] AS user_agent
FROM parts WHERE len(p) >= 7;
CREATE TABLE ip_day AS
  SELECT CAST(event_time AS DATE) AS day, client_ip, count(*) AS requests,
         sum(body_bytes) AS bytes
  FROM parsed GROUP BY ALL;
CREATE TABLE daily_top AS
  SELECT * FROM ip_day
  QUALIFY row_number() OVER (PARTITION BY day ORDER BY requests DESC, bytes DESC,
                             client_ip) <= 10;
CREATE TABLE weekly_top AS
  SELECT * FROM (
    SELECT date_trunc('week', day) AS week_start, client_ip, sum(requests) AS requests,
           sum(bytes) AS bytes
    FROM ip_day GROUP BY ALL
  )
  QUALIFY row_number() OVER (PARTITION BY week_start ORDER BY requests DESC, bytes DESC,
                             client_ip) <= 10;
"""


def duckdb_peer(files: list[str], out: Path) -> float:
    """DuckDB parses the same lines and computes daily/weekly top IPs (+ Parquet by day)."""
    start = time.perf_counter()
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    con.execute(f"SET threads={CORES}")
    con.execute(DUCKDB_SQL.format(files=json.dumps(files)))
    con.execute(
        f"COPY (SELECT *, CAST(event_time AS DATE) AS day FROM parsed) TO '{out}' "
        "(FORMAT parquet, COMPRESSION zstd, PARTITION_BY (day), OVERWRITE_OR_IGNORE)"
    )
    con.close()
    return time.perf_counter() - start


def run_size(lines: int, work: Path) -> SizeResult:
    from generator import TrafficSpec, generate
    from lakehouse import runtimes
    from spark.job import run_etl
    from spark.session import build_session

    root = work / f"lines-{lines}"
    shutil.rmtree(root, ignore_errors=True)
    settings = runtimes.embedded(root)
    input_dir = Path(settings.storage.input_uri.removeprefix("file://"))
    spec = TrafficSpec(start=date(2024, 10, 7), days=2, lines=lines, seed=1)
    gen = generate(spec, str(input_dir))
    files = sorted(str(p) for p in input_dir.rglob("*.gz"))

    gzip_s = gzip_baseline(files)
    decompress_s, counted, raw_bytes = decompression_bound(files)
    assert counted == lines, (counted, lines)
    duck_s = duckdb_peer(files, root / "duckdb")

    with PeakRss() as rss:
        start = time.perf_counter()
        spark = build_session(settings)
        spark_start = time.perf_counter() - start
        etl = run_etl(settings, spark=spark)
        spark.stop()
    assert etl.lines_read == lines, (etl.lines_read, lines)
    return SizeResult(
        lines=lines,
        files=len(files),
        raw_mb=raw_bytes / 1e6,
        gzip_mb=sum(os.path.getsize(f) for f in files) / 1e6,
        generate_s=gen.seconds,
        gzip_only_s=gzip_s,
        decompress_s=decompress_s,
        duckdb_s=duck_s,
        etl_s=etl.seconds,
        etl_stages=etl.stage_seconds,
        spark_start_s=spark_start,
        peak_jvm_mb=rss.jvm / 1e6,
        peak_python_mb=rss.python / 1e6,
    )


def report(results: list[SizeResult]) -> str:
    mem = psutil.virtual_memory().total / 2**30
    out = [
        f"machine: {platform.processor() or platform.machine()}, {CORES} cores, "
        f"{mem:.0f} GiB, Python {platform.python_version()}",
        "",
        "| lines | files | raw MB | generate l/s/core | gzip-only ratio | decompress bound l/s | "
        "DuckDB s | ETL s (excl. start) | ETL l/s | ETL/bound | ETL/DuckDB time | "
        "peak JVM MB | peak Python MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        gen_rate = r.lines / r.generate_s
        bound_rate = r.lines / r.decompress_s
        etl_rate = r.lines / r.etl_s
        out.append(
            f"| {r.lines:,} | {r.files} | {r.raw_mb:,.0f} | {gen_rate / CORES:,.0f} | "
            f"{r.gzip_only_s / r.generate_s:.2f} | {bound_rate:,.0f} | {r.duckdb_s:.1f} | "
            f"{r.etl_s:.1f} | {etl_rate:,.0f} | {etl_rate / bound_rate:.1%} | "
            f"{r.etl_s / r.duckdb_s:.2f}x | {r.peak_jvm_mb:,.0f} | {r.peak_python_mb:,.0f} |"
        )
    out.append("")
    out.append("ETL stages (seconds; lines/s in brackets):")
    for r in results:
        stages = ", ".join(
            f"{name} {secs:.1f} [{r.lines / secs:,.0f}]" if secs > 0 else f"{name} 0"
            for name, secs in r.etl_stages.items()
        )
        out.append(f"- {r.lines:,} lines: Spark start {r.spark_start_s:.1f}; {stages}")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, action="append", help="repeatable")
    parser.add_argument("--work", type=Path, default=Path("var/bench"))
    parser.add_argument("--json", type=Path, help="also write raw results here")
    args = parser.parse_args()
    results = [run_size(n, args.work) for n in (args.lines or [100_000, 1_000_000])]
    print(report(results))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2))


if __name__ == "__main__":
    main()
