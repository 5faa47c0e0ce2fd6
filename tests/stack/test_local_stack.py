"""The local replica of production, for real: PostgreSQL, Hive Metastore, S3Proxy, Spark
standalone and the History Server on loopback, and the whole pipeline through them.

The tests run in file order and share one stack (conftest.py); later ones build on the
tables earlier ones wrote. Tables are read back through the metastore with PyIceberg and
checked against `tests.pipeline.reference`, plain Python over the same raw lines.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psutil
import pytest
from typer.testing import CliRunner

from cli.stack import stack_app
from core.properties import THROUGHPUT_GC, pyiceberg_properties
from core.runtimes import local_stack
from core.settings import render_stack_toml
from local_stack.processes import port_is_free
from local_stack.spark_standalone import SparkWorker
from tests.stack.conftest import HOST, StackHandle, make_data_dir, make_settings
from tests.stack.etl_runner import MARKER

pytestmark = [pytest.mark.stack, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
START = date(2024, 10, 7)  # a Monday
DAYS = 2
LINES = 20_000
LATE_DAY = START + timedelta(days=1)
TOP_N = 10  # EtlSettings default
LOOPBACK = {"127.0.0.1", "::ffff:127.0.0.1", "::1"}


def _all_ports(handle: StackHandle) -> list[int]:
    return [p.port for svc in handle.stack.services() for p in svc.ports()]


# --- (1) services answer, on loopback only ------------------------------------------------
def test_services_answer_on_loopback_only(stack_handle: StackHandle) -> None:
    states = stack_handle.stack.status()
    assert all(s.up for s in states), [s for s in states if not s.up]

    # Every listening socket of every stack process (and its children) is on loopback,
    # including the ones on ephemeral ports (Spark worker RPC, metastore thrift).
    listening = []
    for pid in stack_handle.stack.all_pids():
        for conn in psutil.Process(pid).net_connections(kind="inet"):
            if conn.status == psutil.CONN_LISTEN:
                listening.append((pid, conn.laddr.ip, conn.laddr.port))
    assert listening
    assert {ip for _, ip, _ in listening} <= LOOPBACK, listening

    # And nothing at all (ours or not) listens on a wildcard address on the stack's ports.
    ports = set(_all_ports(stack_handle))
    wildcard = [
        c
        for c in psutil.net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN and c.laddr.port in ports and c.laddr.ip not in LOOPBACK
    ]
    assert not wildcard, wildcard
    # The thrift port in particular (Hive 3.1.3 binds the wildcard unless overridden).
    thrift = [
        c
        for c in psutil.net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN and c.laddr.port == stack_handle.settings.metastore_port
    ]
    assert [c.laddr.ip for c in thrift] in (["127.0.0.1"], ["::ffff:127.0.0.1"])


# --- (2) a second `up` is a no-op ---------------------------------------------------------
def test_second_up_is_a_noop(stack_handle: StackHandle) -> None:
    before = {s.name: s.pid for s in stack_handle.stack.status()}
    t0 = time.monotonic()
    reports = stack_handle.stack.up()
    assert {r.outcome for r in reports} == {"already running"}
    assert {r.name: r.pid for r in reports} == before
    assert time.monotonic() - t0 < 30

    result = CliRunner().invoke(stack_app, ["up", "-s", str(stack_handle.config_file)])
    assert result.exit_code == 0, result.output
    assert "0 started" in result.output


# --- (3) a port taken by something else: one clear line, non-zero exit, nothing started ----
def test_port_conflict_is_one_clear_line() -> None:
    data_dir = make_data_dir("lakehouse-stack-conflict-")
    try:
        _check_conflict(data_dir)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def _check_conflict(data_dir: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.bind((HOST, 0))
        squatter.listen(1)
        taken = squatter.getsockname()[1]
        settings = make_settings(data_dir / "data", metastore_port=taken)
        config = data_dir / "stack.toml"
        config.write_text(render_stack_toml(settings))
        result = CliRunner().invoke(stack_app, ["up", "-s", str(config)])
    text = result.output.strip()  # Click >= 8.2: stdout and stderr as the user sees them
    assert result.exit_code == 2, text
    error_lines = [line for line in text.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1, text
    assert f"port {taken}" in error_lines[0]
    assert "metastore_port" in error_lines[0]
    assert "Traceback" not in text
    # The check runs before anything starts: no process was launched for this stack.
    assert not list((data_dir / "data" / "run").glob("*.json"))
    for name in ("postgres_port", "s3_port", "spark_master_port"):
        assert port_is_free(HOST, getattr(settings, name))


# --- (4) the pipeline: generator -> S3Proxy -> Spark standalone -> Iceberg via the HMS ------
def _run_etl(handle: StackHandle) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run(
        [sys.executable, "-m", "tests.stack.etl_runner", str(handle.config_file)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(MARKER)]
    assert proc.returncode == 0 and lines, (proc.stdout[-3000:], proc.stderr[-5000:])
    return json.loads(lines[-1].removeprefix(MARKER))


def _raw_files(handle: StackHandle, into: Path) -> list[Path]:
    """Download every raw object of the input bucket (reference reads local files)."""
    from pyarrow import fs

    client = handle.stack.s3proxy.client()
    bucket = handle.settings.input_bucket
    paths = []
    for info in client.get_file_info(fs.FileSelector(bucket, recursive=True)):
        if info.type != fs.FileType.File:
            continue
        target = into / info.path
        target.parent.mkdir(parents=True, exist_ok=True)
        # compression=None: keep the gzip bytes (pyarrow would inflate `.gz` by default).
        with client.open_input_stream(info.path, compression=None) as src:
            target.write_bytes(src.read())
        paths.append(target)
    return sorted(paths)


def _expected(handle: StackHandle, workdir: Path) -> dict[str, Any]:
    """Independent computation over the raw lines: lines, per-day counts, daily top IPs."""
    from tests.pipeline import reference

    hits, rejected, lines = [], 0, 0
    files = _raw_files(handle, workdir)
    for path in files:
        file_hits, file_rejected = reference.parse(path)
        hits += file_hits
        rejected += file_rejected
        lines += len(reference.read_lines(path))
    return {
        "files": len(files),
        "lines": lines,
        "accepted": len(hits),
        "rejected": rejected,
        "per_day": dict(Counter(h.event_time.date() for h in hits)),
        "daily_top_ips": reference.top_ips(hits, reference.by_day, TOP_N),
    }


def _catalog(handle: StackHandle) -> Any:
    from pyiceberg.catalog import load_catalog

    settings = local_stack(handle.settings)
    return load_catalog(settings.catalog.name, **pyiceberg_properties(settings))


def _actual(handle: StackHandle) -> dict[str, Any]:
    """The tables, read through the Hive Metastore with PyIceberg (no Spark)."""
    catalog = _catalog(handle)
    ns = local_stack(handle.settings).catalog.namespace
    logs = catalog.load_table(f"{ns}.access_logs").scan(selected_fields=("event_time",)).to_arrow()
    per_day = Counter(ts.date() for ts in logs.column("event_time").to_pylist())
    top = catalog.load_table(f"{ns}.daily_top_ips").scan().to_arrow().to_pylist()
    return {
        "accepted": logs.num_rows,
        "per_day": dict(per_day),
        "daily_top_ips": {
            (r["day"], r["segment"], r["rank"], r["client_ip"], r["requests"], r["bytes"])
            for r in top
        },
    }


def _check_tables(handle: StackHandle, workdir: Path) -> dict[str, Any]:
    expected = _expected(handle, workdir)
    actual = _actual(handle)
    assert actual["accepted"] == expected["accepted"]
    assert actual["per_day"] == expected["per_day"]
    assert actual["daily_top_ips"] == expected["daily_top_ips"]
    return expected


@pytest.fixture(scope="module")
def pipeline_state() -> dict[str, Any]:
    return {}


def test_pipeline_through_the_metastore(
    stack_handle: StackHandle, pipeline_state: dict[str, Any], tmp_path: Path
) -> None:
    from generator import TrafficSpec, generate

    settings = local_stack(stack_handle.settings)
    written = generate(
        TrafficSpec(start=START, days=DAYS, lines=LINES, seed=11),
        f"s3://{stack_handle.settings.input_bucket}",
        s3=settings.storage.s3,
    )
    assert written.lines == LINES

    result = _run_etl(stack_handle)
    assert result["outcome"] == "succeeded", result
    expected = _check_tables(stack_handle, tmp_path)
    assert len(result["files"]) == expected["files"] == len(written.files)
    assert result["lines_read"] == expected["lines"] == LINES
    assert (result["accepted"], result["rejected"]) == (expected["accepted"], expected["rejected"])
    assert sorted(expected["per_day"]) == [START + timedelta(days=i) for i in range(DAYS)]
    # The driver's event log is where the History Server reads it.
    events = list((stack_handle.settings.data_dir / "spark-events").iterdir())
    assert events
    pipeline_state["accepted"] = expected["accepted"]


def test_executors_ran_the_throughput_collector(stack_handle: StackHandle) -> None:
    """The run above started its executors with the throughput collector and no other: a
    standalone worker writes each executor's command line at the top of its stderr."""
    workers = [s for s in stack_handle.stack.services() if isinstance(s, SparkWorker)]
    commands = [
        path.read_text().splitlines()[0]
        for worker in workers
        for path in worker.work_dir.glob("app-*/*/stderr")
    ]
    assert commands, "the run had no executors"
    for command in commands:
        assert command.startswith("Spark Executor Command:"), command[:200]
        assert re.findall(r'"-XX:\+Use\w+GC"', command) == [f'"{THROUGHPUT_GC}"']


# --- (5) restart the metastore mid-way; late files still go through -----------------------
def test_metastore_restart_then_late_files(
    stack_handle: StackHandle, pipeline_state: dict[str, Any], tmp_path: Path
) -> None:
    if "accepted" not in pipeline_state:
        pytest.skip("needs the tables of test_pipeline_through_the_metastore")
    from generator import TrafficSpec, generate

    stack = stack_handle.stack
    old_pid = stack.metastore.running().pid  # type: ignore[union-attr]
    assert stack.metastore.stop() == "stopped"
    assert not psutil.pid_exists(old_pid) or psutil.Process(old_pid).status() == "zombie"
    assert port_is_free(HOST, stack_handle.settings.metastore_port)

    settings = local_stack(stack_handle.settings)
    late = generate(
        TrafficSpec(start=LATE_DAY, days=1, lines=3_000, seed=99, host="web-late"),
        f"s3://{stack_handle.settings.input_bucket}/late",
        s3=settings.storage.s3,
    )
    reports = {r.name: r for r in stack.up()}
    stack_handle.remember()
    assert reports["metastore"].outcome == "started"
    assert reports["metastore"].pid != old_pid
    assert {r.outcome for n, r in reports.items() if n != "metastore"} == {"already running"}

    result = _run_etl(stack_handle)
    assert result["outcome"] == "succeeded", result
    assert len(result["files"]) == len(late.files)
    assert result["days"] == [str(LATE_DAY)]
    expected = _check_tables(stack_handle, tmp_path)
    assert expected["accepted"] == pipeline_state["accepted"] + result["accepted"]
    pipeline_state["accepted"] = expected["accepted"]
    pipeline_state["per_day"] = expected["per_day"]


# --- (6) stop/start the whole stack: the tables are still there ---------------------------
def test_whole_stack_restart_keeps_tables(
    stack_handle: StackHandle, pipeline_state: dict[str, Any]
) -> None:
    if "per_day" not in pipeline_state:
        pytest.skip("needs the tables of the pipeline tests")
    stack = stack_handle.stack
    stack_handle.remember()
    outcomes = dict(stack.down())
    assert set(outcomes.values()) <= {"stopped", "killed"}, outcomes
    assert all(port_is_free(HOST, p) for p in _all_ports(stack_handle))
    assert not any(s.up for s in stack.status())

    t0 = time.monotonic()
    reports = stack.up()
    warm = time.monotonic() - t0
    stack_handle.remember()
    assert {r.outcome for r in reports} == {"started"}
    # Measurements for docs/local-stack.md (shown with `pytest -s`).
    print(f"\nwarm up: {warm:.1f} s")
    for state in stack.status():
        print(f"  {state.name}: rss {state.rss_bytes / 2**20:.0f} MiB")
    actual = _actual(stack_handle)
    assert actual["accepted"] == pipeline_state["accepted"]
    assert actual["per_day"] == pipeline_state["per_day"]
