"""The whole local stack: start in dependency order (in parallel where possible), report
endpoints, stop by PID.

Start order, in two waves so independent JVMs boot concurrently:
  1. PostgreSQL, S3Proxy, Spark master, History Server
  2. Spark workers (need the master), Hive Metastore (needs PostgreSQL; runs schematool
     once)
Stop order is the reverse (wave by wave): the metastore closes its connections before
PostgreSQL goes.
"""

from __future__ import annotations

import contextlib
import fcntl
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from core.errors import LakehouseError
from core.settings import LocalStackSettings
from local_stack import processes
from local_stack.history import SparkHistory
from local_stack.metastore import Metastore
from local_stack.postgres import Postgres
from local_stack.processes import ProcessRecord
from local_stack.s3server import S3Proxy
from local_stack.service import Layout, ManagedService, ServiceState
from local_stack.setup import Toolchain, prepare
from local_stack.spark_standalone import SparkMaster, SparkWorker


@dataclass(frozen=True)
class StartReport:
    name: str
    endpoint: str
    pid: int
    outcome: str  # "started" | "already running"
    seconds: float


Notify = Callable[[str], None]


class LocalStack:
    def __init__(self, stack: LocalStackSettings, tools: Toolchain | None = None) -> None:
        self.settings = stack
        self.layout = Layout.of(stack)
        self.postgres = Postgres(stack, tools)
        self.s3proxy = S3Proxy(stack, tools)
        self.metastore = Metastore(stack, self.postgres, tools)
        self.master = SparkMaster(stack, tools)
        self.workers = [SparkWorker(stack, i, tools) for i in range(1, stack.workers + 1)]
        self.history = SparkHistory(stack, tools)

    def services(self) -> list[ManagedService]:
        return [
            self.postgres,
            self.s3proxy,
            self.metastore,
            self.master,
            *self.workers,
            self.history,
        ]

    def waves(self) -> list[list[ManagedService]]:
        # Workers before the metastore in wave 2: the metastore's launch blocks on
        # schematool the first time, and the workers can boot meanwhile.
        return [
            [self.postgres, self.s3proxy, self.master, self.history],
            [*self.workers, self.metastore],
        ]

    def service(self, name: str) -> ManagedService:
        for svc in self.services():
            if svc.name == name:
                return svc
        names = ", ".join(s.name for s in self.services())
        raise LakehouseError(f"no service {name!r} in the local stack (one of: {names})")

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """One `up`/`down` at a time per data dir (a second one waits)."""
        self.layout.run.mkdir(parents=True, exist_ok=True)
        with (self.layout.run / "stack.lock").open("w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _with_tools(self, tools: Toolchain) -> None:
        for svc in self.services():
            svc._tools = tools

    def up(self, notify: Notify | None = None) -> list[StartReport]:
        """Start what is not running; wait until everything answers. Idempotent."""
        say = notify or (lambda _msg: None)
        say("checking the toolchain (jars, metastore, PostgreSQL)")
        self._with_tools(prepare(self.settings))
        self.layout.root.mkdir(parents=True, exist_ok=True)
        with self._lock():
            running = {svc.name: svc.running() for svc in self.services()}
            # Every port of every service we would start, checked before starting any.
            for svc in self.services():
                if running[svc.name] is None:
                    svc.check_ports()
            reports: dict[str, StartReport] = {}
            for wave in self.waves():
                launched: list[tuple[ManagedService, ProcessRecord, float]] = []
                for svc in wave:
                    rec = running[svc.name]
                    if rec is not None and svc.answers():
                        reports[svc.name] = StartReport(
                            svc.name, svc.endpoint(), rec.pid, "already running", 0.0
                        )
                        continue
                    t0 = time.monotonic()
                    if rec is None:
                        say(f"starting {svc.name}")
                        rec = svc.launch()
                    launched.append((svc, rec, t0))
                for svc, rec, t0 in launched:
                    say(f"waiting for {svc.name}")
                    try:
                        svc.wait_ready(rec)
                    except LakehouseError:
                        # A JVM that failed its start can linger (non-daemon threads):
                        # stop it so the next `up` starts clean.
                        svc.stop()
                        raise
                    reports[svc.name] = StartReport(
                        svc.name, svc.endpoint(), rec.pid, "started", time.monotonic() - t0
                    )
            return [reports[svc.name] for svc in self.services()]

    def add_worker(self, notify: Notify | None = None) -> StartReport:
        """Start one more Spark worker next to the configured ones, as a scale-up adds a spot
        node; it is stopped by `down` like the others. Its UI port is the next one after
        the configured workers' (`spark_worker_ui_port` + index - 1): that port must be free.
        """
        say = notify or (lambda _msg: None)
        tools = prepare(self.settings)
        with self._lock():
            taken = {w.index for w in self.workers}
            # Records too: a worker added by another LocalStack object on this data dir.
            prefix = SparkWorker.name_prefix
            for path in self.layout.run.glob(f"{prefix}*.json"):
                suffix = path.stem.removeprefix(prefix)
                if suffix.isdigit():
                    taken.add(int(suffix))
            worker = SparkWorker(self.settings, max(taken) + 1, tools)
            worker.check_ports()
            say(f"starting {worker.name}")
            t0 = time.monotonic()
            rec = worker.launch()
            self.workers.append(worker)
            try:
                worker.wait_ready(rec)
            except LakehouseError:
                self.remove_worker(worker.name)
                raise
            return StartReport(
                worker.name, worker.endpoint(), rec.pid, "started", time.monotonic() - t0
            )

    def remove_worker(self, name: str) -> str:
        """Stop a worker by its PID record and forget it (the configured count is unchanged)."""
        worker = next((w for w in self.workers if w.name == name), None)
        if worker is None:
            raise LakehouseError(f"no Spark worker {name!r} in this stack")
        self.workers.remove(worker)
        return worker.stop()

    def status(self) -> list[ServiceState]:
        return [svc.state() for svc in self.services()]

    def down(self, notify: Notify | None = None) -> list[tuple[str, str]]:
        """Stop every process this data dir's PID records name; nothing else."""
        say = notify or (lambda _msg: None)
        outcomes: list[tuple[str, str]] = []
        with self._lock():
            # Wave by wave in reverse (the metastore before PostgreSQL), each wave's
            # services concurrently: a JVM takes ~2 s to run its shutdown hooks.
            for wave in reversed(self.waves()):
                for svc in wave:
                    if svc.record_path.exists():
                        say(f"stopping {svc.name}")
                with ThreadPoolExecutor(max_workers=len(wave)) as pool:
                    results = list(pool.map(lambda svc: (svc.name, svc.stop()), wave))
                outcomes += results
            # Records of services no longer configured (e.g. `workers` was lowered).
            known = {svc.record_path for svc in self.services()}
            for path in sorted(self.layout.run.glob("*.json")):
                if path in known:
                    continue
                rec = ProcessRecord.read(path)
                if rec is not None:
                    say(f"stopping {rec.service}")
                    outcomes.append((rec.service, processes.stop(rec)))
                path.unlink(missing_ok=True)
        return outcomes

    def all_pids(self) -> list[int]:
        """PIDs of every stack process and its children (for listening-socket checks)."""
        pids: list[int] = []
        for svc in self.services():
            rec = svc.running()
            if rec is not None:
                pids += processes.group_pids(rec)
        return pids


def log_path(stack: LocalStackSettings, service: str) -> Path:
    return Layout.of(stack).log(service)
