"""Two ETL runs started at once on the same input: no duplicate, no lost row."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from core import runtimes
from generator import TrafficSpec, generate
from tests.pipeline.checks import assert_tables_match_input
from tests.reliability.conftest import TOP_N, start_etl

pytestmark = [pytest.mark.slow]


def test_two_overlapping_runs(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    generate(
        TrafficSpec(start=date(2024, 10, 14), days=2, lines=20_000, seed=5), str(root / "input")
    )
    first, second = start_etl(root), start_etl(root)
    outputs = [p.communicate(timeout=900)[0] for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], outputs
    base = runtimes.embedded(root)
    settings = base.model_copy(update={"etl": base.etl.model_copy(update={"top_n": TOP_N})})
    counts = assert_tables_match_input(settings, TOP_N)
    assert counts["accepted"] == 20_000
