"""Benchmark: a backlog of days ingested in bounded batches vs in one batch.

    python -m benchmarks.backlog --days 30 [--lines-per-day N] [--batches K]

The same hourly files (generated once) go into two empty lakehouses: one run ingests them
as one batch, the other with `etl.max_files_per_batch` set so that the backlog splits into
K batches, each committing its rows, aggregates, reports and ledger before the next. Each
run is a fresh process (cold JVM); printed: batches, ETL time, peak JVM RSS, and the ratios
batched / one batch (what bounding the memory costs in time, and what it saves in RSS).
"""

from __future__ import annotations

import argparse
import math
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

START = date(2024, 9, 2)
# `make bench`'s backlog (benchmarks.run --backlog-days): small days, so that 30 of them
# stay in minutes, split in four batches.
LINES_PER_DAY = 20_000
BATCHES = 4


@dataclass
class BacklogRun:
    label: str
    files: int
    batches: int
    etl_s: float
    peak_jvm_mb: float
    accepted: int


def run_backlog(days: int, lines_per_day: int, batches: int, work: Path) -> list[BacklogRun]:
    from benchmarks.run import etl_in_fresh_process
    from generator import TrafficSpec, generate

    shared = work / "backlog-input"
    shutil.rmtree(shared, ignore_errors=True)
    generate(TrafficSpec(start=START, days=days, lines=days * lines_per_day, seed=5), str(shared))
    files = len(list(shared.rglob("*.gz")))
    runs = []
    for label, limit in (("one batch", files), (f"{batches} batches", math.ceil(files / batches))):
        root = work / f"backlog-{limit}"
        shutil.rmtree(root, ignore_errors=True)
        shutil.copytree(shared, root / "input")
        etl, rss = etl_in_fresh_process(root, limit)
        runs.append(
            BacklogRun(label, files, etl["batches"], etl["etl_s"], rss.jvm / 1e6, etl["accepted"])
        )
    if runs[0].accepted != runs[1].accepted:  # the same files must give the same rows
        raise RuntimeError(f"batched run kept other rows: {runs[0].accepted} vs {runs[1].accepted}")
    return runs


def report(days: int, lines_per_day: int, runs: list[BacklogRun]) -> str:
    one, batched = runs
    out = [
        f"{days} days of {lines_per_day:,} lines ({one.files} files), cold JVM each:",
        "",
        "| ingested as | batches | ETL s (excl. JVM start) | peak JVM MB |",
        "|---|---|---|---|",
        *(f"| {r.label} | {r.batches} | {r.etl_s:.1f} | {r.peak_jvm_mb:,.0f} |" for r in runs),
        "",
        f"batched / one batch: {batched.etl_s / one.etl_s:.2f}x time, "
        f"{batched.peak_jvm_mb / one.peak_jvm_mb:.2f}x peak JVM RSS "
        "(goal: a 10M-line backlog under 4 GiB)",
    ]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--lines-per-day", type=int, default=LINES_PER_DAY)
    parser.add_argument("--batches", type=int, default=BATCHES)
    parser.add_argument("--work", type=Path, default=Path("var/bench-backlog"))
    args = parser.parse_args()
    runs = run_backlog(args.days, args.lines_per_day, args.batches, args.work)
    print(report(args.days, args.lines_per_day, runs))


if __name__ == "__main__":
    main()
