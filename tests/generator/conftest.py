"""One generated sample shared by the format, layout and distribution tests."""

from __future__ import annotations

import datetime as dt
import gzip
from dataclasses import dataclass
from pathlib import Path

import pytest

from generator import GenerateResult, TrafficSpec, generate
from tests.generator import reference

SAMPLE_SPEC = TrafficSpec(start=dt.date(2024, 10, 7), days=2, lines=120_000, seed=11)


@dataclass(frozen=True)
class Sample:
    root: Path
    spec: TrafficSpec
    result: GenerateResult
    lines: dict[Path, list[str]]  # per file, in file order
    records: dict[Path, list[reference.Record]]

    def all_records(self) -> list[reference.Record]:
        return [r for records in self.records.values() for r in records]


def read_lines(path: Path) -> list[str]:
    with gzip.open(path, "rt", encoding="ascii", newline="") as f:
        text = f.read()
    assert text.endswith("\n"), f"{path}: last line not terminated"
    return text[:-1].split("\n")


def gz_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.log.gz"))


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    root = tmp_path_factory.mktemp("generated")
    result = generate(SAMPLE_SPEC, str(root), workers=1)
    lines = {path: read_lines(path) for path in gz_files(root)}
    records = {
        path: [reference.parse(line) for line in file_lines] for path, file_lines in lines.items()
    }
    return Sample(root, SAMPLE_SPEC, result, lines, records)
