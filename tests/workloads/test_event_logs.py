"""Spark's event-log directory: created by the ETL job before each run, awaited by the
History Server (both Spark processes exit at start if it is missing). The snippets run here
for real with pyarrow, on file:// URIs instead of s3a://."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from core.settings import Settings
from tests.pulumi_mocks import Deployment
from tests.workloads.conftest import IMAGES
from tests.workloads.pods import pod_of
from workloads.event_logs import ENSURE_SCRIPT, WAIT_SCRIPT


def run(script: str, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_the_etl_creates_the_directory_before_the_driver_starts(
    deployment: Deployment, settings: Settings
) -> None:
    pod = pod_of(deployment, "CronJob", "etl")
    [init] = pod["initContainers"]
    assert init["command"] == ["python", "-c", ENSURE_SCRIPT]
    assert init["args"] == [settings.spark.event_log_dir]
    assert init["image"] == IMAGES["spark"]  # pyarrow and the ETL's write access
    assert pod["serviceAccountName"] == "etl"


def test_the_history_server_waits_for_the_directory(
    deployment: Deployment, settings: Settings
) -> None:
    [init] = pod_of(deployment, "Deployment", "spark-history")["initContainers"]
    assert init["command"] == ["python", "-c", WAIT_SCRIPT]
    assert init["args"] == [settings.spark.event_log_dir]


def test_creating_is_idempotent(tmp_path: Path) -> None:
    uri = (tmp_path / "processed" / "spark-events").as_uri()
    for _ in range(2):
        result = run(ENSURE_SCRIPT, uri)
        assert result.returncode == 0, result.stderr
    assert (tmp_path / "processed" / "spark-events").is_dir()


def test_waiting_ends_once_the_directory_exists(tmp_path: Path) -> None:
    target = tmp_path / "spark-events"
    uri = target.as_uri()
    waiting = subprocess.Popen(
        [sys.executable, "-c", WAIT_SCRIPT, uri, "1"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert waiting.stdout is not None
        assert "waiting for the first ETL run" in waiting.stdout.readline()
        assert waiting.poll() is None  # still waiting
        target.mkdir()
        assert waiting.wait(timeout=20) == 0
    finally:
        waiting.kill()
