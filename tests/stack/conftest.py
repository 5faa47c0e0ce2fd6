"""A local stack for the whole test session: free ports, a temp data dir, always stopped.

The stack is started once (cold start ~1 min) and shared by the tests in this package;
the finaliser stops every process it started, by PID, whatever happened.
"""

from __future__ import annotations

import random
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.settings import LocalStackSettings, render_stack_toml
from local_stack.lifecycle import LocalStack
from local_stack.processes import ProcessRecord, port_is_free

HOST = "127.0.0.1"
WORKERS = 2


def free_port_block(count: int, taken: set[int]) -> int:
    """First port of `count` consecutive ports free on loopback (and not already chosen)."""
    rng = random.Random()
    for _ in range(500):
        base = rng.randrange(20000, 60000 - count)
        block = range(base, base + count)
        if taken.isdisjoint(block) and all(port_is_free(HOST, p) for p in block):
            taken.update(block)
            return base
    raise RuntimeError("no free loopback ports found for the test stack")


def make_settings(data_dir: Path, **overrides: int) -> LocalStackSettings:
    taken: set[int] = set()
    ports = {
        name: free_port_block(1, taken)
        for name in (
            "postgres_port",
            "metastore_port",
            "s3_port",
            "spark_master_port",
            "spark_master_ui_port",
            "spark_history_port",
        )
    }
    # One spare UI port: tests/stack/test_spot_workers.py starts an extra worker.
    ports["spark_worker_ui_port"] = free_port_block(WORKERS + 1, taken)
    ports |= overrides
    return LocalStackSettings(data_dir=data_dir, workers=WORKERS, worker_memory="1g", **ports)


def make_data_dir(prefix: str) -> Path:
    # Under /tmp and world-traversable: as root, PostgreSQL runs as `postgres` and must reach
    # its cluster directory (pytest's own tmp dirs are private to root).
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    path.chmod(0o755)
    return path


class StackHandle:
    """The running test stack plus every process record it ever had (for the final check)."""

    def __init__(self, settings: LocalStackSettings, config_file: Path) -> None:
        self.settings = settings
        self.config_file = config_file
        self.stack = LocalStack(settings)
        self.seen: dict[str, ProcessRecord] = {}

    def remember(self) -> None:
        for svc in self.stack.services():
            rec = svc.running()
            if rec is not None:
                self.seen[f"{svc.name}:{rec.pid}"] = rec


@pytest.fixture(scope="session")
def stack_handle() -> Iterator[StackHandle]:
    data_dir = make_data_dir("lakehouse-stack-test-")
    settings = make_settings(data_dir / "data")
    config_file = data_dir / "stack.toml"
    config_file.write_text(render_stack_toml(settings))
    handle = StackHandle(settings, config_file)
    try:
        t0 = time.monotonic()
        handle.stack.up()
        print(f"\ncold up (empty data dir): {time.monotonic() - t0:.1f} s")
        handle.remember()
        yield handle
    finally:
        handle.remember()
        handle.stack.down()
        leftovers = [key for key, rec in handle.seen.items() if rec.process() is not None]
        shutil.rmtree(data_dir, ignore_errors=True)
        assert not leftovers, f"stack processes still running after down: {leftovers}"
