"""The workers' preStop hook, run for real in a private PID namespace where a stand-in for
the worker JVM is PID 1 (as tini is in the pod) and a stand-in executor is its child.

Needs `unshare` (util-linux) with user and PID namespaces: skipped where they are missing,
failed in CI (tests/tools.py).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.tools import require_tool
from workloads.spark_cluster import DECOMMISSION_WAIT_SECONDS, PRESTOP_DECOMMISSION

# PID 1: starts an "executor", and on SIGPWR lets it finish migrating after `linger` seconds
# (never, if negative). Then runs the hook and reports when it returned.
FAKE_WORKER = """
import signal, subprocess, sys, time
marker, linger, hook = sys.argv[1], float(sys.argv[2]), sys.argv[3]
executor = subprocess.Popen(
    [sys.executable, "-c", "import time; time.sleep(60)", "CoarseGrainedExecutorBackend"]
)

def decommission(signum, frame):
    open(marker, "w").write("SIGPWR")
    if linger >= 0:
        subprocess.Popen(["sh", "-c", f"sleep {linger}; kill {executor.pid}"])

signal.signal(signal.SIGPWR, decommission)
start = time.monotonic()
subprocess.run(["/bin/sh", "-c", hook], check=True)
print(f"{time.monotonic() - start:.1f}")
executor.kill()
"""


def pid_namespace_available() -> bool:
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--pid", "--fork", "--mount-proc", "true"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


@pytest.fixture(autouse=True)
def _needs_pid_namespaces() -> None:
    require_tool(pid_namespace_available(), "needs `unshare` with user + PID namespaces")


def run_hook(tmp_path: Path, linger: float, hook: str = PRESTOP_DECOMMISSION) -> tuple[str, float]:
    worker = tmp_path / "worker.py"  # a file: its source must not be on PID 1's command line
    worker.write_text(FAKE_WORKER)
    marker = tmp_path / "marker"
    marker.write_text("")
    result = subprocess.run(
        [
            "unshare",
            "--user",
            "--map-root-user",
            "--pid",
            "--fork",
            "--mount-proc",
            sys.executable,
            str(worker),
            str(marker),
            str(linger),
            hook,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return marker.read_text(), float(result.stdout.strip())


def test_the_hook_signals_pid_1_and_returns_when_the_executors_are_done(tmp_path: Path) -> None:
    signal, seconds = run_hook(tmp_path, linger=1)
    assert signal == "SIGPWR"
    assert 1 <= seconds < 6  # polls every 2 s


def test_the_hook_gives_up_after_its_wait(tmp_path: Path) -> None:
    # Same script with a 4 s cap instead of DECOMMISSION_WAIT_SECONDS.
    capped = PRESTOP_DECOMMISSION.replace(f"-lt {DECOMMISSION_WAIT_SECONDS} ", "-lt 4 ")
    assert capped != PRESTOP_DECOMMISSION
    start = time.monotonic()
    signal, seconds = run_hook(tmp_path, linger=-1, hook=capped)
    assert signal == "SIGPWR"
    assert 4 <= seconds < 8
    assert time.monotonic() - start < 30
