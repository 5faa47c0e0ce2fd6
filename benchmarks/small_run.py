"""Benchmark: one hourly file into a lakehouse that already holds `days` days of logs.

    python -m benchmarks.small_run --days 1 --days 7 [--lines-per-day N] [--file-lines N]
                                   [--runtime local]

For each history length: generate and load the history (not timed), then add one hourly
file and run the real `lakehouse etl` in its own process, as the hourly schedule does.
`--runtime local` does the same on the local replica of production (PostgreSQL, Hive
Metastore, S3Proxy, Spark standalone; a stack of its own in the work directory, started
for each history and stopped by PID afterwards).
Reports its wall time (JVM start included), the time of each ETL stage (from the stage
lines the command prints) and, from the Spark event log of that run, every Spark job with
its wall and task time, so the fixed cost of a run can be read job by job.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

if TYPE_CHECKING:
    from core.settings import S3Settings

START = date(2024, 10, 7)
HOUR = "12"  # a busy hour of the generator's daily curve


@dataclass
class Job:
    job_id: int
    description: str
    wall_ms: int
    task_ms: int
    tasks: int


@dataclass
class SmallRun:
    days: int
    history_lines: int
    file_lines: int
    wall_s: float
    stages: dict[str, float] = field(default_factory=dict)
    jobs: list[Job] = field(default_factory=list)

    @property
    def spark_start_s(self) -> float:
        return self.stages.get("start Spark", 0.0)

    @property
    def etl_s(self) -> float:
        """The run after the Spark session is up."""
        return sum(v for k, v in self.stages.items() if k != "start Spark")


@dataclass(frozen=True)
class Target:
    """Where a run's input goes and how `lakehouse etl` reaches that lakehouse."""

    input_uri: str  # a directory, or s3://bucket on the local stack
    etl_args: tuple[str, ...]
    events: Path  # the Spark event log directory
    env: dict[str, str] = field(default_factory=dict)
    s3: S3Settings | None = None  # the local stack's S3Proxy

    @classmethod
    def embedded(cls, root: Path) -> Target:
        return cls(str(root / "input"), ("--root", str(root)), root / "processed" / "spark-events")

    def put(self, local: Path, relative: Path) -> None:
        """Add one input file, as the log shipper would."""
        if self.s3 is None:
            target = Path(self.input_uri) / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(local, target)
            return
        from pyarrow import fs

        from generator.writer import s3_filesystem_options

        s3fs = fs.S3FileSystem(**s3_filesystem_options(self.s3))
        bucket = self.input_uri.removeprefix("s3://")
        with s3fs.open_output_stream(f"{bucket}/{relative}", compression=None) as out:
            out.write(local.read_bytes())


def _lakehouse(target: Target, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", "from cli.app import main; main()", *args, *target.etl_args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **target.env},
    )


def timed_etl(target: Target) -> tuple[float, dict[str, float]]:
    """`lakehouse etl` wall time, and each stage's time from its `stage: NAME` lines."""
    start = time.perf_counter()
    proc = _lakehouse(target, "etl")
    marks: list[tuple[str, float]] = []
    output = []
    assert proc.stdout is not None
    for line in proc.stdout:
        output.append(line)
        if line.startswith("stage: "):
            marks.append((line.removeprefix("stage: ").strip(), time.perf_counter()))
    proc.wait()
    end = time.perf_counter()
    if proc.returncode != 0:
        raise RuntimeError(f"lakehouse etl failed (exit {proc.returncode}): {''.join(output)}")
    stages: dict[str, float] = {}
    # A stage ends where the next begins; the last one where the process ends.
    for (name, at), (_, until) in zip(marks, [*marks[1:], ("", end)], strict=True):
        stages[name] = stages.get(name, 0.0) + until - at
    return end - start, stages


def _event_lines(app: Path) -> Iterator[str]:
    """The JSON lines of one application's rolling event log (`eventlog_v2_*`, zstd parts)."""
    parts = sorted(app.glob("events_*"), key=lambda p: int(p.name.split("_")[1]))
    for part in parts:
        compression = "zstd" if part.suffix == ".zstd" else None
        with pa.input_stream(str(part), compression=compression) as raw:
            yield from io.TextIOWrapper(raw, encoding="utf-8")


def event_log_jobs(app: Path) -> list[Job]:
    """Spark jobs of one application's event log: wall time, summed task time, task count."""
    starts: dict[int, tuple[int, str, list[int]]] = {}
    ends: dict[int, int] = {}
    executions: dict[int, str] = {}
    stage_task_ms: dict[int, int] = {}
    stage_tasks: dict[int, int] = {}
    for line in _event_lines(app):
        event = json.loads(line)
        kind = event["Event"]
        if kind.endswith("SQLExecutionStart"):
            executions[event["executionId"]] = event.get("description", "")
        elif kind == "SparkListenerJobStart":
            props = event.get("Properties") or {}
            execution = props.get("spark.sql.execution.id")
            desc = props.get("spark.job.description") or (
                executions.get(int(execution), "") if execution is not None else ""
            )
            starts[event["Job ID"]] = (event["Submission Time"], desc, event["Stage IDs"])
        elif kind == "SparkListenerJobEnd":
            ends[event["Job ID"]] = event["Completion Time"]
        elif kind == "SparkListenerTaskEnd":
            stage = event["Stage ID"]
            run_ms = (event.get("Task Metrics") or {}).get("Executor Run Time", 0)
            stage_task_ms[stage] = stage_task_ms.get(stage, 0) + run_ms
            stage_tasks[stage] = stage_tasks.get(stage, 0) + 1
    jobs = []
    for job_id, (submitted, desc, stage_ids) in sorted(starts.items()):
        jobs.append(
            Job(
                job_id,
                " ".join(desc.split())[:90],
                ends.get(job_id, submitted) - submitted,
                sum(stage_task_ms.get(s, 0) for s in stage_ids),
                sum(stage_tasks.get(s, 0) for s in stage_ids),
            )
        )
    return jobs


def _newest_event_log(events: Path) -> Path:
    return max(events.glob("eventlog_v2_*"), key=lambda p: p.stat().st_mtime)


def one_file_into(
    days: int, lines_per_day: int, file_lines: int, work: Path, runtime: str = "embedded"
) -> SmallRun:
    root = work / f"{runtime}-days-{days}"
    shutil.rmtree(root, ignore_errors=True)
    if runtime == "embedded":
        return _one_file_into(Target.embedded(root), days, lines_per_day, file_lines, work)
    with _local_stack(root) as target:
        return _one_file_into(target, days, lines_per_day, file_lines, work)


@contextlib.contextmanager
def _local_stack(root: Path) -> Iterator[Target]:
    """A local stack of its own under `root` (default ports), always stopped by PID."""
    from core.runtimes import local_stack
    from core.settings import LocalStackSettings, render_stack_toml
    from local_stack.lifecycle import LocalStack

    root.mkdir(parents=True)
    root.chmod(0o755)  # as root, PostgreSQL runs as `postgres` and must reach its directory
    stack = LocalStackSettings(data_dir=root / "data")
    config = root / "stack.toml"
    config.write_text(render_stack_toml(stack))
    settings = local_stack(stack)
    services = LocalStack(stack)
    try:
        services.up()
        yield Target(
            f"s3://{stack.input_bucket}",
            ("--runtime", "local"),
            stack.data_dir / "spark-events",
            {"LAKEHOUSE_STACK_CONFIG": str(config)},
            settings.storage.s3,
        )
    finally:
        services.down()


def _one_file_into(
    target: Target, days: int, lines_per_day: int, file_lines: int, work: Path
) -> SmallRun:
    from generator import TrafficSpec, generate

    history = TrafficSpec(start=START, days=days, lines=days * lines_per_day, seed=1)
    generate(history, target.input_uri, s3=target.s3)
    timed_etl(target)  # the history: loaded, not timed

    # One hourly file of the next day: generate that day and keep one hour of it.
    scratch = work / f"days-{days}-next"
    shutil.rmtree(scratch, ignore_errors=True)
    day = START + timedelta(days=days)
    generate(TrafficSpec(start=day, days=1, lines=file_lines * 24, seed=2), str(scratch))
    hour = next(scratch.rglob(f"hour={HOUR}"))
    added = 0
    for path in sorted(hour.rglob("*.gz")):
        target.put(path, path.relative_to(scratch))
        added += len(gzip.decompress(path.read_bytes()).splitlines())
    shutil.rmtree(scratch)

    wall, stages = timed_etl(target)
    jobs = event_log_jobs(_newest_event_log(target.events))
    return SmallRun(days, days * lines_per_day, added, wall, stages, jobs)


def report(runs: list[SmallRun]) -> str:
    out = [
        "| history | new lines | `lakehouse etl` wall s | Spark start s | ETL after start s |",
        "|---|---|---|---|---|",
    ]
    for r in runs:
        out.append(
            f"| {r.days} d ({r.history_lines:,} lines) | {r.file_lines:,} | {r.wall_s:.1f} | "
            f"{r.spark_start_s:.1f} | {r.etl_s:.1f} |"
        )
    if len(runs) > 1:
        first, last = runs[0], runs[-1]
        out.append(
            f"\n{last.days} days vs {first.days} day: {last.etl_s / first.etl_s:.2f}x after "
            f"start (goal <= 1.2x), {last.wall_s / first.wall_s:.2f}x wall"
        )
    for r in runs:
        out += [
            "",
            f"#### {r.days} d history: stages (s)",
            "",
            " | ".join(f"{k} {v:.2f}" for k, v in r.stages.items()),
            "",
            f"#### {r.days} d history: Spark jobs ({len(r.jobs)}; "
            f"{sum(j.wall_ms for j in r.jobs) / 1000:.1f} s wall, "
            f"{sum(j.task_ms for j in r.jobs) / 1000:.1f} s task time)",
            "",
            "| job | wall ms | task ms | tasks | what |",
            "|---|---|---|---|---|",
        ]
        out += [
            f"| {j.job_id} | {j.wall_ms} | {j.task_ms} | {j.tasks} | {j.description} |"
            for j in r.jobs
        ]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, action="append", help="history lengths (repeatable)")
    parser.add_argument("--lines-per-day", type=int, default=100_000)
    parser.add_argument("--file-lines", type=int, default=15_000)
    parser.add_argument("--work", type=Path, default=Path("var/bench-small"))
    parser.add_argument("--runtime", choices=("embedded", "local"), default="embedded")
    args = parser.parse_args()
    runs = [
        one_file_into(d, args.lines_per_day, args.file_lines, args.work, args.runtime)
        for d in (args.days or [1, 7])
    ]
    print(report(runs))


if __name__ == "__main__":
    main()
