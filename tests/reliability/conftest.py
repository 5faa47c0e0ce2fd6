"""Helpers to run the ETL as a separate process and kill it at a chosen stage."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TOP_N = 5


def start_etl(root: Path, *extra: str) -> subprocess.Popen[str]:
    """`extra`: more arguments of etl_child (max files per batch)."""
    # A new session: SIGKILL to the group takes the driver's JVM down with the Python side.
    return subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.etl_child", str(root), str(TOP_N), *extra],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )


def kill_at_stage(root: Path, stage: str, delay: float) -> str:
    """Run the ETL; SIGKILL it `delay` seconds after `stage` starts. Returns the stages seen."""
    proc = start_etl(root)
    seen = []
    assert proc.stdout is not None
    for line in proc.stdout:
        seen.append(line.strip())
        if line.strip() == f"STAGE {stage}":
            time.sleep(delay)
            os.killpg(proc.pid, signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert f"STAGE {stage}" in seen, f"never reached {stage!r}: {seen}"
    return "\n".join(seen)


def run_to_completion(root: Path, *extra: str) -> str:
    proc = start_etl(root, *extra)
    out, _ = proc.communicate(timeout=900)
    assert proc.returncode == 0, out
    return out
