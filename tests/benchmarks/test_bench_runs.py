"""`make bench` works from a fresh clone: the harness runs end to end at a tiny size and
reports every stage and baseline. It asserts what is reported, never how fast."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import peer
from benchmarks.run import STAGE_GROUPS

pytestmark = [pytest.mark.spark, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]


def test_bench_reports_stages_baselines_and_memory(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.run",
            "--lines",
            "20000",
            "--work",
            str(tmp_path / "work"),
            "--json",
            str(out),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    (result,) = json.loads(out.read_text())
    assert result["lines"] == 20_000
    assert result["files"] == 48  # two days of hourly files
    stages = set(result["etl_stages"])
    assert {"parse", "write rows", "write reports"} <= stages
    assert stages <= {name for names in STAGE_GROUPS.values() for name in names}
    assert result["peak_jvm_mb"] > 0 and result["peak_python_mb"] > 0
    for step in (
        "generate (gzip level 1, all cores)",
        "baseline: gzip the same bytes (all cores)",
        "baseline: decompression bound (all cores)",
        "baseline: DuckDB parse + daily/weekly top IPs",
        "ETL: parse + enrich",
        "ETL: Iceberg write",
        "ETL: reports",
        *(f"honest peer: {part}" for part in peer.PARTS),
        "**honest peer total (DuckDB, the ETL's work)**",
    ):
        assert f"| {step} |" in proc.stdout, step
    assert "ETL lines/s vs the decompression bound" in proc.stdout
    assert "ETL time vs DuckDB" in proc.stdout
    assert tuple(result["honest_peer_parts"]) == peer.PARTS
    assert result["honest_peer_s"] > 0
    assert "ETL / honest peer" in proc.stdout and "ETL / old peer" in proc.stdout
    assert "goal: ETL / honest peer <= 3x (moonshot 1.5x)" in proc.stdout
