"""Same seed and parameters, same bytes, whatever the number of worker processes."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from generator import TrafficSpec, generate
from tests.generator.conftest import gz_files

SPEC = TrafficSpec(
    start=dt.date(2024, 3, 30),
    days=2,
    lines=30_000,
    seed=1234,
    files_per_hour=2,
    utc_offset_minutes=120,
)


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in gz_files(root)}


def test_same_seed_same_bytes_with_one_or_two_workers(tmp_path: Path) -> None:
    progress: list[int] = []
    one = generate(SPEC, str(tmp_path / "a"), workers=1)
    two = generate(SPEC, str(tmp_path / "b"), workers=2, on_progress=progress.append)
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")
    assert len(_tree(tmp_path / "a")) == 2 * 24 * 2
    assert (one.lines, one.bytes_raw, one.bytes_compressed) == (
        two.lines,
        two.bytes_raw,
        two.bytes_compressed,
    )
    assert sum(progress) == SPEC.lines and len(progress) == len(two.files)
    assert [f.replace("/b/", "/a/") for f in two.files] == one.files  # time order kept


def test_a_different_seed_gives_different_traffic(tmp_path: Path) -> None:
    generate(SPEC, str(tmp_path / "a"), workers=1)
    generate(dataclasses.replace(SPEC, seed=1235), str(tmp_path / "b"), workers=1)
    a, b = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    assert a.keys() == b.keys()  # same layout...
    assert all(a[name] != b[name] for name in a)  # ...different content in every file


def test_other_parameters_change_the_output_too(tmp_path: Path) -> None:
    generate(SPEC, str(tmp_path / "a"), workers=1)
    generate(dataclasses.replace(SPEC, utc_offset_minutes=0), str(tmp_path / "b"), workers=1)
    assert _tree(tmp_path / "a") != _tree(tmp_path / "b")
