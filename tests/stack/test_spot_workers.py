"""Spot behaviour on the local stack (issue #13, item 6): workers come and go during a run.

On EKS the workers run on spot nodes. A node being drained or reclaimed with notice runs the
pod's preStop hook, which sends the worker SIGPWR (workloads/spark_cluster.py); a node
reclaimed without notice simply vanishes with every process on it; the autoscaler adds a
node, and a worker on it must give the running application more executors. Each is done
here to a real Spark standalone worker, by its PID record, while `lakehouse etl` runs:

(a) decommission: SIGPWR, wait for the worker's executors to exit (what the hook waits
    for), then SIGTERM (what the kubelet sends after the hook);
(b) SIGKILL to the worker and its executors at once;
(c) an extra worker started mid-run.

The fault is triggered from a thread the moment the run is at the chosen stage *and* the
driver's REST API shows an executor of the target worker running tasks, so it really hits
work in flight. Every run must then complete, and every table must equal the independent
computation over the raw input (read back with PyIceberg): no row lost, none doubled. In
(c) the new worker's executor must have registered with the application.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from core.names import Stage
from core.settings import Settings
from local_stack.spark_standalone import SparkMaster, SparkWorker
from tests.stack.conftest import HOST, StackHandle, free_port_block
from tests.stack.test_service_faults import (
    RUN_TIMEOUT,
    FaultLedger,
    Run,
    _settings,
    _upload,
    _write_config,
    check_tables,
    run_etl,
)
from workloads.spark_cluster import DECOMMISSION_WAIT_SECONDS

pytestmark = [pytest.mark.stack, pytest.mark.slow]

# One generated day, every third hourly file: eight files of ~3,000 lines, so the parse and
# write stages run several tasks per executor and a fault lands on one in flight.
DAY = date(2024, 10, 8)
LINES = 72_000
EVERY_NTH_HOUR = 3
POLL = 0.2


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from generator import TrafficSpec, generate

    day = tmp_path_factory.mktemp("generated")
    generate(TrafficSpec(start=DAY, days=1, lines=LINES, seed=13), str(day), workers=1)
    kept = tmp_path_factory.mktemp("raw")
    for path in sorted(day.rglob("*.log.gz"))[::EVERY_NTH_HOUR]:
        target = kept / path.relative_to(day)
        target.parent.mkdir(parents=True)
        target.write_bytes(path.read_bytes())
    return kept


@pytest.fixture(scope="module")
def ledger() -> Iterator[FaultLedger]:
    book = FaultLedger()
    yield book
    print(
        f"\nworker faults injected: {len(book.injected)} ({', '.join(book.injected)}); "
        f"rows lost: {book.lost}, rows duplicated: {book.duplicated}"
    )


@pytest.fixture
def stack(stack_handle: StackHandle) -> Iterator[StackHandle]:
    """The shared stack, its configured workers running again after the test."""
    yield stack_handle
    for worker in stack_handle.stack.workers[stack_handle.settings.workers :]:
        stack_handle.stack.remove_worker(worker.name)
    stack_handle.stack.up()
    stack_handle.remember()


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=3) as response:
        return json.load(response)


@dataclass
class Driver:
    """The running application, seen through the master and the driver's REST API."""

    master: SparkMaster
    ui_port: int

    def app_id(self) -> str | None:
        apps = self.master.master_json().get("activeapps", [])
        return apps[0]["id"] if apps else None

    def executors(self, app_id: str) -> list[dict[str, Any]]:
        return get_json(f"http://{HOST}:{self.ui_port}/api/v1/applications/{app_id}/executors")

    def busy_executor_on(self, worker: SparkWorker | None) -> tuple[str, str, int] | None:
        """(app, executor id, active tasks) of an executor running tasks on `worker`
        (None: on any worker), or None."""
        app_id = self.app_id()
        if app_id is None:
            return None
        wanted = None if worker is None else executor_ids(worker, app_id)
        for executor in self.executors(app_id):
            if executor["id"] == "driver" or executor["activeTasks"] == 0:
                continue
            if wanted is None or executor["id"] in wanted:
                return app_id, executor["id"], executor["activeTasks"]
        return None


def executor_ids(worker: SparkWorker, app_id: str, finished: bool = False) -> set[str]:
    """Executor ids the worker's own JSON API lists for the application."""
    state = worker.worker_json()
    listed = state["executors"] + (state["finishedexecutors"] if finished else [])
    return {str(e["id"]) for e in listed if e["appid"] == app_id}


class Fault(threading.Thread):
    """Waits for the stage, then for busy executors, then acts; runs beside the ETL run."""

    def __init__(
        self,
        stage: str,
        find_busy: Callable[[], tuple[str, str, int] | None],
        act: Callable[[tuple[str, str, int]], dict[str, Any]],
    ) -> None:
        super().__init__(daemon=True)
        self.stage = stage
        self.find_busy = find_busy
        self.act = act
        self.reached = threading.Event()
        self.done = threading.Event()
        # (app id, executor id, its active tasks) when the fault hit, and when (s).
        self.hit: tuple[str, str, int] | None = None
        self.hit_at: float | None = None
        self.found: dict[str, Any] = {}
        self.error: BaseException | None = None
        self.started_at = time.monotonic()

    def run(self) -> None:
        try:
            self.reached.wait(RUN_TIMEOUT)
            while not self.done.is_set():
                try:
                    busy = self.find_busy()
                except (OSError, ValueError):
                    busy = None  # the driver's UI is starting or gone
                if busy is not None:
                    self.hit, self.hit_at = busy, time.monotonic() - self.started_at
                    self.found = self.act(busy)
                    return
                time.sleep(POLL)
        except BaseException as exc:  # re-raised in the test's thread
            self.error = exc


def run_with_fault(config: Path, fault: Fault) -> Run:
    fault.start()
    try:
        run = run_etl(config, stop_at=fault.stage, stop=fault.reached.set)
    finally:
        fault.done.set()
        fault.reached.set()
        fault.join(DECOMMISSION_WAIT_SECONDS + 60)
    if fault.error is not None:
        raise fault.error
    return run


def spot_settings(handle: StackHandle, name: str) -> Settings:
    """The stack's settings in a namespace of the test's own, with the driver's UI (and its
    REST API) on a free port."""
    base = _settings(handle, name)
    ui_port = free_port_block(1, set())
    spark = base.spark.model_copy(
        update={"ui_enabled": True, "conf": base.spark.conf | {"spark.ui.port": str(ui_port)}}
    )
    return base.model_copy(update={"spark": spark})


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
        except (OSError, ValueError):
            value = None
        if value:
            return value
        time.sleep(POLL)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def master_state(worker: SparkWorker) -> str | None:
    suffix = f":{worker.ui_port}"
    states = [
        w["state"]
        for w in worker.master_json()["workers"]
        if str(w["webuiaddress"]).endswith(suffix)
    ]
    # A restarted worker reuses its UI port: the live entry is the one that is not DEAD.
    return next((s for s in states if s != "DEAD"), None)


def finish(
    handle: StackHandle,
    settings: Settings,
    raw_lines: int,
    run: Run,
    tmp_path: Path,
    book: FaultLedger,
) -> None:
    assert run.returncode == 0, (run.stages, run.stderr[-4000:])
    counts = check_tables(handle, settings, tmp_path, book)
    assert counts["accepted"] + counts["rejected"] == raw_lines


# --- (a) graceful decommission, as the preStop hook does -----------------------------------
def test_worker_decommissioned_mid_run(
    stack: StackHandle, raw: Path, tmp_path: Path, ledger: FaultLedger
) -> None:
    settings = spot_settings(stack, "spot_decommission")
    config = _write_config(settings, tmp_path)
    lines = _upload(stack, settings, raw)
    target = stack.stack.workers[0]
    driver = Driver(stack.stack.master, int(settings.spark.conf["spark.ui.port"]))

    def decommission(busy: tuple[str, str, int]) -> dict[str, Any]:
        app_id = busy[0]
        t0 = time.monotonic()
        assert target.decommission()
        state = wait_for(
            lambda: master_state(target) == "DECOMMISSIONED", 30, "the master to mark it"
        )
        # The hook's wait: until the worker's executors have handed over and exited.
        wait_for(
            lambda: not executor_ids(target, app_id),
            DECOMMISSION_WAIT_SECONDS,
            "its executors to exit",
        )
        drained = time.monotonic() - t0
        outcome = target.stop()  # the kubelet's SIGTERM after the hook
        return {"state": state, "drained_s": drained, "stop": outcome}

    fault = Fault(Stage.WRITE_ROWS, lambda: driver.busy_executor_on(target), decommission)
    run = run_with_fault(config, fault)
    assert fault.hit is not None, f"no task of {target.name} ran after {fault.stage!r}"
    assert fault.found["stop"] == "stopped"
    ledger.injected.append(f"SIGPWR to {target.name}")
    finish(stack, settings, lines, run, tmp_path, ledger)
    print(
        f"\n(a) SIGPWR to {target.name} at {fault.hit_at:.0f} s, executor {fault.hit[1]} "
        f"running {fault.hit[2]} task(s); executors drained in {fault.found['drained_s']:.1f} s; "
        f"run completed in {run.seconds:.0f} s: {run.timings()}"
    )


# --- (b) a spot node lost without notice ---------------------------------------------------
def test_worker_killed_mid_run(
    stack: StackHandle, raw: Path, tmp_path: Path, ledger: FaultLedger
) -> None:
    settings = spot_settings(stack, "spot_kill")
    config = _write_config(settings, tmp_path)
    lines = _upload(stack, settings, raw)
    target = stack.stack.workers[0]
    driver = Driver(stack.stack.master, int(settings.spark.conf["spark.ui.port"]))

    def kill(busy: tuple[str, str, int]) -> dict[str, Any]:
        record = target.running()
        assert record is not None
        return {"outcome": target.kill(), "record": record}

    fault = Fault(Stage.WRITE_ROWS, lambda: driver.busy_executor_on(target), kill)
    run = run_with_fault(config, fault)
    assert fault.hit is not None, f"no task of {target.name} ran after {fault.stage!r}"
    assert fault.found["outcome"] == "stopped"  # SIGKILL: nothing outlives it
    assert fault.found["record"].process() is None
    ledger.injected.append(f"SIGKILL to {target.name}")
    finish(stack, settings, lines, run, tmp_path, ledger)
    print(
        f"\n(b) SIGKILL to {target.name} and its executors at {fault.hit_at:.0f} s, executor "
        f"{fault.hit[1]} running {fault.hit[2]} task(s); run completed in {run.seconds:.0f} s: "
        f"{run.timings()}"
    )


# --- (c) a worker added mid-run gets executors of the running application ----------------
def test_extra_worker_receives_executors_mid_run(
    stack: StackHandle, raw: Path, tmp_path: Path, ledger: FaultLedger
) -> None:
    settings = spot_settings(stack, "spot_scale_up")
    config = _write_config(settings, tmp_path)
    lines = _upload(stack, settings, raw)
    driver = Driver(stack.stack.master, int(settings.spark.conf["spark.ui.port"]))

    def add_worker(busy: tuple[str, str, int]) -> dict[str, Any]:
        app_id = busy[0]
        t0 = time.monotonic()
        report = stack.stack.add_worker()
        stack.remember()
        extra = stack.stack.workers[-1]
        ids = wait_for(lambda: executor_ids(extra, app_id), 60, "an executor on the new worker")
        registered = wait_for(
            lambda: [e for e in driver.executors(app_id) if e["id"] in ids],
            60,
            "the new executor to register with the driver",
        )
        return {
            "worker": extra,
            "report": report,
            "executor_ids": ids,
            "registered": registered,
            "after_s": time.monotonic() - t0,
        }

    # Parse: the first stage with tasks, so the run has most of its work still ahead.
    fault = Fault(Stage.PARSE, lambda: driver.busy_executor_on(None), add_worker)
    run = run_with_fault(config, fault)
    assert fault.hit is not None, "no task ran after 'parse' started"
    app_id = fault.hit[0]
    extra: SparkWorker = fault.found["worker"]
    # The worker's own record of it, after the application ended, and the application's
    # record (History Server REST API over the event log): the same executor.
    assert fault.found["executor_ids"] <= executor_ids(extra, app_id, finished=True)
    history = f"http://{HOST}:{stack.settings.spark_history_port}/api/v1/applications/{app_id}"
    executors = wait_for(
        lambda: get_json(f"{history}/allexecutors"), 60, "the History Server to list the app"
    )
    on_extra = [e for e in executors if e["id"] in fault.found["executor_ids"]]
    assert on_extra, (fault.found["executor_ids"], [e["id"] for e in executors])
    ledger.injected.append(f"{extra.name} started")
    finish(stack, settings, lines, run, tmp_path, ledger)
    tasks = sum(e["totalTasks"] for e in on_extra)
    print(
        f"\n(c) {extra.name} started at {fault.hit_at:.0f} s (ready in "
        f"{fault.found['report'].seconds:.1f} s); executor(s) "
        f"{sorted(fault.found['executor_ids'])} of {app_id} registered with the driver "
        f"{fault.found['after_s']:.1f} s after the start and ran {tasks} task(s); "
        f"run completed in {run.seconds:.0f} s: {run.timings()}"
    )
