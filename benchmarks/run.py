"""Benchmark: generator and ETL against baselines, in one run, on the same files.

    python -m benchmarks.run --lines 100000 --lines 1000000 [--lines 10000000]

For each size: generate the logs (timed), then on the same files time
  1. the decompression bound: read every gzip file and count lines (one process per core);
  2. the old single-node peer: DuckDB parsing the same lines and computing daily/weekly top
     IPs only (kept for comparison with earlier figures);
  3. the honest peer (benchmarks/peer.py): DuckDB doing the ETL's work, part by part;
  4. the ETL on the embedded runtime, per stage;
and, for the generator, a gzip-only baseline: compressing the same bytes at the same level.
Prints lines/s (per core), MB/s of raw input, peak RSS of the JVM and of Python, and ratios.
The goal (issue #15): the ETL's first load within 3x of the honest peer (moonshot 1.5x).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
import zlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import psutil

from benchmarks.peer import honest_peer
from core.names import Stage

CORES = os.cpu_count() or 1
GZIP_LEVEL = 1  # what the generator writes with (generator/writer.py)
# ETL time / honest peer time (issue #15).
PEER_GOAL, PEER_MOONSHOT = 3.0, 1.5


@dataclass
class SizeResult:
    lines: int
    files: int
    raw_mb: float
    gzip_mb: float
    generate_s: float
    gzip_only_s: float
    decompress_s: float
    duckdb_s: float  # the old peer: parse + daily/weekly top IPs only
    honest_peer_s: float  # the peer doing the ETL's work (benchmarks/peer.py)
    etl_s: float
    etl_stages: dict[str, float] = field(default_factory=dict)
    honest_peer_parts: dict[str, float] = field(default_factory=dict)
    spark_start_s: float = 0.0
    peak_jvm_mb: float = 0.0
    peak_python_mb: float = 0.0
    # Other work on the machine skews every timing: recorded, so a reader can judge.
    load_before: float = 0.0


class PeakRss:
    """Samples the RSS of a process (the Python driver) and, separately, of its JVMs."""

    def __init__(self, process: psutil.Process) -> None:
        self.process = process
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
        while not self._stop.wait(0.2):
            try:
                self.python = max(self.python, self.process.memory_info().rss)
                children = self.process.children(recursive=True)
                jvm = sum(c.memory_info().rss for c in children if "java" in c.name())
            except psutil.Error:  # the process or a child ended between two calls
                continue
            self.jvm = max(self.jvm, jvm)


def etl_in_fresh_process(
    root: Path, max_files_per_batch: int | None = None
) -> tuple[dict[str, Any], PeakRss]:
    """The ETL as `lakehouse etl` runs it: its own Python process and a cold JVM."""
    limit = [] if max_files_per_batch is None else [str(max_files_per_batch)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.etl_once", str(root), *limit],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    with PeakRss(psutil.Process(proc.pid)) as rss:
        out, _ = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"the ETL run failed (exit {proc.returncode}): {out[-2000:]}")
    return json.loads(out.strip().splitlines()[-1]), rss


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
    """The old peer: DuckDB parses the same lines and computes daily/weekly top IPs (+ Parquet
    by day). It does less than the ETL (no rejects, no User-Agents, two reports); kept so
    that its figure stays comparable with earlier runs."""
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
    from core import runtimes
    from generator import TrafficSpec, generate

    load_before = os.getloadavg()[0]
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
    peer = honest_peer(files, root / "peer", settings.etl)

    etl, rss = etl_in_fresh_process(root)
    assert etl["lines_read"] == lines, (etl["lines_read"], lines)
    # The same work: the peer keeps exactly the lines the ETL keeps.
    assert peer.accepted == etl["accepted"], (peer.accepted, etl["accepted"])
    return SizeResult(
        lines=lines,
        files=len(files),
        raw_mb=raw_bytes / 1e6,
        gzip_mb=sum(os.path.getsize(f) for f in files) / 1e6,
        generate_s=gen.seconds,
        gzip_only_s=gzip_s,
        decompress_s=decompress_s,
        duckdb_s=duck_s,
        honest_peer_s=peer.total_s,
        etl_s=etl["etl_s"],
        etl_stages=etl["etl_stages"],
        honest_peer_parts=peer.seconds,
        spark_start_s=etl["spark_start_s"],
        peak_jvm_mb=rss.jvm / 1e6,
        peak_python_mb=rss.python / 1e6,
        load_before=load_before,
    )


# The stages, as groups of the ETL's own stage names (EtlResult.stage_seconds).
STAGE_GROUPS = {
    "parse + enrich": (Stage.PARSE, Stage.CLASSIFY_USER_AGENTS),
    "Iceberg write": (
        Stage.CREATE_TABLES,
        Stage.LIST_INPUT,
        Stage.WRITE_ROWS,
        Stage.RECORD_INGESTED_FILES,
    ),
    "reports": (Stage.WRITE_REPORTS,),
}


def _grouped(stages: dict[str, float]) -> dict[str, float]:
    grouped = {g: sum(stages.get(n, 0.0) for n in names) for g, names in STAGE_GROUPS.items()}
    known = {n for names in STAGE_GROUPS.values() for n in names}
    other = sum(v for k, v in stages.items() if k not in known)
    return grouped | ({"other": other} if other else {})


def _row(name: str, seconds: float, r: SizeResult, cores: int) -> str:
    rate = r.lines / seconds if seconds else 0.0
    return (
        f"| {name} | {seconds:.2f} | {rate:,.0f} | {rate / cores:,.0f} | "
        f"{r.raw_mb / seconds if seconds else 0:,.1f} |"
    )


def size_report(r: SizeResult) -> list[str]:
    """One size: every timed step with lines/s, per core and MB/s of raw input."""
    out = [
        f"### {r.lines:,} lines: {r.files} files, {r.raw_mb:,.0f} MB raw, {r.gzip_mb:,.0f} MB gzip",
        "",
        "| step | seconds | lines/s | lines/s/core | raw MB/s |",
        "|---|---|---|---|---|",
        _row("generate (gzip level 1, all cores)", r.generate_s, r, CORES),
        _row("baseline: gzip the same bytes (all cores)", r.gzip_only_s, r, CORES),
        _row("baseline: decompression bound (all cores)", r.decompress_s, r, CORES),
        _row("baseline: DuckDB parse + daily/weekly top IPs", r.duckdb_s, r, CORES),
    ]
    out += [_row(f"honest peer: {part}", s, r, CORES) for part, s in r.honest_peer_parts.items()]
    out += [
        _row("**honest peer total (DuckDB, the ETL's work)**", r.honest_peer_s, r, CORES),
        _row("ETL: Spark session start (fixed)", r.spark_start_s, r, CORES),
    ]
    out += [_row(f"ETL: {g}", secs, r, CORES) for g, secs in _grouped(r.etl_stages).items()]
    out.append(_row("**ETL total (excl. session start)**", r.etl_s, r, CORES))
    etl_rate, bound_rate = r.lines / r.etl_s, r.lines / r.decompress_s
    out += [
        "",
        f"- ETL lines/s vs the decompression bound: {etl_rate / bound_rate:.1%} (goal >= 25%)",
        f"- ETL time vs DuckDB: {_against_peer(r)}",
        f"- generator: {r.lines / r.generate_s / CORES:,.0f} lines/s/core (goal >= 200k); "
        f"gzip alone takes {r.gzip_only_s / r.generate_s:.0%} of its time",
        f"- peak RSS: JVM {r.peak_jvm_mb:,.0f} MB, Python {r.peak_python_mb:,.0f} MB "
        "(goal at 10M: under 16 GiB)",
        "- ETL stages: " + ", ".join(f"{name} {secs:.1f} s" for name, secs in r.etl_stages.items()),
        "",
    ]
    return out


def _against_peer(r: SizeResult) -> str:
    honest = r.etl_s / r.honest_peer_s
    verdict = (
        "moonshot met"
        if honest <= PEER_MOONSHOT
        else "goal met"
        if honest <= PEER_GOAL
        else "goal not met"
    )
    return (
        f"ETL / honest peer {honest:.2f}x (goal <= {PEER_GOAL:g}x, moonshot "
        f"{PEER_MOONSHOT:g}x: {verdict}); ETL / old peer {r.etl_s / r.duckdb_s:.2f}x "
        "(the old peer only parses and ranks IPs)"
    )


def report(results: list[SizeResult]) -> str:
    mem = psutil.virtual_memory().total / 2**30
    out = [
        f"machine: {platform.processor() or platform.machine()}, {CORES} cores, "
        f"{mem:.0f} GiB, Python {platform.python_version()}; 1-minute load average before "
        "each size: " + ", ".join(f"{r.lines:,}: {r.load_before:.1f}" for r in results),
        f"goal: ETL / honest peer <= {PEER_GOAL:g}x (moonshot {PEER_MOONSHOT:g}x); "
        "the old peer's ratio is kept beside it for comparison with earlier runs",
        "",
        "| lines | raw MB | generate l/s/core | decompress bound l/s | old peer s | "
        "honest peer s | ETL s (excl. start) | ETL l/s | ETL/bound | ETL / old peer | "
        "ETL / honest peer | peak JVM MB | peak Python MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        bound_rate, etl_rate = r.lines / r.decompress_s, r.lines / r.etl_s
        out.append(
            f"| {r.lines:,} | {r.raw_mb:,.0f} | {r.lines / r.generate_s / CORES:,.0f} | "
            f"{bound_rate:,.0f} | {r.duckdb_s:.1f} | {r.honest_peer_s:.1f} | {r.etl_s:.1f} | "
            f"{etl_rate:,.0f} | {etl_rate / bound_rate:.1%} | {r.etl_s / r.duckdb_s:.2f}x | "
            f"{r.etl_s / r.honest_peer_s:.2f}x | "
            f"{r.peak_jvm_mb:,.0f} | {r.peak_python_mb:,.0f} |"
        )
    out.append("")
    for r in results:
        out += size_report(r)
    return "\n".join(out)


def log_format_scenario(lines: int, work: Path) -> str:
    """The `timed` format against `combined` on the same traffic (benchmarks/formats.py)."""
    from benchmarks import formats

    return formats.report(lines, formats.run_formats(lines, work))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, action="append", help="repeatable")
    parser.add_argument("--work", type=Path, default=Path("var/bench"))
    parser.add_argument("--json", type=Path, help="also write raw results here")
    parser.add_argument(
        "--history-days",
        type=int,
        action="append",
        help="also: one hourly file (~15k lines) into a lakehouse holding this many days of "
        "100k lines (repeatable; benchmarks/small_run.py)",
    )
    parser.add_argument(
        "--backlog-days",
        type=int,
        help="also: this many days of 20k lines ingested in 4 batches vs in one "
        "(benchmarks/backlog.py)",
    )
    parser.add_argument(
        "--formats", action="store_true", help="also: the parser's cost per log_format field"
    )
    args = parser.parse_args()
    results = [run_size(n, args.work) for n in (args.lines or [100_000, 1_000_000])]
    print(report(results))
    if args.history_days:
        from benchmarks import small_run

        runs = [
            small_run.one_file_into(days, 100_000, 15_000, args.work / "one-file")
            for days in args.history_days
        ]
        print("\n## One hourly file into a loaded lakehouse\n")
        print(small_run.report(runs))
    if args.backlog_days:
        from benchmarks import backlog

        per_day, work = backlog.LINES_PER_DAY, args.work / "backlog"
        runs = backlog.run_backlog(args.backlog_days, per_day, backlog.BATCHES, work)
        print("\n## A backlog in bounded batches\n")
        print(backlog.report(args.backlog_days, per_day, runs))
    if args.formats:
        print(log_format_scenario(max(args.lines or [100_000]), args.work))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2))


if __name__ == "__main__":
    main()
