"""Benchmark: one hourly file into a lakehouse that already holds `days` days of logs.

    python -m benchmarks.small_run --days 1 --days 7 [--lines-per-day N] [--file-lines N]

For each history length: generate and load the history (not timed), then add one hourly
file and run the real `lakehouse etl` in its own process, as the hourly schedule does.
Reports its wall time (JVM start included), the time of each ETL stage (from the stage
lines the command prints) and, from the Spark event log of that run, every Spark job with
its wall and task time, so the fixed cost of a run can be read job by job.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa

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


def _lakehouse(root: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", "from cli.app import main; main()", *args, "--root", str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def timed_etl(root: Path) -> tuple[float, dict[str, float]]:
    """`lakehouse etl` wall time, and each stage's time from its `stage: NAME` lines."""
    start = time.perf_counter()
    proc = _lakehouse(root, "etl")
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


def _newest_event_log(root: Path) -> Path:
    events = root / "processed" / "spark-events"
    return max(events.glob("eventlog_v2_*"), key=lambda p: p.stat().st_mtime)


def one_file_into(days: int, lines_per_day: int, file_lines: int, work: Path) -> SmallRun:
    from generator import TrafficSpec, generate

    root = work / f"days-{days}"
    shutil.rmtree(root, ignore_errors=True)
    input_dir = root / "input"
    generate(
        TrafficSpec(start=START, days=days, lines=days * lines_per_day, seed=1), str(input_dir)
    )
    timed_etl(root)  # the history: loaded, not timed

    # One hourly file of the next day: generate that day and keep one hour of it.
    scratch = work / f"days-{days}-next"
    shutil.rmtree(scratch, ignore_errors=True)
    day = START + timedelta(days=days)
    generate(TrafficSpec(start=day, days=1, lines=file_lines * 24, seed=2), str(scratch))
    hour = next(scratch.rglob(f"hour={HOUR}"))
    target = input_dir / hour.relative_to(scratch)
    shutil.copytree(hour, target)
    shutil.rmtree(scratch)
    added = sum(len(gzip.decompress(p.read_bytes()).splitlines()) for p in target.rglob("*.gz"))

    wall, stages = timed_etl(root)
    history = days * lines_per_day
    return SmallRun(days, history, added, wall, stages, event_log_jobs(_newest_event_log(root)))


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
    args = parser.parse_args()
    runs = [
        one_file_into(d, args.lines_per_day, args.file_lines, args.work)
        for d in (args.days or [1, 7])
    ]
    print(report(runs))


if __name__ == "__main__":
    main()
