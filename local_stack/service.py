"""What every local-stack service is: a detached process with ports, a readiness probe, a PID.

`ManagedService` holds the common life cycle (port check, spawn, wait, stop by PID);
each module (postgres, s3server, metastore, spark_standalone, history) fills in the
command line and the probe.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Protocol

from core.settings import LocalStackSettings
from local_stack import processes
from local_stack.processes import ProcessRecord
from local_stack.setup import Toolchain

# JVM flags for the stack's long-running servers: C1 only and the serial collector. They
# start faster and use less CPU and memory on a small machine (6 JVMs on 2 cores); these
# servers are light, so C2's peak speed is not worth its compile time here. Spark
# executors are not affected (they get the driver's settings).
SMALL_JVM_FLAGS = ["-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"]


@dataclass(frozen=True)
class PortSpec:
    port: int
    # Name of the LocalStackSettings field, so a conflict message says what to change.
    setting: str


@dataclass(frozen=True)
class Layout:
    """Where the stack keeps things: everything under one (git-ignored) data directory."""

    root: Path

    @classmethod
    def of(cls, stack: LocalStackSettings) -> Layout:
        return cls(stack.data_dir.resolve())

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def record(self, service: str) -> Path:
        return self.run / f"{service}.json"

    def log(self, service: str) -> Path:
        return self.logs / f"{service}.log"


@dataclass(frozen=True)
class ServiceState:
    name: str
    pid: int | None
    ports: list[int]
    up: bool
    endpoint: str
    rss_bytes: int = 0


class Service(Protocol):
    name: str

    def ports(self) -> list[PortSpec]: ...
    def endpoint(self) -> str: ...
    def running(self) -> ProcessRecord | None: ...
    def launch(self) -> ProcessRecord: ...
    def wait_ready(self, record: ProcessRecord) -> float: ...
    def answers(self) -> bool: ...
    def stop(self) -> str: ...
    def kill(self) -> str: ...
    def state(self) -> ServiceState: ...


class ManagedService:
    """Base class: subclasses define `name`, `command()`, `answers()` and `ports()`."""

    name: str = ""
    ready_timeout: ClassVar[float] = 90.0
    stop_signal: ClassVar[signal.Signals] = signal.SIGTERM
    stop_timeout: ClassVar[float] = 20.0
    # False: the first signal goes to the leader only (it stops its own children).
    signal_group: ClassVar[bool] = True
    # Run as this OS user when we are root (PostgreSQL refuses to run as root).
    run_as: str | None = None

    def __init__(self, stack: LocalStackSettings, tools: Toolchain | None = None) -> None:
        self.stack = stack
        self.layout = Layout.of(stack)
        self.host = stack.host
        # None for `status` / `down`: they must work without downloads or a JDK.
        self._tools = tools

    @property
    def tools(self) -> Toolchain:
        if self._tools is None:
            raise RuntimeError(f"{self.name}: launching needs the toolchain from setup.prepare()")
        return self._tools

    # --- to override -------------------------------------------------------------------
    def ports(self) -> list[PortSpec]:
        raise NotImplementedError

    def command(self) -> list[str]:
        raise NotImplementedError

    def environment(self) -> dict[str, str]:
        return {}

    def answers(self) -> bool:
        return all(processes.tcp_answers(self.host, p.port) for p in self.ports())

    def endpoint(self) -> str:
        return ", ".join(f"{self.host}:{p.port}" for p in self.ports())

    def before_launch(self) -> None:
        """Write config, create directories, initialise data (must be idempotent)."""

    def after_ready(self) -> None:
        """Create what clients expect (buckets, roles); idempotent."""

    # --- common life cycle -------------------------------------------------------------
    @property
    def record_path(self) -> Path:
        return self.layout.record(self.name)

    @property
    def log_path(self) -> Path:
        return self.layout.log(self.name)

    def running(self) -> ProcessRecord | None:
        rec = ProcessRecord.read(self.record_path)
        if rec is not None and rec.process() is not None:
            return rec
        return None

    def check_ports(self) -> None:
        for spec in self.ports():
            processes.require_free_port(self.host, spec.port, spec.setting, self.name)

    def launch(self) -> ProcessRecord:
        self.before_launch()
        return processes.spawn(
            self.name,
            self.command(),
            log=self.log_path,
            record=self.record_path,
            env=self.environment(),
            cwd=self.layout.root,
            user=self.effective_user(),
        )

    def wait_ready(self, record: ProcessRecord) -> float:
        started = time.monotonic()
        processes.wait_until(
            self.answers, service=self.name, timeout=self.ready_timeout, record=record
        )
        self.after_ready()
        return time.monotonic() - started

    def stop(self) -> str:
        rec = ProcessRecord.read(self.record_path)
        if rec is None:
            return "not running"
        outcome = processes.stop(
            rec, sig=self.stop_signal, signal_group=self.signal_group, timeout=self.stop_timeout
        )
        self.record_path.unlink(missing_ok=True)
        return outcome

    def kill(self) -> str:
        """SIGKILL the process and everything it started, with no shutdown hooks: what a
        reclaimed spot node does to its pods. The record stays; `up` starts it again."""
        rec = self.running()
        if rec is None:
            return "not running"
        return processes.stop(rec, sig=signal.SIGKILL, timeout=5.0)

    def state(self) -> ServiceState:
        rec = self.running()
        return ServiceState(
            name=self.name,
            pid=rec.pid if rec else None,
            ports=[p.port for p in self.ports()],
            up=bool(rec) and self.answers(),
            endpoint=self.endpoint(),
            rss_bytes=processes.rss_bytes(rec) if rec else 0,
        )

    def effective_user(self) -> str | None:
        return self.run_as if (self.run_as and os.geteuid() == 0) else None
