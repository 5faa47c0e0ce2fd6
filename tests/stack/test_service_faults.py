"""Service faults on the local stack (issue #7): the Hive Metastore or the S3 endpoint stops
before or in the middle of an ETL run.

The run is the real `lakehouse etl --config FILE` in its own process (what the EKS job
runs). Piped, it prints `stage: NAME` as each stage starts; the test stops the service
through the stack's own code (by PID) the moment the chosen stage begins. The run must
then fail cleanly: exit code 2 and one `error:` line naming the service and the fix, no
traceback, within seconds rather than minutes. The stack's own `up` restarts the service,
the run is repeated, and every table must equal the independent computation over the raw
input (tests/pipeline/checks.py, read back with PyIceberg through the metastore): no row
lost, none doubled.

Each test has its own namespace and input prefix, so it neither sees nor disturbs the
tables of test_local_stack.py on the same session-wide stack, and leaves every service
running when it ends.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest

from core.runtimes import local_stack
from core.settings import LocalStackSettings, Settings, render_settings_toml
from spark import tables
from tests.pipeline import checks, reference
from tests.stack.conftest import StackHandle

pytestmark = [pytest.mark.stack, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
# One generated day, of which every fourth hourly file is used: six files of ~1,700 lines.
# Spark works per file (one task per file in every stage), so on two cores the file count,
# not the line count, sets how long a run takes.
DAY = date(2024, 10, 7)
LINES = 40_000
EVERY_NTH_HOUR = 4
RUN_TIMEOUT = 480.0  # a run that takes longer has hung
# From the service's stop to the run's exit: failing in seconds is the point (a default
# S3 client retries for minutes, a default Hive client waits 10 min on a dead socket).
FAIL_WITHIN = 120.0


@dataclass(frozen=True)
class Fault:
    service: str  # the stack's name for it
    named: str  # how the error must name it
    setting: str  # the setting the error must point at
    # Stop it as this stage starts: the point of the run the fault hits.
    stage: str

    def uri(self, stack: LocalStackSettings) -> str:
        if self.service == "metastore":
            return f"thrift://{stack.host}:{stack.metastore_port}"
        return f"http://{stack.host}:{stack.s3_port}"


FAULTS = [
    # access_logs committed, reports and ledger not: the re-run parses every file again and
    # must insert no row twice.
    Fault("metastore", "Hive Metastore", "catalog.uri", "write reports"),
    # Data files being written to S3 inside the MERGE: the re-run must not double them.
    Fault("s3proxy", "S3 endpoint", "storage.s3.endpoint", "write rows"),
]


@dataclass
class Run:
    returncode: int
    stages: list[str]
    stderr: str
    seconds: float
    # Seconds since the start at which each stage began (for the printed timings).
    stage_starts: list[float] = field(default_factory=list)
    # Seconds from the service's stop to the run's exit (None: nothing was stopped).
    after_stop: float | None = None

    def timings(self) -> str:
        pairs = zip(self.stages, self.stage_starts, strict=True)
        return ", ".join(f"{stage} @{t:.0f}s" for stage, t in pairs)

    def error_lines(self) -> list[str]:
        return [ln for ln in self.stderr.splitlines() if ln.startswith("error:")]


@dataclass
class FaultLedger:
    """What the module did, printed at the end (`pytest -s`) and asserted per test."""

    injected: list[str] = field(default_factory=list)
    lost: int = 0
    duplicated: int = 0


@pytest.fixture(scope="module")
def ledger() -> Iterator[FaultLedger]:
    book = FaultLedger()
    yield book
    print(
        f"\nservice faults injected: {len(book.injected)} ({', '.join(book.injected)}); "
        f"rows lost: {book.lost}, rows duplicated: {book.duplicated}"
    )


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six hourly files of generated nginx logs, in the raw layout (dt=/hour=)."""
    from generator import TrafficSpec, generate

    day = tmp_path_factory.mktemp("generated")
    generate(TrafficSpec(start=DAY, days=1, lines=LINES, seed=21), str(day), workers=1)
    kept = tmp_path_factory.mktemp("raw")
    hourly = sorted(p for p in day.rglob("*.log.gz"))
    assert len(hourly) == 24
    for path in hourly[::EVERY_NTH_HOUR]:
        target = kept / path.relative_to(day)
        target.parent.mkdir(parents=True)
        target.write_bytes(path.read_bytes())
    return kept


@pytest.fixture
def stack(stack_handle: StackHandle) -> Iterator[StackHandle]:
    """The shared stack, every service running again after the test, whatever happened."""
    yield stack_handle
    stack_handle.stack.up()
    stack_handle.remember()


def _settings(handle: StackHandle, name: str) -> Settings:
    base = local_stack(handle.settings)
    return base.model_copy(
        update={
            "catalog": base.catalog.model_copy(update={"namespace": name}),
            "storage": base.storage.model_copy(
                update={"input_uri": f"s3://{handle.settings.input_bucket}/{name}"}
            ),
        }
    )


def _write_config(settings: Settings, directory: Path) -> Path:
    path = directory / f"{settings.catalog.namespace}.toml"
    path.write_text(render_settings_toml(settings))
    return path


def _upload(handle: StackHandle, settings: Settings, raw: Path) -> int:
    """Put the raw files under the input prefix, keeping their layout; lines uploaded."""
    client = handle.stack.s3proxy.client()
    prefix = settings.storage.input_uri.removeprefix("s3://")
    lines = 0
    for path in sorted(p for p in raw.rglob("*") if p.is_file()):
        # compression=None: the bytes are gzip already (pyarrow would compress `.gz` again).
        with client.open_output_stream(
            f"{prefix}/{path.relative_to(raw)}", compression=None
        ) as out:
            out.write(path.read_bytes())
        lines += len(reference.read_lines(path))
    return lines


def run_etl(
    config: Path, stop_at: str | None = None, stop: Callable[[], object] | None = None
) -> Run:
    """`lakehouse etl --config` in its own process; `stop()` as stage `stop_at` starts."""
    env = dict(os.environ, PYTHONPATH=str(REPO), SPARK_LOCAL_IP="127.0.0.1")
    started = time.monotonic()
    stopped_at: float | None = None
    stages: list[str] = []
    starts: list[float] = []
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from cli.app import main; main()", "etl", "-c", config],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=err,  # a file: Spark's log lines must never block the child on a pipe
            text=True,
            start_new_session=True,  # a hung run is killed with its JVM
        )
        watchdog = threading.Timer(RUN_TIMEOUT, os.killpg, (proc.pid, signal.SIGKILL))
        watchdog.start()
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                if line.startswith("stage: "):
                    stages.append(line.removeprefix("stage: ").strip())
                    starts.append(round(time.monotonic() - started, 1))
                    if stages[-1] == stop_at and stop is not None:
                        stop()
                        stopped_at = time.monotonic()
            returncode = proc.wait()
        finally:
            watchdog.cancel()
        ended = time.monotonic()
        err.seek(0)
        stderr = err.read()
    assert returncode != -signal.SIGKILL, f"the run hung for {RUN_TIMEOUT:.0f} s: {stages}"
    return Run(
        returncode,
        stages,
        stderr,
        ended - started,
        starts,
        None if stopped_at is None else ended - stopped_at,
    )


def _download_input(handle: StackHandle, settings: Settings, into: Path) -> dict[str, Path]:
    """Every raw object under the input prefix -> a local copy (the reference reads files)."""
    from pyarrow import fs

    client = handle.stack.s3proxy.client()
    prefix = settings.storage.input_uri.removeprefix("s3://")
    copies = {}
    for info in client.get_file_info(fs.FileSelector(prefix, recursive=True)):
        if info.type != fs.FileType.File:
            continue
        target = into / info.path.removeprefix(prefix + "/")
        target.parent.mkdir(parents=True, exist_ok=True)
        with client.open_input_stream(info.path, compression=None) as src:  # keep the gzip
            target.write_bytes(src.read())
        copies[f"s3://{info.path}"] = target
    return copies


def check_tables(
    handle: StackHandle,
    settings: Settings,
    workdir: Path,
    ledger: FaultLedger,
) -> dict[str, int]:
    """The tables equal the computation over the raw input; counts lost/doubled rows."""
    local_input = workdir / "input"
    copies = _download_input(handle, settings, local_input)
    assert copies
    # The job names a file by its s3:// URI, the reference by the local copy's path.
    as_local = {uri: f"file:{path}" for uri, path in copies.items()}

    expected: Counter[tuple[str, int]] = Counter()
    for path in copies.values():
        hits, _ = reference.parse(path)
        expected.update((h.source_file, h.source_line) for h in hits)
    actual = Counter(
        (r["source_file"], r["source_line"])
        for r in checks.rows_read_as(settings, tables.ACCESS_LOGS, as_local)
    )
    lost = sum((expected - actual).values())
    duplicated = sum(n - 1 for n in actual.values() if n > 1)
    ledger.lost += lost
    ledger.duplicated += duplicated
    assert (lost, duplicated) == (0, 0), f"{lost} rows lost, {duplicated} duplicated"

    as_read = settings.model_copy(
        update={"storage": settings.storage.model_copy(update={"input_uri": local_input.as_uri()})}
    )
    return checks.assert_tables_match_input(as_read, settings.etl.top_n, source_names=as_local)


def _assert_one_clean_line(run: Run, fault: Fault, uri: str) -> str:
    assert run.returncode == 2, (run.returncode, run.stages, run.stderr[-4000:])
    assert "Traceback" not in run.stderr, run.stderr[-4000:]
    assert "\tat " not in run.stderr, run.stderr[-4000:]  # no Java frames either
    errors = run.error_lines()
    assert len(errors) == 1, run.stderr[-4000:]
    assert run.stderr.strip().splitlines()[-1] == errors[0]
    assert f"{fault.named} at {uri} (setting '{fault.setting}')" in errors[0]
    assert "lakehouse stack up" in errors[0]
    return errors[0]


def _assert_metastore_database_healthy(handle: StackHandle) -> None:
    """No commit lock left behind, and room for more connections after the restart."""
    pg = handle.stack.postgres
    db = handle.settings.metastore_db
    assert pg.psql("SELECT count(*) FROM hive_locks;", database=db) == "0"
    # The metastore fills its connection pools up front: with no headroom left, the next
    # pool growth (or any other client) is refused.
    user = handle.settings.metastore_db_user
    used = int(pg.psql(f"SELECT count(*) FROM pg_stat_activity WHERE usename = '{user}';"))
    reserved = int(pg.psql("SHOW superuser_reserved_connections;"))
    assert used + reserved < int(pg.psql("SHOW max_connections;")), used


# --- a service stops in the middle of a run ------------------------------------------------
@pytest.mark.parametrize("fault", FAULTS, ids=[f"{f.service}-at-{f.stage}" for f in FAULTS])
def test_service_stopped_mid_run_fails_cleanly_and_rerun_completes(
    stack: StackHandle,
    fault: Fault,
    raw: Path,
    tmp_path: Path,
    ledger: FaultLedger,
) -> None:
    settings = _settings(stack, f"faults_{fault.service}")
    config = _write_config(settings, tmp_path)
    lines = _upload(stack, settings, raw)
    service = stack.stack.service(fault.service)

    failed = run_etl(config, stop_at=fault.stage, stop=service.stop)
    assert fault.stage in failed.stages, f"never reached {fault.stage!r}: {failed.stages}"
    ledger.injected.append(f"{fault.service} at '{fault.stage}'")
    line = _assert_one_clean_line(failed, fault, fault.uri(stack.settings))
    assert f"during '{fault.stage}'" in line
    assert failed.after_stop is not None and failed.after_stop < FAIL_WITHIN, failed.after_stop

    reports = {r.name: r.outcome for r in stack.stack.up()}
    stack.remember()
    assert reports[fault.service] == "started"

    rerun = run_etl(config)
    assert rerun.returncode == 0, (rerun.stages, rerun.stderr[-4000:])
    _assert_metastore_database_healthy(stack)
    counts = check_tables(stack, settings, tmp_path, ledger)
    assert counts["accepted"] + counts["rejected"] == lines
    print(
        f"\n{fault.service} stopped at '{fault.stage}': failed {failed.after_stop:.1f} s after "
        f"the stop ({failed.seconds:.0f} s run); re-run {rerun.seconds:.0f} s; {line}\n"
        f"  failed run: {failed.timings()}\n  re-run: {rerun.timings()}"
    )


# --- a service is down before a run: the preflight names it, Spark never starts ------------
@pytest.mark.parametrize("fault", FAULTS, ids=[f.service for f in FAULTS])
def test_service_down_before_a_run_is_named_before_spark_starts(
    stack: StackHandle, fault: Fault, tmp_path: Path, ledger: FaultLedger
) -> None:
    settings = _settings(stack, "faults_preflight")
    config = _write_config(settings, tmp_path)
    events = stack.settings.data_dir / "spark-events"
    apps_before = set(events.iterdir()) if events.exists() else set()

    assert stack.stack.service(fault.service).stop() in {"stopped", "killed"}
    ledger.injected.append(f"{fault.service} before a run")
    run = run_etl(config)

    line = _assert_one_clean_line(run, fault, fault.uri(stack.settings))
    assert line.startswith(f"error: cannot reach the {fault.named} at ")
    assert run.stages == ["start Spark"]
    assert run.seconds < 30, run.seconds  # a TCP probe, not a Spark start and its retries
    after = set(events.iterdir()) if events.exists() else set()
    assert after == apps_before  # no Spark application was started
