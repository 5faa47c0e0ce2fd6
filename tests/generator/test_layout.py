"""Files land in the raw layout, one UTC hour each, with counts adding up exactly."""

from __future__ import annotations

import datetime as dt
import gzip
import re
from pathlib import Path

import pytest

from generator import TrafficSpec, generate
from generator.traffic import plan_files
from tests.generator.conftest import Sample, gz_files, read_lines

LAYOUT = re.compile(
    r"nginx/dt=(\d{4}-\d{2}-\d{2})/hour=(\d{2})/"
    r"access-(?P<host>[\w.-]+)-(\d{10})(?:-(?P<part>\d{2}))?\.log\.gz"
)


def test_layout_names_and_counts(sample: Sample) -> None:
    result = sample.result
    paths = gz_files(sample.root)
    assert [str(p) for p in paths] == result.files  # reported in time order
    assert len(paths) == sample.spec.days * 24
    for path in paths:
        match = LAYOUT.fullmatch(path.relative_to(sample.root).as_posix())
        assert match, path
        day, hour, stamp = match.group(1), match.group(2), match.group(4)
        assert stamp == day.replace("-", "") + hour  # the name says the same UTC hour
        assert match["host"] == "web-1" and match["part"] is None
    days = sorted({p.parent.parent.name for p in paths})
    assert days == ["dt=2024-10-07", "dt=2024-10-08"]
    assert sum(len(lines) for lines in sample.lines.values()) == sample.spec.lines
    assert result.lines == sample.spec.lines


def test_reported_sizes_are_the_files_sizes(sample: Sample) -> None:
    assert sample.result.bytes_compressed == sum(p.stat().st_size for p in gz_files(sample.root))
    raw = sum(len(gzip.decompress(p.read_bytes())) for p in gz_files(sample.root))
    assert sample.result.bytes_raw == raw
    assert sample.result.seconds > 0
    assert not [p for p in sample.root.rglob("*") if p.is_file() and p.suffix != ".gz"]


def test_gzip_members_are_plain_and_reproducible(sample: Sample) -> None:
    data = next(iter(gz_files(sample.root))).read_bytes()
    assert data[:3] == b"\x1f\x8b\x08"
    assert data[3] == 0  # no file name or comment in the header
    assert data[4:8] == b"\0\0\0\0"  # mtime 0: same bytes on every run


@pytest.mark.parametrize("files_per_hour", [1, 3])
def test_files_per_hour(tmp_path: Path, files_per_hour: int) -> None:
    spec = TrafficSpec(
        start=dt.date(2024, 2, 28),
        days=2,
        lines=9_001,
        seed=3,
        files_per_hour=files_per_hour,
        host="edge-7.eu",
    )
    result = generate(spec, str(tmp_path), workers=1)
    paths = gz_files(tmp_path)
    assert len(paths) == 48 * files_per_hour == len(result.files)
    per_hour: dict[Path, list[str]] = {}
    for path in paths:
        match = LAYOUT.fullmatch(path.relative_to(tmp_path).as_posix())
        assert match and match["host"] == "edge-7.eu"
        assert (match["part"] is None) == (files_per_hour == 1)
        per_hour.setdefault(path.parent, []).append(path.name)
    assert all(len(names) == files_per_hour for names in per_hour.values())
    # The parts of one hour are near-equal shares of it.
    counts = {p: len(read_lines(p)) for p in paths}
    assert sum(counts.values()) == spec.lines == result.lines
    for hour_dir in per_hour:
        sizes = [n for p, n in counts.items() if p.parent == hour_dir]
        assert max(sizes) - min(sizes) <= 1
    assert {p.parent.parent.name for p in paths} == {"dt=2024-02-28", "dt=2024-02-29"}


@pytest.mark.parametrize("lines", [0, 1, 7, 24, 1_000])
def test_counts_add_up_exactly_for_any_volume(tmp_path: Path, lines: int) -> None:
    spec = TrafficSpec(start=dt.date(2024, 10, 7), days=1, lines=lines, seed=1)
    assert sum(p.lines for p in plan_files(spec)) == lines
    result = generate(spec, str(tmp_path), workers=1)
    assert result.lines == lines
    # Hours that get no line produce no file; the others hold exactly their share.
    assert sum(len(read_lines(p)) for p in gz_files(tmp_path)) == lines
    assert len(result.files) == sum(1 for p in plan_files(spec) if p.lines)


def _relative(files: list[str], root: Path) -> list[str]:
    return [f.split(str(root), 1)[1] for f in files]


def test_destinations_plain_path_and_file_uris(tmp_path: Path) -> None:
    spec = TrafficSpec(start=dt.date(2024, 10, 7), days=1, lines=2_000, seed=8)
    plain = generate(spec, str(tmp_path / "plain"), workers=1)
    uri = generate(spec, (tmp_path / "uri").as_uri(), workers=1)  # file:///abs
    short = generate(spec, f"file:{tmp_path / 'short'}", workers=1)  # file:/abs
    assert all(f.startswith(str(tmp_path / "plain") + "/") for f in plain.files)
    assert all(f.startswith((tmp_path / "uri").as_uri() + "/") for f in uri.files)
    assert all(f.startswith("file:///") for f in short.files)
    assert (
        _relative(plain.files, tmp_path / "plain")
        == _relative(uri.files, tmp_path / "uri")
        == _relative(short.files, tmp_path / "short")
    )
    for name in ("plain", "uri", "short"):
        assert [p.read_bytes() for p in gz_files(tmp_path / name)] == [
            p.read_bytes() for p in gz_files(tmp_path / "plain")
        ]


def test_relative_destination_is_resolved_and_rerun_overwrites(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    spec = TrafficSpec(start=dt.date(2024, 10, 7), days=1, lines=500, seed=8)
    first = generate(spec, "out", workers=1)
    again = generate(spec, "out", workers=1)
    assert first.files == again.files
    assert all(Path(f).is_absolute() and Path(f).exists() for f in first.files)
    assert len(gz_files(tmp_path / "out")) == len(first.files)


def test_progress_reports_every_line_once(tmp_path: Path) -> None:
    seen: list[int] = []
    spec = TrafficSpec(start=dt.date(2024, 10, 7), days=1, lines=5_000, seed=2)
    generate(spec, str(tmp_path), workers=1, on_progress=seen.append)
    assert sum(seen) == 5_000 and len(seen) == 24
