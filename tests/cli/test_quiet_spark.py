"""A command that starts Spark prints its result and nothing from log4j or Spark's start-up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pyiceberg.catalog import load_catalog

from core import runtimes
from core.properties import pyiceberg_properties

REPO = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.spark]


def test_spark_query_prints_its_result_and_no_log_lines(tmp_path: Path) -> None:
    root = tmp_path / "lakehouse"
    root.mkdir()
    settings = runtimes.embedded(root)
    load_catalog(settings.catalog.name, **pyiceberg_properties(settings)).create_namespace("logs")
    env = {k: v for k, v in os.environ.items() if k != "LAKEHOUSE_CONFIG"}
    env["PYTHONPATH"] = str(REPO)
    command = ["query", "--engine", "spark", "SELECT 41 + 1 AS answer", "--format", "csv"]
    done = subprocess.run(
        [sys.executable, "-m", "cli.app", *command, "--root", str(root)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "answer\n42\n"
    assert done.stderr == ""
