"""Kill the ETL (SIGKILL, driver and JVM) at several points; a re-run ends exactly like one
clean run: same rows, same reports, nothing lost or doubled. Then `maintain` removes what
the killed run left behind, without changing any table."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from core import runtimes
from generator import TrafficSpec, generate
from tests.pipeline.checks import assert_tables_match_input, table_rows
from tests.reliability.conftest import TOP_N, kill_at_stage, run_to_completion, start_etl

pytestmark = [pytest.mark.slow]

# (stage that has just started, seconds to wait before SIGKILL)
KILL_POINTS = [
    ("parse", 1.5),  # while lines are being parsed and staged
    ("write rows", 2.0),  # inside the Iceberg MERGEs / commits (rows, aggregates)
    ("write reports", 0.0),  # access_logs committed, reports not yet
    ("record ingested files", 0.0),  # reports written, ledger not yet
]


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("raw")
    generate(TrafficSpec(start=date(2024, 10, 13), days=2, lines=30_000, seed=3), str(raw))
    return raw


def _fresh_root(tmp_path: Path, logs: Path) -> Path:
    root = tmp_path / "lake"
    shutil.copytree(logs, root / "input")
    return root


def _settings(root: Path) -> Any:
    base = runtimes.embedded(root)
    return base.model_copy(update={"etl": base.etl.model_copy(update={"top_n": TOP_N})})


@pytest.mark.parametrize(("stage", "delay"), KILL_POINTS, ids=[k[0] for k in KILL_POINTS])
def test_killed_run_then_rerun_equals_one_clean_run(
    tmp_path: Path, logs: Path, stage: str, delay: float
) -> None:
    root = _fresh_root(tmp_path, logs)
    kill_at_stage(root, stage, delay)
    run_to_completion(root)
    assert_tables_match_input(_settings(root), TOP_N)


def test_maintenance_removes_leftovers_and_keeps_rows(tmp_path: Path, logs: Path) -> None:
    root = _fresh_root(tmp_path, logs)
    kill_at_stage(root, "write rows", 2.0)
    run_to_completion(root)
    settings = _settings(root)
    before = {name: table_rows(settings, name) for name in ("access_logs", "daily_top_ips")}
    warehouse = Path(settings.storage.warehouse_uri.removeprefix("file://"))
    files_before = sum(1 for p in warehouse.rglob("*.parquet"))

    # The real command, in its own process (its catalog is this root's).
    maintain = subprocess.run(
        [
            sys.executable,
            "-c",
            "from cli.app import main; main()",
            "maintain",
            "--root",
            str(root),
            "--orphan-grace-minutes",
            "0",
            "--snapshot-age-days",
            "0",
            "--retain-last",
            "1",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert maintain.returncode == 0, maintain.stderr[-2000:]
    # The killed commit's data files are leftovers maintenance must find. A run stages
    # nothing on disk any more (it parses once into Spark's cache), so no staging directory.
    assert "orphan files and 0 stale staging directories" in maintain.stdout, maintain.stdout

    # Small files compacted, and the files only older snapshots referenced are gone.
    assert sum(1 for p in warehouse.rglob("*.parquet")) < files_before
    for name, rows in before.items():
        assert sorted(map(str, table_rows(settings, name))) == sorted(map(str, rows)), name
    assert_tables_match_input(settings, TOP_N)
    staging = Path(settings.storage.processed_uri.removeprefix("file://")) / "staging"
    assert not staging.exists() or not any(staging.iterdir())


def test_killed_mid_backlog_resumes_at_the_next_batch(tmp_path: Path, logs: Path) -> None:
    root = _fresh_root(tmp_path, logs)
    files = sorted(str(p.resolve()) for p in (root / "input").rglob("*.gz"))
    assert len(files) == 48  # two days of hourly files: three batches of 16
    proc = start_etl(root, "16")
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line.strip())
        if line.startswith("STAGE batch 2 of 3"):
            # The first batch is committed, ledger included; the second has not started.
            os.killpg(proc.pid, signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert any(s.startswith("STAGE batch 2 of 3") for s in seen), seen
    settings = _settings(root)
    done = sorted(_path(r["source_file"]) for r in table_rows(settings, "ingested_files"))
    assert done == files[:16]

    # The re-run has only the 32 files left to do: two batches.
    out = run_to_completion(root, "16")
    assert "STAGE batch 1 of 2" in out and "batch 3" not in out, out
    counts = assert_tables_match_input(settings, TOP_N)
    assert counts["accepted"] + counts["rejected"] == 30_000


def _path(uri: str) -> str:
    # The ledger holds Hadoop's `file:/x`.
    return "/" + uri.removeprefix("file:").lstrip("/")
